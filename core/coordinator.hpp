// The coordinator: the decisions around the training step, taken once per
// epoch from values every rank holds identically, so that every rank applies
// the same decision after the same step and no rank is left waiting on a
// collective the others will not call.
//
// The protocol (Trainer::run_epoch and Trainer::run):
//   1. Each rank trains the epoch's steps. Gradients are summed over the
//      ranks every step, together with each rank's stop vote (a signal, a
//      deadline), so a NaN/Inf or a stop request on any rank is seen by all
//      in the same step. A NaN ends the epoch there on every rank; a stop
//      request too (a partial epoch), unless it was the epoch's last step.
//   2. One sum over the ranks of the epoch's metric terms (training loss,
//      validation and test sums, sample counts) and of rank 0's seconds
//      since the last checkpoint (the others add 0). After it, every rank
//      holds the same EpochReport. (A partial epoch skips this: it is not
//      evaluated.)
//   3. decide() below turns that report into an EpochDecision: pure, with no
//      clock and no MPI, hence identical on every rank (tests/
//      test_coordinator.cpp checks it without MPI).
//   4. Every rank applies it: restore the last finite weights, remember the
//      best, stop. Rank 0 alone writes the checkpoint the decision asks for.
#pragma once

#include <cmath>
#include <cstddef>

#include "core/checkpoint_policy.hpp"
#include "core/early_stopping.hpp"

namespace sinapsis {

enum class StopReason { max_epochs, early_stopping, diverged, requested };

// What every rank knows after an epoch's metrics were summed.
struct EpochReport {
  std::size_t epoch = 0;          // 1-based
  double monitored = 0;           // the early-stopping metric (global)
  bool finite = true;             // loss, gradients and parameters all finite
  double seconds_since_checkpoint = 0;  // rank 0's clock, shared through the sum
  bool stop_requested = false;    // some rank asked to stop (e.g. a signal)
  bool partial = false;           // ... and the epoch stopped before its last step
};

struct EpochDecision {
  bool diverged = false;    // restore the last finite weights and stop
  bool improved = false;    // the monitored value improved: remember these weights
  bool checkpoint = false;  // rank 0 writes a checkpoint of this epoch
  bool stop = false;
  StopReason reason = StopReason::max_epochs;  // meaningful when stop
};

class Coordinator {
 public:
  Coordinator(EarlyStoppingOptions early, Goal goal, CheckpointPolicy checkpoints, std::size_t max_epochs)
      : early_(early, goal), checkpoints_(checkpoints), max_epochs_(max_epochs) {}

  EpochDecision decide(const EpochReport& report) {
    EpochDecision d;
    if (!report.finite) {
      // A diverged epoch is neither judged nor checkpointed: the weights kept
      // (and the last checkpoint) are those of the last finite epoch.
      d.diverged = d.stop = true;
      d.reason = StopReason::diverged;
      return d;
    }
    if (report.partial) {
      // An unfinished epoch is not judged; the checkpoint lets it continue.
      d.stop = d.checkpoint = true;
      d.reason = StopReason::requested;
      return d;
    }
    const EarlyStopping::Decision e = early_.update(report.monitored);
    d.improved = e.improved;
    d.checkpoint = checkpoints_.due(report.epoch, report.seconds_since_checkpoint);
    if (report.stop_requested) {
      // Stopping early for an outside reason: the checkpoint is what lets the
      // run continue, so one is written whatever the policy says.
      d.stop = d.checkpoint = true;
      d.reason = StopReason::requested;
    } else if (e.stop) {
      d.stop = true;
      d.reason = StopReason::early_stopping;
    } else if (report.epoch >= max_epochs_) {
      d.stop = true;
      d.reason = StopReason::max_epochs;
    }
    return d;
  }

  bool early_stopping_enabled() const { return early_.enabled(); }
  // Best monitored value so far and its epoch (1-based; 0 before any).
  double best() const { return early_.state().best; }
  std::size_t best_epoch() const { return std::isnan(best()) ? 0 : early_.state().best_epoch + 1; }

  // The early-stopping history, for checkpoints.
  const EarlyStopping::State& state() const { return early_.state(); }
  void restore(const EarlyStopping::State& state) { early_.restore(state); }

 private:
  EarlyStopping early_;
  CheckpointPolicy checkpoints_;
  std::size_t max_epochs_;
};

}  // namespace sinapsis
