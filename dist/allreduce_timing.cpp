#include "dist/allreduce_timing.hpp"

#include <algorithm>
#include <chrono>

namespace sinapsis {
namespace {

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Seconds of one sum of `buffer`, started together on every rank.
double timed_sum(Communicator& comm, std::vector<float>& buffer) {
  float together = 0;
  comm.allreduce(std::span<float>(&together, 1), ReduceOp::sum);  // the barrier: a one-float sum
  const auto start = std::chrono::steady_clock::now();
  comm.allreduce(std::span<float>(buffer), ReduceOp::sum);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::vector<TimedSample> time_allreduce_sizes(Communicator& comm, const AllreduceTiming& timing) {
  std::vector<TimedSample> samples;
  for (std::size_t bytes = timing.min_bytes; bytes <= timing.max_bytes; bytes *= 2) {
    // Small values: a sum of many ranks stays far from overflow and denormals.
    std::vector<float> buffer(bytes / sizeof(float), 1e-3f);
    double warm = 0;
    for (int i = 0; i < 3; ++i) warm = std::max(warm, timed_sum(comm, buffer));
    comm.allreduce(std::span<double>(&warm, 1), ReduceOp::max);
    const int calls = std::clamp(int(timing.seconds_per_size / std::max(warm, 1e-7)), 5, 500);
    std::vector<double> seconds(std::size_t(calls), 0.0);
    for (double& s : seconds) s = timed_sum(comm, buffer);
    comm.allreduce(std::span<double>(seconds), ReduceOp::max);  // each call: the slowest rank's time
    samples.push_back({double(bytes), median_of(seconds)});
  }
  return samples;
}

}  // namespace sinapsis
