// Early stopping as a pure decision object: feed it one monitored value per
// epoch, it says whether that epoch improved and whether to stop.
//
// Convention (Keras'): an epoch improves when value < best - min_delta (for a
// metric to minimize; value > best + min_delta to maximize). The first finite
// value always improves. After each epoch that does not improve, `wait` grows
// by one; training stops when wait >= patience_epochs. So patience 3 stops
// after 3 epochs in a row without improvement. patience_epochs == 0 means
// early stopping is off. A NaN value never improves.
// With restore_best the trainer keeps the weights of the best epoch.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>

namespace sinapsis {

enum class Goal { minimize, maximize };

struct EarlyStoppingOptions {
  std::size_t patience_epochs = 0;  // 0: off
  double min_delta = 0;             // >= 0
  bool restore_best = true;
};

class EarlyStopping {
 public:
  struct Decision {
    bool improved = false;
    bool stop = false;
  };
  // Everything needed to resume the decision sequence (checkpoints).
  struct State {
    double best = std::numeric_limits<double>::quiet_NaN();
    std::size_t best_epoch = 0;
    std::size_t wait = 0;
    std::size_t epochs_seen = 0;
  };

  EarlyStopping(EarlyStoppingOptions options, Goal goal) : options_(options), goal_(goal) {}

  Decision update(double value) {
    Decision d;
    const std::size_t epoch = state_.epochs_seen++;
    if (std::isfinite(value) && (std::isnan(state_.best) || beats(value))) {
      state_.best = value;
      state_.best_epoch = epoch;
      state_.wait = 0;
      d.improved = true;
    } else {
      ++state_.wait;
    }
    d.stop = enabled() && state_.wait >= options_.patience_epochs;
    return d;
  }

  bool enabled() const { return options_.patience_epochs > 0; }
  const EarlyStoppingOptions& options() const { return options_; }
  const State& state() const { return state_; }
  void restore(const State& state) { state_ = state; }

 private:
  bool beats(double value) const {
    return goal_ == Goal::minimize ? value < state_.best - options_.min_delta
                                   : value > state_.best + options_.min_delta;
  }

  EarlyStoppingOptions options_;
  Goal goal_;
  State state_;
};

}  // namespace sinapsis
