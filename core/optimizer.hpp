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
  // The weights (penalized) and the biases run as two branch-free loops, so
  // the compiler vectorizes both; the arithmetic per element is unchanged.
  void step(std::span<T> parameters, std::span<const T> gradients, double learning_rate) {
    const std::size_t penalized = options_.penalty.active() ? weight_count_ : 0;
    if (penalized > 0) update<true>(parameters.data(), gradients.data(), velocity_.data(), penalized, learning_rate);
    update<false>(parameters.data() + penalized, gradients.data() + penalized, velocity_.data() + penalized,
                  parameters.size() - penalized, learning_rate);
  }

  std::span<T> velocity() { return velocity_; }
  const SgdOptions& options() const { return options_; }

 private:
  template <bool Penalize>
  void update(T* p, const T* grad, T* v, std::size_t n, double learning_rate) const {
    const T lr = T(learning_rate), mu = T(options_.momentum);
    const T l1 = T(options_.penalty.l1), l2 = T(options_.penalty.l2);
    // The gradient with the penalty's: l1 * sign(w) + l2 * w (Penalty::gradient).
    const auto g = [&](std::size_t i) {
      if constexpr (!Penalize) return grad[i];
      const T sign = T(p[i] > T{0}) - T(p[i] < T{0});
      return grad[i] + (l1 * sign + l2 * p[i]);
    };
    if (mu == T{0}) {
      for (std::size_t i = 0; i < n; ++i) p[i] -= lr * g(i);
    } else if (options_.nesterov) {
      for (std::size_t i = 0; i < n; ++i) {
        const T gi = g(i);
        v[i] = mu * v[i] + gi;
        p[i] -= lr * (gi + mu * v[i]);
      }
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        v[i] = mu * v[i] + g(i);
        p[i] -= lr * v[i];
      }
    }
  }

  SgdOptions options_;
  std::size_t weight_count_;
  std::vector<T> velocity_;
};

}  // namespace sinapsis
