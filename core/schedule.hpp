// Learning-rate schedules, as PyTorch's schedulers define them (closed
// forms), each optionally ramped up linearly over the first `warmup_steps`
// steps (rate * (step+1)/warmup_steps), whatever the schedule:
//
//   constant  base
//   step      base * decay_factor^(epoch / decay_every_epochs)      (StepLR)
//   cosine    min + (base - min) * (1 + cos(pi * e / E)) / 2, per epoch, E the
//             planned epochs (CosineAnnealingLR, T_max = E); with
//             restart_epochs R, e = epoch mod R and E = R
//             (CosineAnnealingWarmRestarts, T_0 = R, T_mult = 1)
//   onecycle  per step over the planned steps S: from base/div_factor up to
//             base along a cosine over the first pct_start of them, then
//             down to base/div_factor/final_div_factor (OneCycleLR,
//             anneal "cos", no momentum cycling)
//   plateau   base * the factor a PlateauTracker (below) keeps: every rank
//             feeds it the same agreed metric, so every rank changes rate
//             in the same epoch (ReduceLROnPlateau, threshold_mode "rel",
//             cooldown 0); never below min
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numbers>
#include <string_view>

namespace sinapsis {

enum class ScheduleKind { constant, step_decay, cosine, onecycle, plateau };

std::string_view schedule_name(ScheduleKind kind);
ScheduleKind parse_schedule(std::string_view name, std::string_view what);

struct LearningRateSchedule {
  double base = 0.03;
  ScheduleKind kind = ScheduleKind::constant;
  double decay_factor = 0.5;            // step: multiply by this ...
  std::size_t decay_every_epochs = 10;  // ... every this many epochs
  std::size_t warmup_steps = 0;         // 0: no warm-up
  double min = 0;                       // cosine's end, plateau's floor
  std::size_t restart_epochs = 0;       // cosine: restart every this many epochs (0: none)
  double pct_start = 0.3, div_factor = 25, final_div_factor = 1e4;  // onecycle
  // Set by the trainer: the run's planned epochs and steps per epoch.
  std::size_t epochs = 1, steps_per_epoch = 1;

  // Rate for the step with global index `step` taken during `epoch` (both
  // 0-based); `plateau_factor`: the PlateauTracker's (1 for the others).
  double rate(std::size_t epoch, std::uint64_t step, double plateau_factor = 1) const {
    double r = base;
    switch (kind) {
      case ScheduleKind::constant: break;
      case ScheduleKind::step_decay:
        if (decay_every_epochs > 0) r *= std::pow(decay_factor, double(epoch / decay_every_epochs));
        break;
      case ScheduleKind::cosine: {
        const std::size_t period = restart_epochs > 0 ? restart_epochs : std::max<std::size_t>(epochs, 1);
        const double e = double(restart_epochs > 0 ? epoch % period : std::min(epoch, period));
        r = min + (base - min) * (1 + std::cos(std::numbers::pi * e / double(period))) / 2;
        break;
      }
      case ScheduleKind::onecycle: r = one_cycle(step); break;
      case ScheduleKind::plateau: r = std::max(base * plateau_factor, min); break;
    }
    if (warmup_steps > 0) r *= std::min(1.0, double(step + 1) / double(warmup_steps));
    return r;
  }

 private:
  double one_cycle(std::uint64_t step) const {
    const double total = double(std::max<std::size_t>(epochs * steps_per_epoch, 2));
    const double initial = base / div_factor, lowest = initial / final_div_factor;
    const double up_end = pct_start * total - 1, down_end = total - 1;
    const auto anneal = [](double from, double to, double pct) {
      return to + (from - to) / 2 * (std::cos(std::numbers::pi * pct) + 1);
    };
    const double s = std::min(double(step), down_end);
    if (s <= up_end) return anneal(initial, base, up_end > 0 ? s / up_end : 1.0);
    return anneal(base, lowest, (s - up_end) / (down_end - up_end));
  }
};

// ReduceLROnPlateau's decision, once per epoch, from the monitored value
// (minimized, or maximized for an accuracy): an epoch better than the best
// by more than `threshold` (relative) resets the count; after more than
// `patience` epochs without one, the factor is multiplied by `factor` and
// the count starts again. Its state is checkpointed.
struct PlateauTracker {
  struct State {
    double best = std::numeric_limits<double>::quiet_NaN();  // NaN: no epoch yet
    std::size_t bad_epochs = 0;
    double factor = 1;  // the rate is base * factor
  };
  double reduce_by = 0.1, threshold = 1e-4;
  std::size_t patience = 10;
  bool maximize = false;
  State state;

  // Feeds one epoch's value; true if the rate was lowered.
  bool observe(double value) {
    // No epoch yet: the worst value (a NaN is never better).
    const double inf = std::numeric_limits<double>::infinity();
    const double best = std::isnan(state.best) ? (maximize ? -inf : inf) : state.best;
    const bool better = maximize ? value > best * (1 + threshold) : value < best * (1 - threshold);
    if (better) {
      state.best = value;
      state.bad_epochs = 0;
      return false;
    }
    if (++state.bad_epochs <= patience) return false;
    state.factor *= reduce_by;
    state.bad_epochs = 0;
    return true;
  }
};

}  // namespace sinapsis
