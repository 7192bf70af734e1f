// Runs a shell command as a user would and returns its exit status and
// everything it printed (stdout and stderr together): for the tests that
// drive the sinapsis executable.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace sinapsis::test {

struct CommandResult {
  int status;          // exit status; 128 + signal if killed
  std::string output;  // stdout and stderr together
};

inline CommandResult run_command(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  std::string output;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), int(buffer.size()), pipe) != nullptr) output += buffer.data();
  const int raw = ::pclose(pipe);
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw), output};
}

// `sinapsis ARGUMENTS`, the binary this build made.
inline CommandResult run_sinapsis(const std::string& arguments) {
  return run_command(std::string(SINAPSIS_BINARY) + " " + arguments);
}

}  // namespace sinapsis::test
