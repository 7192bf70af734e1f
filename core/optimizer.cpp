#include "core/optimizer.hpp"

namespace sinapsis {

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
