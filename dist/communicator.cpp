#include "dist/communicator.hpp"

#include <unistd.h>  // gethostname

#include <cstdlib>
#include <algorithm>
#include <cstring>

namespace sinapsis {

std::vector<std::string> Communicator::allgather(const std::string& text) {
  // Lengths first, then the padded texts.
  const std::uint64_t mine = text.size();
  std::vector<std::uint64_t> lengths(static_cast<std::size_t>(size()));
  allgather_raw(&mine, 1, Type::uint64, lengths.data());
  std::uint64_t longest = 0;
  for (auto n : lengths) longest = std::max(longest, n);
  std::string padded = text;
  padded.resize(longest);
  std::string all(longest * lengths.size(), '\0');
  if (longest > 0) allgather_raw(padded.data(), longest, Type::byte, all.data());
  std::vector<std::string> texts;
  for (std::size_t r = 0; r < lengths.size(); ++r) texts.push_back(all.substr(r * longest, lengths[r]));
  return texts;
}

void Communicator::sum_compressed(std::span<float> values, GradPrecision precision,
                                  std::chrono::microseconds poll) {
  if (precision == GradPrecision::fp32)
    return poll.count() > 0 ? allreduce_polled(values, ReduceOp::sum, poll) : allreduce(values, ReduceOp::sum);
  if (size() == 1) return;  // no wire: no rounding (see the declaration)
  sum_16_bits(values, precision, poll);
}

std::string Communicator::broadcast(const std::string& text, int root) {
  std::uint64_t length = text.size();
  broadcast(std::span<std::uint64_t>(&length, 1), root);
  std::string out = text;
  out.resize(length);
  if (length > 0) broadcast(std::span<char>(out.data(), out.size()), root);
  return out;
}

namespace {
WaitSettings settings_in_force;

long number_in(const char* text) {
  if (text == nullptr) return 0;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  return end != text && *end == '\0' ? value : 0;
}
}  // namespace

WaitSettings wait_settings_for(const std::function<const char*(const char*)>& variable) {
  WaitSettings s;
  const long world = number_in(variable("OMPI_COMM_WORLD_SIZE")), local = number_in(variable("OMPI_COMM_WORLD_LOCAL_SIZE"));
  s.spans_hosts = (world > 0 && local > 0 && local < world) || number_in(variable("SLURM_STEP_NUM_NODES")) > 1 ||
                  (variable("SLURM_STEP_NUM_NODES") == nullptr && number_in(variable("SLURM_NNODES")) > 1 &&
                   variable("SLURM_PROCID") != nullptr);
  if (const char* yield = variable("OMPI_MCA_mpi_yield_when_idle")) {
    s.user_chose = true;
    const std::string value = yield;
    s.yields = value == "1" || value == "true" || value == "yes";
  }
  if (const char* btl = variable("OMPI_MCA_btl")) {
    // "^tcp,..." excludes the listed ones; otherwise only the listed ones are used.
    const std::string value = btl;
    const bool listed = value.find("tcp") != std::string::npos;
    s.tcp = value.starts_with("^") ? !listed : listed;
  }
  s.mpirun = variable("OMPI_MCA_orte_hnp_uri") != nullptr;
  const auto keepalive = [&](const char* name, long fallback) {
    const long given = number_in(variable(name));
    return double(given > 0 ? given : fallback);
  };
  s.lost_host_seconds = keepalive("OMPI_MCA_oob_tcp_keepalive_time", 300) +
                        keepalive("OMPI_MCA_oob_tcp_keepalive_intvl", 20) * keepalive("OMPI_MCA_oob_tcp_keepalive_probes", 9);
  return s;
}

const WaitSettings& wait_settings() { return settings_in_force; }

void settle_wait_settings() {
  settings_in_force = wait_settings_for([](const char* name) { return std::getenv(name); });
  if (settings_in_force.spans_hosts && !settings_in_force.user_chose) {
    ::setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);  // read by MPI_Init
    settings_in_force.yields = settings_in_force.set_by_sinapsis = true;
  }
}

std::string SingleProcess::host() const {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

void SingleProcess::abort(int status) { std::_Exit(status); }

void SingleProcess::allgather_raw(const void* mine, std::size_t count, Type type, void* all) {
  std::size_t bytes = 1;
  switch (type) {
    case Type::int32: case Type::float32: bytes = 4; break;
    case Type::int64: case Type::uint64: case Type::float64: bytes = 8; break;
    case Type::byte: bytes = 1; break;
  }
  std::memcpy(all, mine, count * bytes);
}

}  // namespace sinapsis
