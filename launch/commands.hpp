// The subcommands of the sinapsis executable. Each takes the arguments after
// its name and returns the process exit status; errors propagate as typed
// exceptions that main() turns into one line and a status.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "dist/communicator.hpp"

namespace sinapsis::cli {

// Exit statuses (documented in README.md).
inline constexpr int kExitSuccess = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
// Stopped by a signal or --time-limit after writing a checkpoint: resume me
// (sysexits' EX_TEMPFAIL, "try again later").
inline constexpr int kExitResume = 75;

using Args = std::vector<std::string>;

// Gradient per bucket of the overlapped exchange (BENCHMARKS.md, "Emulated
// cluster"): train's --bucket-mb, and what plan predicts it with.
inline constexpr double kDefaultBucketMb = 1;

// `comm` connects the ranks of an mpirun/srun job (one rank otherwise).
// Only train works across ranks; under mpirun the other commands run on
// rank 0 alone.
int train_command(const Args& args, Communicator& comm);

// What one training run gave (the same on every rank of `comm`): for sweeps,
// which run training in-process on a group of ranks. NaN where not measured.
struct TrainOutcome {
  int status = kExitSuccess;
  std::string stop_reason;  // max_epochs, early_stopping, signal, time_limit
  std::size_t epochs_run = 0;
  std::size_t parameters = 0, inputs = 0;
  std::string architecture;
  std::size_t best_epoch = 0;
  double best_monitored = kNaN;
  double val_loss = kNaN, val_accuracy = kNaN, test_loss = kNaN, test_accuracy = kNaN;  // of the model kept
  double seconds = 0;
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
};
// `sinapsis train ARGS` on the ranks of `comm`; `silent` prints nothing.
// Errors throw as for train_command (AgreedFailure for a diverged run).
TrainOutcome run_training(const Args& args, Communicator& comm, bool silent = false);
// Parses and validates `train` arguments without training (UsageError if
// bad); with `open_data`, also opens the data files it names (DataError).
void check_train_arguments(const Args& args, bool open_data = false);
int sweep_command(const Args& args, Communicator& comm);
int report_command(const Args& args, Communicator& comm);
int predict_command(const Args& args, Communicator& comm);
int eval_command(const Args& args, Communicator& comm);
int info_command(const Args& args, Communicator& comm);
int data_command(const Args& args, Communicator& comm);
int plan_command(const Args& args, Communicator& comm);

}  // namespace sinapsis::cli
