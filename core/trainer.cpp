#include "core/trainer.hpp"

#include <string>

namespace sinapsis {

std::string_view stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::max_epochs: return "max_epochs";
    case StopReason::early_stopping: return "early_stopping";
    case StopReason::diverged: return "diverged";
    case StopReason::requested: return "stop_requested";
  }
  return "?";
}

Monitor parse_monitor(std::string_view name, std::string_view what) {
  if (name == "val_loss") return Monitor::val_loss;
  if (name == "val_accuracy") return Monitor::val_accuracy;
  if (name == "train_loss") return Monitor::train_loss;
  throw UsageError(std::string(what) + ": unknown metric '" + std::string(name) +
                   "' (expected val_loss, val_accuracy or train_loss)");
}

}  // namespace sinapsis
