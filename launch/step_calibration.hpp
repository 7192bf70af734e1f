// sinapsis plan's compute calibration: the trainer's own step
// (core/trainer.hpp, as `train` runs it: batch assembly from shuffled rows
// and its hand-off to the prefetch thread, forward, loss, backward, SGD
// update) timed on synthetic data of the planned shape, with `together`
// trainers running at once on this host as that many ranks of a job share
// its cores, caches and memory bus.
//
// Why not the GEMMs alone: on this machine kind the trainer's step takes up
// to 20 % longer than its GEMMs and memory passes (the batch's rows
// gathered from a data set larger than the caches, the hand-off, the loss
// and the vote), and two ranks on one host slow each other's compute by
// ~15 % (BENCHMARKS.md, "Planning"). The model keeps the GEMM timing for
// how the step divides (the overlap timeline, other batch sizes) and takes
// its total from this measurement (core/scaling_model.hpp, MeasuredSteps).
#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

#include "core/architecture.hpp"

namespace sinapsis::cli {

struct StepTimingOptions {
  std::size_t batch = 1;      // rows per step (the batch per rank)
  std::size_t together = 1;   // trainers running at once
  double momentum = 0;        // the SGD the job will run (its update streams the velocity too)
  bool prefetch = true;       // as train: off on a host with one usable CPU
  double seconds = 1.5;       // measuring time, after the warm-up steps
  std::size_t min_steps = 30;  // per trainer, whatever the time
};

// Seconds of every timed step of every trainer (each trainer's warm-up
// and the first step of each pass over its data, which also holds the
// pass's shuffle, are left out). The trainers start at once
// and stop together when the first one has timed options.seconds and
// options.min_steps. Each trainer holds at least kDataBytes of rows (and at
// least two batches), more than the caches, as real data is. Throws UsageError when the memory for
// `together` trainers is not there (naming --batch-per-rank).
std::vector<double> time_trainer_steps(const Architecture& architecture, const StepTimingOptions& options);

// The UsageError time_trainer_steps() throws when `together` trainers of
// `batch` rows do not fit in this machine's memory, before any is made.
void require_timing_memory(const Architecture& architecture, std::size_t batch, std::size_t together);

// A trainer's warm-up, not timed: its first kWarmupSteps steps and any
// others in its first kWarmupTime.
inline constexpr std::size_t kWarmupSteps = 2;
inline constexpr std::chrono::milliseconds kWarmupTime{250};
inline constexpr std::size_t kDataBytes = std::size_t{64} << 20;

}  // namespace sinapsis::cli
