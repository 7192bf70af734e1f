// Learning-rate schedules: a base rate, optionally decayed in steps every
// `decay_every_epochs` epochs by `decay_factor`, optionally ramped up
// linearly over the first `warmup_steps` steps (rate * (step+1)/warmup_steps).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace sinapsis {

enum class ScheduleKind { constant, step_decay };

struct LearningRateSchedule {
  double base = 0.03;
  ScheduleKind kind = ScheduleKind::constant;
  double decay_factor = 0.5;          // step_decay: multiply by this ...
  std::size_t decay_every_epochs = 10;  // ... every this many epochs
  std::size_t warmup_steps = 0;       // 0: no warm-up

  // Rate for the step with global index `step` taken during `epoch` (0-based).
  double rate(std::size_t epoch, std::size_t step) const {
    double r = base;
    if (kind == ScheduleKind::step_decay && decay_every_epochs > 0)
      r *= std::pow(decay_factor, double(epoch / decay_every_epochs));
    if (warmup_steps > 0) r *= std::min(1.0, double(step + 1) / double(warmup_steps));
    return r;
  }
};

}  // namespace sinapsis
