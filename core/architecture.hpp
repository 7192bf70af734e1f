// The shape of a multilayer perceptron: a chain of dense layers, each with
// its unit activation. Plain data, shared by the engine, the model file and
// (later) the cross-rank agreement check.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "core/activation.hpp"

namespace sinapsis {

struct LayerSpec {
  std::size_t fan_in = 0;
  std::size_t fan_out = 0;
  Activation activation = Activation::linear;
  double step_threshold = 0;  // used by step units only: fire when z >= threshold

  bool operator==(const LayerSpec&) const = default;
};

struct Architecture {
  std::vector<LayerSpec> layers;

  // inputs -> hidden[0] -> ... -> hidden[h-1] -> outputs. `hidden` may be empty.
  static Architecture mlp(std::size_t inputs, std::span<const std::size_t> hidden,
                          Activation hidden_activation, std::size_t outputs,
                          Activation output_activation);

  std::size_t inputs() const { return layers.front().fan_in; }
  std::size_t outputs() const { return layers.back().fan_out; }
  Activation output_activation() const { return layers.back().activation; }
  // Weights, and weights plus biases. Sizes come from options and files and
  // can be absurd: these throw ModelError naming the layer when the count
  // does not fit in a size_t, instead of wrapping to a small number that a
  // buffer would then be allocated with. validate() checks it, so for the
  // architecture of a built Model they cannot throw.
  std::size_t weight_count() const;
  std::size_t parameter_count() const;
  // Units of every layer, hidden and output: the values a workspace holds
  // per sample (<= parameter_count(): every unit has a bias).
  std::size_t unit_count() const;
  // "2-4-1 tanh/sigmoid" style summary for logs.
  std::string describe() const;

  // Throws ModelError if the net is empty, a size is zero, the shapes do not
  // chain, softmax sits in a hidden layer, or the parameters cannot be counted.
  void validate() const;
  // Throws ModelError naming the layer if any unit is a step (not trainable).
  void check_trainable() const;

  bool operator==(const Architecture&) const = default;
};

}  // namespace sinapsis
