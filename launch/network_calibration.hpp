// The network calibration file: what `sinapsis info --network --out FILE`
// measured (allreduce times by size among the ranks of one job) and the link
// fitted to it, reused by `sinapsis plan --network FILE`. JSON, marked with
// its format and version so a file of another kind or version is refused
// instead of misread.
#pragma once

#include <string>
#include <vector>

#include "core/scaling_model.hpp"  // Link, TimedSample

namespace sinapsis::cli {

inline constexpr const char* kNetworkCalibrationFormat = "sinapsis-network-calibration";
inline constexpr int kNetworkCalibrationVersion = 1;

struct NetworkCalibration {
  int version = kNetworkCalibrationVersion;
  int ranks = 0, hosts = 0, ranks_per_node = 0;  // of the job that measured
  std::string transport;                         // how its ranks talked, e.g. "tcp", "shared memory"
  Link link;                                     // fit_link() of the samples
  std::vector<TimedSample> samples;              // allreduce of `bytes` bytes of floats took `seconds`
  std::string sinapsis_version;
};

// Writes `calibration` to `path` atomically (whole or not at all).
void write_network_calibration(const std::string& path, const NetworkCalibration& calibration);

// Reads a file write_network_calibration() wrote. A file that cannot be
// read, is not JSON, is of another format or version, or lacks a field or
// holds a bad value throws UsageError "--network: FILE: what is wrong".
NetworkCalibration read_network_calibration(const std::string& path);

}  // namespace sinapsis::cli
