// sinapsis info: what this machine (or this mpirun job) gives sinapsis — the
// ranks and their hosts, cores and BLAS threads per rank, the BLAS kernel,
// and a measured GEMM rate. Under mpirun every rank takes part; rank 0
// prints, and warns when a host runs more threads than it has cores.
#include <iomanip>
#include <iostream>
#include <sstream>

#include "core/blas_runtime.hpp"
#include "dist/stall_watch.hpp"
#include "launch/host_layout.hpp"
#include "launch/options.hpp"
#include "launch/versions.hpp"

namespace sinapsis::cli {
namespace {

struct InfoOptions {
  int threads = 0;
  bool skip_measure = false;
};

void describe(po::options_description& o, InfoOptions& v) {
  o.add_options()
    ("threads", number(&v.threads, at_least(0))->default_value(v.threads), "BLAS threads per rank (0: this host's cores / the ranks on it)")
    ("no-measure", po::bool_switch(&v.skip_measure), "skip the GEMM measurement");
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
  const HostLayout layout = host_layout(comm);
  set_blas_threads(resolve_threads(v.threads, layout));
  const BlasRuntime blas = blas_runtime();
  // Every rank's view: BLAS threads, kernel, CPUs it may run on.
  std::ostringstream mine;
  mine << blas.threads << ' ' << usable_cpus() << ' ' << blas.kernel;
  const auto ranks = comm.allgather(mine.str());
  double gflops = 0;
  if (!skip_measure) gflops = measure_sgemm_gflops();
  if (comm.rank() != 0) return kExitSuccess;

  std::cout << version_text() << "\n"
            << "BLAS kernel: " << blas.kernel;
  if (blas.kernel_forced_by_sinapsis)
    std::cout << " (set by sinapsis: OpenBLAS chose a generic kernel for this CPU)";
  else if (blas.best_kernel_for_cpu.empty())
    std::cout << " (this CPU has no AVX kernel to choose)";
  const auto hosts = layout.hosts();
  std::cout << "\nranks: " << comm.size() << " on " << hosts.size() << " host(s)\n";
  int warnings = 0;
  for (const auto& host : hosts) {
    std::vector<int> on_host;
    int host_threads = 0, cores = 0;
    for (int r = 0; r < comm.size(); ++r) {
      if (layout.rank_hosts[std::size_t(r)] != host) continue;
      on_host.push_back(r);
      host_threads += std::stoi(ranks[std::size_t(r)]);
      cores = layout.rank_cores[std::size_t(r)];
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
    if (host_threads > cores) {
      ++warnings;
      std::cout << "warning: host " << host << " runs " << on_host.size() << " rank(s) with " << host_threads
                << " BLAS threads in all on " << cores
                << " cores: oversubscribed, steps will be slow (use fewer ranks or --threads)\n";
    }
  }
  // Ranks on several hosts that spin while they wait take the CPU the
  // network stack needs (dist/communicator.hpp, WaitSettings).
  const WaitSettings& wait = wait_settings();
  if (hosts.size() > 1 || wait.spans_hosts) {
    std::cout << "waiting: " << (wait.yields ? "ranks yield the CPU (mpi_yield_when_idle 1" : "ranks spin (mpi_yield_when_idle 0")
              << (wait.set_by_sinapsis ? ", set by sinapsis" : wait.user_chose ? ", as given" : "") << ")\n";
    if (!wait.yields && wait.tcp) {
      ++warnings;
      std::cout << "warning: ranks on " << hosts.size()
                << " hosts spin while they wait, on a TCP transport: they take the cores the kernel's network "
                   "processing and compute need (up to 12x slower steps measured); drop mpi_yield_when_idle 0 "
                   "or set OMPI_MCA_mpi_yield_when_idle=1\n";
    }
    // A host that drops off the network: the ranks end after the stall
    // watchdog's look for silence; mpirun only after its keepalive.
    if (wait.mpirun) {
      std::cout << "lost host: the other ranks end by themselves after about "
                << int(StallPolicy::kSilenceSeconds + StallPolicy::kSilenceGrace)
                << " s (stall watchdog); mpirun notices it after about " << int(wait.lost_host_seconds)
                << " s (oob_tcp_keepalive)\n";
      if (wait.lost_host_seconds > 60) {
        ++warnings;
        std::cout << "warning: mpirun waits about " << int(wait.lost_host_seconds)
                  << " s for a host that drops off the network before it ends the job: set "
                     "OMPI_MCA_oob_tcp_keepalive_time=5 OMPI_MCA_oob_tcp_keepalive_intvl=2 "
                     "OMPI_MCA_oob_tcp_keepalive_probes=3 (about 11 s)\n";
      }
    }
  }
  if (!skip_measure)
    std::cout << "sgemm 1024^3 on rank 0: " << std::fixed << std::setprecision(1) << gflops << " GFLOP/s on "
              << blas.threads << " thread(s)\n";
  return kExitSuccess;
}

}  // namespace sinapsis::cli
