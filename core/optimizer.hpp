// The update rules, exactly as PyTorch 1.13 defines them (single-tensor
// code paths, no amsgrad, no maximize), with the weight penalties folded
// into the gradient of the weight block (biases are never penalized):
//
//   g = grad + l1 * sign(w) + l2 * w      (weights only; --weight-decay adds
//                                          to l2, except for adamw)
//   sgd      v = momentum * v + g          (dampening 0)
//            p -= lr * (nesterov ? g + momentum * v : v)     (momentum 0: p -= lr * g)
//   adam     m = beta1 * m + (1 - beta1) * g
//            s = beta2 * s + (1 - beta2) * g^2
//            p -= lr / (1 - beta1^t) * m / (sqrt(s) / sqrt(1 - beta2^t) + eps)
//   adamw    p *= 1 - lr * weight_decay    (weights only; decoupled), then adam
//   rmsprop  s = alpha * s + (1 - alpha) * g^2,  a = sqrt(s) + eps
//            momentum 0: p -= lr * g / a
//            else        b = momentum * b + g / a,  p -= lr * b
//
// t counts the updates applied (a step skipped by the fp16 exchange is not
// one). The state is one flat buffer beside the parameters, slots() buffers
// of the parameters' size (sgd: v; adam/adamw: m then s; rmsprop: s then b),
// planned once: a step allocates nothing. A checkpoint saves it whole with t.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/error.hpp"
#include "core/regularization.hpp"

namespace sinapsis {

enum class OptimizerKind { sgd, adam, adamw, rmsprop };

std::string_view optimizer_name(OptimizerKind kind);
OptimizerKind parse_optimizer(std::string_view name, std::string_view what);

struct OptimizerOptions {
  double momentum = 0;  // sgd, rmsprop: in [0, 1)
  bool nesterov = false;
  Penalty penalty;      // l1, l2 on the weights, in the gradient
  OptimizerKind kind = OptimizerKind::sgd;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adam, adamw (eps: rmsprop too)
  double alpha = 0.99;                            // rmsprop's smoothing constant
  double weight_decay = 0;                        // adamw's decoupled decay (the others: in penalty.l2)
};

// Adam's update of elements [first, last) for float32 (optimizer.cpp): the
// same arithmetic as the generic loop below, compiled twice, for AVX2 and
// for any x86-64, the CPU choosing at load time (eight roots and divisions
// per instruction instead of four; no FMA, so the same bits either way).
struct AdamFloats {
  float l1, l2;  // penalty gradient, when `penalize`
  float b1, one_b1, b2, one_b2, step_size, inverse_correction2, eps;
};
void adam_update(float* p, const float* grad, float* m, float* s, std::size_t first, std::size_t last,
                 bool penalize, const AdamFloats& k);

template <class T>
class Optimizer {
 public:
  Optimizer(std::size_t parameter_count, std::size_t weight_count, OptimizerOptions options)
      : options_(options), n_(parameter_count), weight_count_(weight_count) {
    check(options);
    state_.assign(slots(options) * n_, T{0});
  }

  // Buffers of the parameters' size the state holds.
  static std::size_t slots(const OptimizerOptions& o) {
    switch (o.kind) {
      case OptimizerKind::sgd: return 1;
      case OptimizerKind::adam:
      case OptimizerKind::adamw: return 2;
      case OptimizerKind::rmsprop: return o.momentum > 0 ? 2 : 1;
    }
    return 1;
  }

  // parameters and gradients laid out as in Model: weights first. Each rule
  // runs as branch-free loops over the weights (penalized) and the biases,
  // so the compiler vectorizes them.
  void step(std::span<T> parameters, std::span<const T> gradients, double learning_rate) {
    ++steps_;
    const std::size_t penalized = options_.penalty.active() ? weight_count_ : 0;
    if (options_.kind == OptimizerKind::adamw && options_.weight_decay > 0) {
      const T keep = T(1 - learning_rate * options_.weight_decay);
      for (std::size_t i = 0; i < weight_count_; ++i) parameters[i] *= keep;
    }
    if (penalized > 0) update<true>(parameters.data(), gradients.data(), 0, penalized, learning_rate);
    update<false>(parameters.data(), gradients.data(), penalized, n_, learning_rate);
  }

  // The state (slots() buffers, one after the other) and the updates applied.
  std::span<T> state() { return state_; }
  std::span<const T> state() const { return state_; }
  std::uint64_t steps() const { return steps_; }
  void set_steps(std::uint64_t steps) { steps_ = steps; }
  const OptimizerOptions& options() const { return options_; }

  // UsageError naming the option for options out of range or that do not
  // go together.
  static void check(const OptimizerOptions& o) {
    const auto in_unit = [](double x) { return x >= 0 && x < 1; };
    if (!in_unit(o.momentum)) throw UsageError("--momentum must be in [0, 1), got " + std::to_string(o.momentum));
    if (o.nesterov && o.kind != OptimizerKind::sgd)
      throw UsageError("--nesterov is sgd's momentum, not " + std::string(optimizer_name(o.kind)) + "'s");
    if (o.nesterov && o.momentum == 0) throw UsageError("--nesterov needs --momentum > 0");
    if (o.momentum > 0 && (o.kind == OptimizerKind::adam || o.kind == OptimizerKind::adamw))
      throw UsageError("--momentum is sgd's and rmsprop's; adam's is --beta1");
    if (!(o.penalty.l1 >= 0) || !(o.penalty.l2 >= 0)) throw UsageError("--l1 and --l2 must be >= 0");
    if (!in_unit(o.beta1) || !in_unit(o.beta2))
      throw UsageError("--beta1 and --beta2 must be in [0, 1), got " + std::to_string(o.beta1) + " and " +
                       std::to_string(o.beta2));
    if (!(o.eps > 0)) throw UsageError("--eps must be > 0, got " + std::to_string(o.eps));
    if (!in_unit(o.alpha)) throw UsageError("--alpha must be in [0, 1), got " + std::to_string(o.alpha));
    if (!(o.weight_decay >= 0)) throw UsageError("--weight-decay must be >= 0, got " + std::to_string(o.weight_decay));
  }

 private:
  // Elements [first, last) of the parameters; Penalize: they are weights.
  template <bool Penalize>
  void update(T* p, const T* grad, std::size_t first, std::size_t last, double learning_rate) {
    const T l1 = T(options_.penalty.l1), l2 = T(options_.penalty.l2);
    // The gradient with the penalty's: l1 * sign(w) + l2 * w (Penalty::gradient).
    const auto g = [&](std::size_t i) {
      if constexpr (!Penalize) return grad[i];
      const T sign = T(p[i] > T{0}) - T(p[i] < T{0});
      return grad[i] + (l1 * sign + l2 * p[i]);
    };
    T* a = state_.data();
    T* b = state_.data() + (state_.size() > n_ ? n_ : 0);
    const T lr = T(learning_rate), mu = T(options_.momentum);
    switch (options_.kind) {
      case OptimizerKind::sgd:
        if (mu == T{0}) {
          for (std::size_t i = first; i < last; ++i) p[i] -= lr * g(i);
        } else if (options_.nesterov) {
          for (std::size_t i = first; i < last; ++i) {
            const T gi = g(i);
            a[i] = mu * a[i] + gi;
            p[i] -= lr * (gi + mu * a[i]);
          }
        } else {
          for (std::size_t i = first; i < last; ++i) {
            a[i] = mu * a[i] + g(i);
            p[i] -= lr * a[i];
          }
        }
        return;
      case OptimizerKind::adam:
      case OptimizerKind::adamw: {
        const T b1 = T(options_.beta1), b2 = T(options_.beta2), eps = T(options_.eps);
        const T one_b1 = T(1 - options_.beta1), one_b2 = T(1 - options_.beta2);
        const double t = double(steps_);
        const T step_size = T(learning_rate / (1 - std::pow(options_.beta1, t)));
        // PyTorch divides sqrt(s) by sqrt(1 - beta2^t); a multiplication by
        // its inverse differs in the last bit at most and spares a division
        // per parameter (the update is bound by its divisions and roots).
        const T inverse_correction2 = T(1 / std::sqrt(1 - std::pow(options_.beta2, t)));
        if constexpr (std::is_same_v<T, float>) {
          adam_update(p, grad, a, b, first, last, Penalize,
                      {l1, l2, b1, one_b1, b2, one_b2, step_size, inverse_correction2, eps});
          return;
        }
        for (std::size_t i = first; i < last; ++i) {
          const T gi = g(i);
          a[i] = a[i] * b1 + gi * one_b1;
          b[i] = b[i] * b2 + one_b2 * gi * gi;  // addcmul_'s order: value * t1 * t2
          p[i] -= step_size * (a[i] / (std::sqrt(b[i]) * inverse_correction2 + eps));
        }
        return;
      }
      case OptimizerKind::rmsprop: {
        const T alpha = T(options_.alpha), one_alpha = T(1 - options_.alpha), eps = T(options_.eps);
        if (mu == T{0}) {
          for (std::size_t i = first; i < last; ++i) {
            const T gi = g(i);
            a[i] = a[i] * alpha + one_alpha * gi * gi;
            p[i] -= lr * (gi / (std::sqrt(a[i]) + eps));
          }
        } else {
          for (std::size_t i = first; i < last; ++i) {
            const T gi = g(i);
            a[i] = a[i] * alpha + one_alpha * gi * gi;
            b[i] = b[i] * mu + gi / (std::sqrt(a[i]) + eps);
            p[i] -= lr * b[i];
          }
        }
        return;
      }
    }
  }

  OptimizerOptions options_;
  std::size_t n_, weight_count_;
  std::vector<T> state_;
  std::uint64_t steps_ = 0;
};

}  // namespace sinapsis
