#include "core/loss.hpp"

#include <string>

namespace sinapsis {

Loss parse_loss(std::string_view name, std::string_view what) {
  if (name == "mse") return Loss::mse;
  if (name == "bce") return Loss::binary_cross_entropy;
  if (name == "cce") return Loss::categorical_cross_entropy;
  throw UsageError(std::string(what) + ": unknown loss '" + std::string(name) +
                   "' (expected mse, bce or cce)");
}

std::string_view loss_name(Loss loss) {
  switch (loss) {
    case Loss::mse: return "mse";
    case Loss::binary_cross_entropy: return "bce";
    case Loss::categorical_cross_entropy: return "cce";
  }
  return "?";
}

void check_loss_output(Loss loss, Activation output) {
  const auto fail = [&](std::string_view needed) {
    throw ModelError("loss " + std::string(loss_name(loss)) + " needs a " + std::string(needed) +
                     " output unit, not " + std::string(activation_name(output)));
  };
  if (loss == Loss::binary_cross_entropy && output != Activation::sigmoid) fail("sigmoid");
  if (loss == Loss::categorical_cross_entropy && output != Activation::softmax) fail("softmax");
  if (output == Activation::step)
    throw ModelError("cannot train through a step output unit (use sigmoid, tanh or linear)");
}

}  // namespace sinapsis
