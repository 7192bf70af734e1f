#include "core/activation.hpp"

#include <array>
#include <utility>

namespace sinapsis {
namespace {

constexpr std::array<std::pair<std::string_view, Activation>, 6> kActivationNames{{
    {"linear", Activation::linear},
    {"step", Activation::step},
    {"sigmoid", Activation::sigmoid},
    {"tanh", Activation::tanh},
    {"relu", Activation::relu},
    {"softmax", Activation::softmax},
}};

}  // namespace

Activation parse_activation(std::string_view name, std::string_view what) {
  for (const auto& [text, value] : kActivationNames)
    if (text == name) return value;
  throw UsageError(std::string(what) + ": unknown activation '" + std::string(name) +
                   "' (expected linear, step, sigmoid, tanh, relu or softmax)");
}

std::string_view activation_name(Activation activation) {
  for (const auto& [text, value] : kActivationNames)
    if (value == activation) return text;
  return "?";
}

bool is_hidden_activation(Activation activation) { return activation != Activation::softmax; }

}  // namespace sinapsis
