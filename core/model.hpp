// A model's parameters: ONE contiguous buffer for all parameters and ONE for
// their gradients, with each layer's weight and bias a view into them. The
// layout is [W_0 | W_1 | ... | W_{L-1} | b_0 | ... | b_{L-1}], so every weight
// (what L1/L2 penalize) is one contiguous span and every bias another, and a
// gradient sync is one call over gradients().
//
// The gradient buffer ends with kControlSlots extra values after the
// gradients: the trainer's per-step votes (stop requests, one slot per
// kind; a batch a rank could not read), which ride the same allreduce as the gradients, so every rank
// learns the sum of the votes in the same step at no extra cost.
// gradients() excludes them; gradients_and_control() is what the allreduce
// sums.
#pragma once

#include <span>
#include <vector>

#include "core/architecture.hpp"
#include "core/tensor.hpp"

namespace sinapsis {

template <class T>
class Model {
 public:
  explicit Model(Architecture architecture) : architecture_(std::move(architecture)) {
    architecture_.validate();
    std::size_t offset = 0;
    for (const auto& l : architecture_.layers) {
      weight_offset_.push_back(offset);
      offset += l.fan_in * l.fan_out;
    }
    weight_count_ = offset;
    for (const auto& l : architecture_.layers) {
      bias_offset_.push_back(offset);
      offset += l.fan_out;
    }
    parameters_.assign(offset, T{0});
    gradients_.assign(offset + kControlSlots, T{0});
  }

  const Architecture& architecture() const { return architecture_; }
  std::size_t layer_count() const { return architecture_.layers.size(); }

  std::span<T> parameters() { return parameters_; }
  std::span<const T> parameters() const { return parameters_; }
  static constexpr std::size_t kControlSlots = 3;

  std::span<T> gradients() { return std::span<T>(gradients_).first(parameters_.size()); }
  std::span<const T> gradients() const { return std::span<const T>(gradients_).first(parameters_.size()); }
  std::span<T> gradients_and_control() { return gradients_; }
  // The per-step vote slots (zeroed with the gradients).
  std::span<T> control() { return std::span<T>(gradients_).last(kControlSlots); }
  // The weight block (penalized); the bias block follows it.
  std::size_t weight_count() const { return weight_count_; }

  // [fan_in, fan_out] row-major.
  MatrixView<T> weight(std::size_t layer) { return weight_view(parameters_.data(), layer); }
  ConstMatrixView<T> weight(std::size_t layer) const {
    return weight_view(const_cast<T*>(parameters_.data()), layer);
  }
  std::span<T> bias(std::size_t layer) { return bias_view(parameters_.data(), layer); }
  std::span<const T> bias(std::size_t layer) const {
    return bias_view(const_cast<T*>(parameters_.data()), layer);
  }
  MatrixView<T> weight_gradient(std::size_t layer) { return weight_view(gradients_.data(), layer); }
  std::span<T> bias_gradient(std::size_t layer) { return bias_view(gradients_.data(), layer); }

  void zero_gradients() { std::fill(gradients_.begin(), gradients_.end(), T{0}); }

 private:
  MatrixView<T> weight_view(T* base, std::size_t layer) const {
    const auto& l = architecture_.layers.at(layer);
    return {base + weight_offset_[layer], l.fan_in, l.fan_out};
  }
  std::span<T> bias_view(T* base, std::size_t layer) const {
    return {base + bias_offset_[layer], architecture_.layers.at(layer).fan_out};
  }

  Architecture architecture_;
  std::vector<std::size_t> weight_offset_;
  std::vector<std::size_t> bias_offset_;
  std::size_t weight_count_ = 0;
  std::vector<T> parameters_;
  std::vector<T> gradients_;
};

}  // namespace sinapsis
