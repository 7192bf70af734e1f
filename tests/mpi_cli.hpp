// Driving `mpirun -n N sinapsis ...` from tests as a user would: the
// command with a timeout (a hang fails the test instead of blocking it), the
// lines sinapsis printed, and a small separable data set.
#pragma once

#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "core/dataset.hpp"
#include "tests/run_command.hpp"
#include "tests/waiting.hpp"

namespace sinapsis::test {

// Every mpirun of the tests runs as root, its ranks yielding the CPU while
// they wait (the machine may have fewer cores than ranks).
inline constexpr const char* kMpiEnvironment =
    "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1 ";

// "timeout BOUND mpirun ": a job that hangs ends with status 124 instead of
// blocking the suite; the bound is the one every wait of the tests has.
inline std::string timed_mpirun() { return "timeout " + std::to_string(kEventBound.count()) + " mpirun "; }

// `mpirun_arguments` follows "mpirun": "-n 2 --oversubscribe BINARY ...", or
// several ":"-separated programs.
inline CommandResult run_mpirun(const std::string& mpirun_arguments) {
  return run_command(kMpiEnvironment + timed_mpirun() + mpirun_arguments);
}

inline CommandResult run_mpi(const std::string& arguments, int ranks = 2) {
  return run_mpirun("-n " + std::to_string(ranks) + " --oversubscribe " SINAPSIS_BINARY " " + arguments);
}

// Lines that sinapsis printed (mpirun adds its own banner after a failure).
inline std::vector<std::string> sinapsis_lines(const std::string& output) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < output.size()) {
    const std::size_t end = std::min(output.find('\n', start), output.size());
    const std::string line = output.substr(start, end - start);
    if (line.rfind("sinapsis", 0) == 0) lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

// The epoch a `train` stopped by a signal or --time-limit was in, from its
// line "stopped by SIGUSR1 in epoch E, after step S" (or "... at the end of
// epoch E"); nullopt if the output has no such line.
inline std::optional<std::size_t> stopped_epoch(const std::string& output) {
  std::smatch match;
  if (!std::regex_search(output, match, std::regex("stopped by [^ ]+ (in|at the end of) epoch ([0-9]+)")))
    return std::nullopt;
  return std::stoul(match[2]);
}

// Two classes, each a point in d dimensions: n rows, labels alternating.
inline Dataset blobs(std::size_t n, std::size_t d = 2) {
  Dataset data;
  data.task = Task::classification;
  data.classes = 2;
  data.features = Matrix<float>(n, d);
  for (std::size_t r = 0; r < n; ++r) {
    data.labels.push_back(std::int64_t(r % 2));
    for (std::size_t c = 0; c < d; ++c) data.features(r, c) = float(r % 2) + 0.1f * float(c);
  }
  return data;
}

}  // namespace sinapsis::test
