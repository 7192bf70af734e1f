// When to write a checkpoint: a pure decision (epoch and elapsed time in,
// yes or no out), taken by rank 0, the one rank that writes.
#pragma once

#include <cstddef>

namespace sinapsis {

struct CheckpointPolicy {
  std::size_t every_epochs = 0;  // 0: not by epochs
  double every_seconds = 0;      // 0: not by time

  bool enabled() const { return every_epochs > 0 || every_seconds > 0; }
  // After epoch `epoch` (1-based), `seconds_since_last` after the previous
  // checkpoint (or the start of the run).
  bool due(std::size_t epoch, double seconds_since_last) const {
    if (every_epochs > 0 && epoch % every_epochs == 0) return true;
    return every_seconds > 0 && seconds_since_last >= every_seconds;
  }
};

}  // namespace sinapsis
