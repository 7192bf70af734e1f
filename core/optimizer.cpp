#include "core/optimizer.hpp"

namespace sinapsis {

__attribute__((target_clones("avx2", "default"))) void adam_update(float* p, const float* grad, float* m, float* s,
                                                                   std::size_t first, std::size_t last, bool penalize,
                                                                   const AdamFloats& k) {
  // As Optimizer::update's generic loop (keep the two alike).
  const auto step = [&](std::size_t i, float gi) {
    m[i] = m[i] * k.b1 + gi * k.one_b1;
    s[i] = s[i] * k.b2 + k.one_b2 * gi * gi;
    p[i] -= k.step_size * (m[i] / (std::sqrt(s[i]) * k.inverse_correction2 + k.eps));
  };
  if (penalize) {
    for (std::size_t i = first; i < last; ++i) {
      const float sign = float(p[i] > 0.0f) - float(p[i] < 0.0f);
      step(i, grad[i] + (k.l1 * sign + k.l2 * p[i]));
    }
  } else {
    for (std::size_t i = first; i < last; ++i) step(i, grad[i]);
  }
}

std::string_view optimizer_name(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::sgd: return "sgd";
    case OptimizerKind::adam: return "adam";
    case OptimizerKind::adamw: return "adamw";
    case OptimizerKind::rmsprop: return "rmsprop";
  }
  return "sgd";
}

OptimizerKind parse_optimizer(std::string_view name, std::string_view what) {
  for (const OptimizerKind kind : {OptimizerKind::sgd, OptimizerKind::adam, OptimizerKind::adamw, OptimizerKind::rmsprop})
    if (name == optimizer_name(kind)) return kind;
  throw UsageError(std::string(what) + ": unknown optimizer '" + std::string(name) +
                   "' (expected sgd, adam, adamw or rmsprop)");
}

}  // namespace sinapsis
