#include "core/schedule.hpp"

#include <string>

#include "core/error.hpp"

namespace sinapsis {

std::string_view schedule_name(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::constant: return "constant";
    case ScheduleKind::step_decay: return "step";
    case ScheduleKind::cosine: return "cosine";
    case ScheduleKind::onecycle: return "onecycle";
    case ScheduleKind::plateau: return "plateau";
  }
  return "constant";
}

ScheduleKind parse_schedule(std::string_view name, std::string_view what) {
  for (const ScheduleKind kind : {ScheduleKind::constant, ScheduleKind::step_decay, ScheduleKind::cosine,
                                  ScheduleKind::onecycle, ScheduleKind::plateau})
    if (name == schedule_name(kind)) return kind;
  throw UsageError(std::string(what) + ": unknown schedule '" + std::string(name) +
                   "' (expected constant, step, cosine, onecycle or plateau)");
}

}  // namespace sinapsis
