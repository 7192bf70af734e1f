// sinapsis info: what this machine (or this mpirun job) gives sinapsis — the
// ranks and their hosts, cores and BLAS threads per rank, the BLAS kernel,
// and a measured GEMM rate. Under mpirun every rank takes part; rank 0
// prints, and warns when a host runs more threads than it has cores.
// With --network, the ranks also time the gradient sum by size and fit the
// link of the cost model to it (--out saves it for `sinapsis plan --network`).
#include <iomanip>
#include <iostream>
#include <sstream>

#include "core/blas_runtime.hpp"
#include "core/scaling_model.hpp"
#include "dist/allreduce_timing.hpp"
#include "dist/stall_watch.hpp"
#include "launch/host_layout.hpp"
#include "launch/network_calibration.hpp"
#include "launch/options.hpp"
#include "launch/versions.hpp"

namespace sinapsis::cli {
namespace {

struct InfoOptions {
  int threads = 0;
  bool skip_measure = false;
  bool network = false;
  double network_seconds = 0.1;
  std::string out;
};

void describe(po::options_description& o, InfoOptions& v) {
  o.add_options()
    ("threads", number(&v.threads, at_least(0))->default_value(v.threads), "BLAS threads per rank (0: this host's cores / the ranks on it)")
    ("no-measure", po::bool_switch(&v.skip_measure), "skip the GEMM measurement")
    ("network", po::bool_switch(&v.network),
     "time the sum over the ranks (MPI_Allreduce of 1 KiB .. 8 MiB) and fit the link's latency and per-byte costs; "
     "needs 2 or more ranks (mpirun, srun)")
    ("network-seconds", number(&v.network_seconds, closed(0.01, 60))->default_value(v.network_seconds),
     "--network: seconds of timed sums per size")
    ("out", po::value(&v.out), "--network: write the calibration to this file, for sinapsis plan --network FILE");
}

std::string micro(double seconds) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(seconds < 1e-3 ? 1 : 0) << seconds * 1e6 << " us";
  return text.str();
}

// --network, on rank 0 once every rank timed the sums: fits, prints, writes.
void report_network(const InfoOptions& v, const std::vector<TimedSample>& samples, const HostLayout& layout) {
  const auto hosts = layout.hosts();
  std::size_t per_host = 0;
  for (const auto& host : hosts) per_host = std::max(per_host, std::size_t(layout.ranks_on(host)));
  const std::size_t ranks = layout.rank_hosts.size();

  NetworkCalibration c;
  c.ranks = int(ranks);
  c.hosts = int(hosts.size());
  c.ranks_per_node = int(per_host);
  c.transport = hosts.size() > 1 ? (wait_settings().tcp ? "tcp" : "network") : "shared memory";
  c.link = fit_link(ranks, per_host, samples);
  c.samples = samples;
  c.sinapsis_version = SINAPSIS_VERSION;
  // The model with the fitted link, against what was measured.
  Cluster cluster;
  cluster.ranks_per_node = per_host;
  if (hosts.size() > 1)
    cluster.network = c.link;
  else
    cluster.shared_memory = c.link;
  std::cout << "network: the sum over " << ranks << " ranks on " << hosts.size() << " host(s), " << per_host
            << " per host (" << c.transport << "), median of the slowest rank's time per size\n"
            << "        bytes     measured        model   model/measured\n";
  for (const TimedSample& s : samples) {
    const double model = allreduce_exchange(ranks, per_host, s.bytes).seconds(cluster);
    std::cout << std::setw(13) << std::size_t(s.bytes) << std::setw(13) << micro(s.seconds) << std::setw(13)
              << micro(model) << std::setw(17) << std::fixed << std::setprecision(2) << model / s.seconds << "\n";
  }
  const double largest = samples.back().bytes;
  std::cout << "link" << (hosts.size() > 1 ? "" : " (shared memory: one host)") << ": alpha "
            << micro(c.link.alpha) << ", beta " << std::setprecision(3) << c.link.beta * 1e9 << " ns/byte ("
            << std::setprecision(2) << (c.link.beta > 0 ? 1e-9 / c.link.beta : 0) << " GB/s), gamma "
            << std::setprecision(3) << c.link.gamma * 1e9 << " ns/byte; Open MPI runs "
            << exchange_name(ranks, std::size_t(largest / sizeof(float)), GradPrecision::fp32) << " at "
            << std::size_t(largest) << " bytes\n";
  if (!v.out.empty()) {
    write_network_calibration(v.out, c);
    std::cout << "calibration written to " << v.out << " (sinapsis plan --network " << v.out << ")\n";
  }
}

// Every host's cores and ranks, each rank's BLAS threads and kernel (from
// `ranks`, every rank's "threads cpus kernel"); a warning for an
// oversubscribed host.
void print_hosts(const HostLayout& layout, const std::vector<std::string>& ranks) {
  for (const auto& host : layout.hosts()) {
    std::vector<int> on_host;
    int host_threads = 0, cores = 0;
    for (std::size_t r = 0; r < ranks.size(); ++r) {
      if (layout.rank_hosts[r] != host) continue;
      on_host.push_back(int(r));
      host_threads += std::stoi(ranks[r]);
      cores = layout.rank_cores[r];
    }
    std::cout << "host " << host << ": " << cores << " cores, " << on_host.size() << " rank(s)\n";
    for (int r : on_host) {
      std::istringstream fields(ranks[std::size_t(r)]);
      int rank_threads = 0, cpus = 0;
      std::string kernel;
      fields >> rank_threads >> cpus >> kernel;
      std::cout << "  rank " << r << ": may run on " << cpus << " core(s), " << rank_threads << " BLAS thread(s), kernel "
                << kernel << "\n";
    }
    if (host_threads > cores)
      std::cout << "warning: host " << host << " runs " << on_host.size() << " rank(s) with " << host_threads
                << " BLAS threads in all on " << cores
                << " cores: oversubscribed, steps will be slow (use fewer ranks or --threads)\n";
  }
}

// How ranks wait inside MPI, and what a lost host costs, when the job spans
// hosts.
void print_waiting(std::size_t hosts) {
  // Ranks on several hosts that spin while they wait take the CPU the
  // network stack needs (dist/communicator.hpp, WaitSettings).
  const WaitSettings& wait = wait_settings();
  if (hosts > 1 || wait.spans_hosts) {
    std::cout << "waiting: " << (wait.yields ? "ranks yield the CPU (mpi_yield_when_idle 1" : "ranks spin (mpi_yield_when_idle 0")
              << (wait.set_by_sinapsis ? ", set by sinapsis" : wait.user_chose ? ", as given" : "") << ")\n";
    if (!wait.yields && wait.tcp)
      std::cout << "warning: ranks on " << hosts
                << " hosts spin while they wait, on a TCP transport: they take the cores the kernel's network "
                   "processing and compute need (up to 12x slower steps measured); drop mpi_yield_when_idle 0 "
                   "or set OMPI_MCA_mpi_yield_when_idle=1\n";
    // A host that drops off the network: the ranks end after the stall
    // watchdog's look for silence; mpirun only after its keepalive.
    if (wait.mpirun) {
      std::cout << "lost host: the other ranks end by themselves after about "
                << int(StallPolicy::kSilenceSeconds + StallPolicy::kSilenceGrace)
                << " s (stall watchdog); mpirun notices it after about " << int(wait.lost_host_seconds)
                << " s (oob_tcp_keepalive)\n";
      if (wait.lost_host_seconds > 60)
        std::cout << "warning: mpirun waits about " << int(wait.lost_host_seconds)
                  << " s for a host that drops off the network before it ends the job: set "
                     "OMPI_MCA_oob_tcp_keepalive_time=5 OMPI_MCA_oob_tcp_keepalive_intvl=2 "
                     "OMPI_MCA_oob_tcp_keepalive_probes=3 (about 11 s)\n";
    }
  }
}

}  // namespace

std::vector<CommandOptions> info_options() { return {described<InfoOptions>("info")}; }

int info_command(const Args& args, Communicator& comm) {
  po::options_description options("sinapsis info options");
  InfoOptions v;
  describe(options, v);
  po::variables_map values;
  if (!parse("info", args, options, values, "[--threads N] [--no-measure]")) return kExitSuccess;
  const bool skip_measure = v.skip_measure;
  if (!v.out.empty() && !v.network) throw UsageError("--out " + v.out + ": writes the calibration of --network: add it");
  if (v.network && comm.size() < 2)
    throw UsageError("--network: times the sum over the ranks, but this job has 1 rank: run it under mpirun or srun "
                     "with 2 or more");
  const HostLayout layout = host_layout(comm);
  set_blas_threads(resolve_threads(v.threads, layout));
  const BlasRuntime blas = blas_runtime();
  // Every rank's view: BLAS threads, kernel, CPUs it may run on.
  std::ostringstream mine;
  mine << blas.threads << ' ' << usable_cpus() << ' ' << blas.kernel;
  const auto ranks = comm.allgather(mine.str());
  double gflops = 0;
  if (!skip_measure) gflops = measure_sgemm_gflops();
  std::vector<TimedSample> network;
  if (v.network) {
    AllreduceTiming timing;
    timing.seconds_per_size = v.network_seconds;
    network = time_allreduce_sizes(comm, timing);
  }
  if (comm.rank() != 0) return kExitSuccess;

  std::cout << version_text() << "\n"
            << "BLAS kernel: " << blas.kernel;
  if (blas.kernel_forced_by_sinapsis)
    std::cout << " (set by sinapsis: OpenBLAS chose a generic kernel for this CPU)";
  else if (blas.best_kernel_for_cpu.empty())
    std::cout << " (this CPU has no AVX kernel to choose)";
  const auto hosts = layout.hosts();
  std::cout << "\nranks: " << comm.size() << " on " << hosts.size() << " host(s)\n";
  print_hosts(layout, ranks);
  print_waiting(hosts.size());
  if (!skip_measure)
    std::cout << "sgemm 1024^3 on rank 0: " << std::fixed << std::setprecision(1) << gflops << " GFLOP/s on "
              << blas.threads << " thread(s)\n";
  if (v.network) report_network(v, network, layout);
  return kExitSuccess;
}

}  // namespace sinapsis::cli
