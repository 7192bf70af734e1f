#include "core/architecture.hpp"

#include "core/error.hpp"

namespace sinapsis {

Architecture Architecture::mlp(std::size_t inputs, std::span<const std::size_t> hidden,
                               Activation hidden_activation, std::size_t outputs,
                               Activation output_activation) {
  Architecture arch;
  std::size_t fan_in = inputs;
  for (std::size_t width : hidden) {
    arch.layers.push_back({fan_in, width, hidden_activation, 0});
    fan_in = width;
  }
  arch.layers.push_back({fan_in, outputs, output_activation, 0});
  arch.validate();
  return arch;
}

namespace {

// sum of fan_in * fan_out (+ fan_out with biases) over the layers, checked.
std::size_t count_parameters(const std::vector<LayerSpec>& layers, bool with_biases) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const LayerSpec& l = layers[i];
    std::size_t layer = 0;
    if (__builtin_mul_overflow(l.fan_in, l.fan_out, &layer) ||
        (with_biases && __builtin_add_overflow(layer, l.fan_out, &layer)) || __builtin_add_overflow(n, layer, &n))
      throw ModelError("layer " + std::to_string(i) + ": " + std::to_string(l.fan_in) + "x" +
                       std::to_string(l.fan_out) + ": the model's parameter count does not fit in 64 bits");
  }
  return n;
}

}  // namespace

std::size_t Architecture::weight_count() const { return count_parameters(layers, false); }

std::size_t Architecture::parameter_count() const { return count_parameters(layers, true); }

std::size_t Architecture::unit_count() const {
  std::size_t n = 0;
  for (const auto& l : layers) n += l.fan_out;  // cannot overflow when parameter_count() does not
  return n;
}

std::string Architecture::describe() const {
  if (layers.empty()) return "(empty)";
  std::string text = std::to_string(layers.front().fan_in);
  for (const auto& l : layers) text += "-" + std::to_string(l.fan_out);
  text += " ";
  for (std::size_t i = 0; i < layers.size(); ++i)
    text += (i ? "/" : "") + std::string(activation_name(layers[i].activation));
  return text;
}

void Architecture::validate() const {
  if (layers.empty()) throw ModelError("a model needs at least one layer");
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto& l = layers[i];
    const std::string where = "layer " + std::to_string(i);
    if (l.fan_in == 0 || l.fan_out == 0)
      throw ModelError(where + ": sizes must be >= 1, got " + std::to_string(l.fan_in) + "x" +
                       std::to_string(l.fan_out));
    if (i > 0 && l.fan_in != layers[i - 1].fan_out)
      throw ModelError(where + ": shapes do not chain: takes " + std::to_string(l.fan_in) +
                       " inputs but layer " + std::to_string(i - 1) + " gives " +
                       std::to_string(layers[i - 1].fan_out));
    if (i + 1 < layers.size() && !is_hidden_activation(l.activation))
      throw ModelError(where + ": " + std::string(activation_name(l.activation)) +
                       " is an output unit and cannot be used in a hidden layer");
  }
  parameter_count();  // throws if it overflows
}

void Architecture::check_trainable() const {
  for (std::size_t i = 0; i < layers.size(); ++i)
    if (layers[i].activation == Activation::step)
      throw ModelError("layer " + std::to_string(i) +
                       ": cannot train through a step unit (its derivative is zero almost "
                       "everywhere); use sigmoid, tanh or relu");
}

}  // namespace sinapsis
