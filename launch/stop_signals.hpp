// Preemption and deadlines: SIGTERM and SIGUSR1 (what SLURM sends before a
// time limit or a preemption, e.g. `#SBATCH --signal=B:USR1@120`), SIGINT
// (Ctrl-C) and SIGHUP (a closed terminal) ask a training run to stop after
// its current step with a checkpoint; the run then exits with kExitResume.
// A second signal of any of these kinds ends the process at once (the
// default action), for a user who really means it.
//
// A signal handler can only set a flag, so the flag is process-wide state:
// one StopSignals object owns the handlers while it lives, and restores the
// previous ones when destroyed. Objects made while another lives (a trial
// inside a sweep) share its flag: a signal stops the trial and the sweep.
#pragma once

#include <chrono>
#include <optional>

namespace sinapsis::cli {

class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The signal received (SIGTERM, SIGUSR1, SIGINT or SIGHUP), or 0.
  int received() const;
  // Its name ("SIGTERM", ...), or "" when none came.
  static const char* name(int signal);
};

// When to stop for --time-limit: the deadline minus a reserve for the last
// step, the checkpoint and the exit (5 % of the limit, at least 10 s and at
// most 5 min, but never more than half the limit). Pure: tested without a
// clock.
struct Deadline {
  std::optional<std::chrono::steady_clock::time_point> stop_at;
  // Halfway through the reserve: a rank still waiting for a stalled peer
  // then ends the job (the stall watchdog), so the limit holds regardless.
  std::optional<std::chrono::steady_clock::time_point> end_at;

  static Deadline after_minutes(double minutes, std::chrono::steady_clock::time_point start);
  bool passed(std::chrono::steady_clock::time_point now) const { return stop_at && now >= *stop_at; }
};

}  // namespace sinapsis::cli
