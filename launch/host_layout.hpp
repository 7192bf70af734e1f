// Where the ranks of a job run: which host each rank is on, how many ranks
// share a host and how many cores it has. Used to pick the BLAS threads per
// rank (the host's cores shared by its ranks) and by `sinapsis info` to show
// the layout and warn about oversubscription.
#pragma once

#include <string>
#include <vector>

#include "dist/communicator.hpp"

namespace sinapsis::cli {

struct HostLayout {
  std::vector<std::string> rank_hosts;  // host of every rank
  std::vector<int> rank_cores;          // cores of every rank's host
  int rank = 0;

  const std::string& host() const { return rank_hosts.at(std::size_t(rank)); }
  int ranks_on(const std::string& host) const;
  // Distinct hosts, in order of their first rank.
  std::vector<std::string> hosts() const;
  // BLAS threads per rank by default: this host's cores / its ranks (>= 1).
  int default_threads() const;
};

// CPUs this process may run on (its affinity mask; 0 if unknown). Under
// mpirun each rank is usually bound to one.
int usable_cpus();

// Collective: every rank calls it (one allgather).
HostLayout host_layout(Communicator& comm);

// --threads N (N > 0), or the layout's default for 0. Throws UsageError for N < 0.
int resolve_threads(int requested, const HostLayout& layout);

}  // namespace sinapsis::cli
