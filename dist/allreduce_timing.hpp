// How long the sum over the ranks takes, by size: the measurement behind
// `sinapsis info --network`, whose samples fit_link() (core/scaling_model.hpp)
// turns into the link `sinapsis plan` predicts with. Every rank of `comm`
// must call it with the same arguments (it is a sequence of collectives).
#pragma once

#include <cstddef>
#include <vector>

#include "core/scaling_model.hpp"  // TimedSample
#include "dist/communicator.hpp"

namespace sinapsis {

struct AllreduceTiming {
  std::size_t min_bytes = 1 << 10, max_bytes = 8 << 20;  // sizes: min_bytes, 2 min_bytes, ... max_bytes
  double seconds_per_size = 0.1;  // timed calls per size: as many as fit, 5 to 500
};

// For each size, the median over timed calls of the slowest rank's time of
// one sum of that many bytes of floats (Communicator::allreduce, i.e.
// MPI_Allreduce as the trainer's fused exchange calls it), each call after a
// barrier, after 3 untimed calls. The number of timed calls is agreed on by
// every rank.
std::vector<TimedSample> time_allreduce_sizes(Communicator& comm, const AllreduceTiming& timing);

}  // namespace sinapsis
