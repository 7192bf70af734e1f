// The subcommands of the sinapsis executable. Each takes the arguments after
// its name and returns the process exit status; errors propagate as typed
// exceptions that main() turns into one line and a status.
#pragma once

#include <string>
#include <vector>

namespace sinapsis::cli {

// Exit statuses (documented in README.md).
inline constexpr int kExitSuccess = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

using Args = std::vector<std::string>;

int train_command(const Args& args);
int predict_command(const Args& args);
int eval_command(const Args& args);
int info_command(const Args& args);
int data_command(const Args& args);

}  // namespace sinapsis::cli
