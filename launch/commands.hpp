// The subcommands of the sinapsis executable. Each takes the arguments after
// its name and returns the process exit status; errors propagate as typed
// exceptions that main() turns into one line and a status.
#pragma once

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

// `comm` connects the ranks of an mpirun/srun job (one rank otherwise).
// Only train works across ranks; under mpirun the other commands run on
// rank 0 alone.
int train_command(const Args& args, Communicator& comm);
int predict_command(const Args& args, Communicator& comm);
int eval_command(const Args& args, Communicator& comm);
int info_command(const Args& args, Communicator& comm);
int data_command(const Args& args, Communicator& comm);

}  // namespace sinapsis::cli
