// Stochastic gradient descent with momentum or Nesterov momentum, with the
// weight penalties folded into the gradient of the weight block. Same update
// as PyTorch's SGD (dampening 0):
//   g = grad + d penalty/dw                (weights only)
//   v = momentum * v + g
//   p -= lr * (nesterov ? g + momentum * v : v)
// The velocity is one buffer parallel to the parameters (optimizer state a
// checkpoint saves whole).
#pragma once

#include <span>
#include <vector>

#include "core/error.hpp"
#include "core/regularization.hpp"

namespace sinapsis {

struct SgdOptions {
  double momentum = 0;   // in [0, 1)
  bool nesterov = false;
  Penalty penalty;
};

template <class T>
class Sgd {
 public:
  Sgd(std::size_t parameter_count, std::size_t weight_count, SgdOptions options)
      : options_(options), weight_count_(weight_count), velocity_(parameter_count, T{0}) {
    if (!(options.momentum >= 0 && options.momentum < 1))
      throw UsageError("--momentum must be in [0, 1), got " + std::to_string(options.momentum));
    if (options.nesterov && options.momentum == 0)
      throw UsageError("--nesterov needs --momentum > 0");
    if (!(options.penalty.l1 >= 0) || !(options.penalty.l2 >= 0))
      throw UsageError("--l1 and --l2 must be >= 0");
  }

  // parameters and gradients laid out as in Model: weights first.
  void step(std::span<T> parameters, std::span<const T> gradients, double learning_rate) {
    const T lr = T(learning_rate);
    const T mu = T(options_.momentum);
    const bool penalize = options_.penalty.active();
    T* v = velocity_.data();
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      T g = gradients[i];
      if (penalize && i < weight_count_) g += options_.penalty.gradient(parameters[i]);
      if (mu == T{0}) {
        parameters[i] -= lr * g;
        continue;
      }
      v[i] = mu * v[i] + g;
      parameters[i] -= lr * (options_.nesterov ? g + mu * v[i] : v[i]);
    }
  }

  std::span<T> velocity() { return velocity_; }
  const SgdOptions& options() const { return options_; }

 private:
  SgdOptions options_;
  std::size_t weight_count_;
  std::vector<T> velocity_;
};

}  // namespace sinapsis
