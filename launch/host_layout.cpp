#include "launch/host_layout.hpp"

#include <sched.h>  // sched_getaffinity

#include <algorithm>
#include <thread>

#include "core/error.hpp"

namespace sinapsis::cli {

int HostLayout::ranks_on(const std::string& name) const {
  return int(std::count(rank_hosts.begin(), rank_hosts.end(), name));
}

std::vector<std::string> HostLayout::hosts() const {
  std::vector<std::string> distinct;
  for (const auto& h : rank_hosts)
    if (std::find(distinct.begin(), distinct.end(), h) == distinct.end()) distinct.push_back(h);
  return distinct;
}

int HostLayout::default_threads() const {
  return std::max(1, rank_cores.at(std::size_t(rank)) / std::max(1, ranks_on(host())));
}

int usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return ::sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
}

HostLayout host_layout(Communicator& comm) {
  HostLayout layout;
  layout.rank = comm.rank();
  const int cores = std::max(1, int(std::thread::hardware_concurrency()));
  // One allgather of "cores host" per rank.
  for (const auto& entry : comm.allgather(std::to_string(cores) + " " + comm.host())) {
    const auto space = entry.find(' ');
    layout.rank_cores.push_back(std::stoi(entry.substr(0, space)));
    layout.rank_hosts.push_back(entry.substr(space + 1));
  }
  return layout;
}

int resolve_threads(int requested, const HostLayout& layout) {
  if (requested < 0) throw UsageError("--threads must be >= 0, got " + std::to_string(requested));
  return requested > 0 ? requested : layout.default_threads();
}

}  // namespace sinapsis::cli
