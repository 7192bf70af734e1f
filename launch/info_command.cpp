// sinapsis info: what this machine gives sinapsis — BLAS library, the kernel
// it runs, threads, and a measured GEMM rate.
#include <hdf5.h>

#include <iomanip>
#include <iostream>
#include <thread>

#include "core/blas_runtime.hpp"
#include "launch/options.hpp"

namespace sinapsis::cli {

int info_command(const Args& args, Communicator& /*comm*/) {
  po::options_description options("sinapsis info options");
  int threads = 0;
  bool skip_measure = false;
  options.add_options()
    ("threads", po::value(&threads)->default_value(threads), "BLAS threads to measure with (0: all cores)")
    ("no-measure", po::bool_switch(&skip_measure), "skip the GEMM measurement");
  po::variables_map values;
  if (!parse("info", args, options, values, "[--threads N]")) return kExitSuccess;
  set_blas_threads(resolve_threads(threads));
  const BlasRuntime blas = blas_runtime();
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  std::cout << "sinapsis " << SINAPSIS_VERSION << "\n"
            << "cores on this host: " << std::thread::hardware_concurrency() << "\n"
            << "BLAS library: " << blas.library << "\n"
            << "BLAS kernel: " << blas.kernel;
  if (blas.kernel_forced_by_sinapsis)
    std::cout << " (set by sinapsis: OpenBLAS chose a generic kernel for this CPU)";
  else if (blas.best_kernel_for_cpu.empty())
    std::cout << " (this CPU has no AVX kernel to choose)";
  std::cout << "\nBLAS threads: " << blas.threads << "\n"
            << "HDF5: " << major << "." << minor << "." << release << "\n";
  if (!skip_measure)
    std::cout << "sgemm 1024^3: " << std::fixed << std::setprecision(1) << measure_sgemm_gflops()
              << " GFLOP/s on " << blas.threads << " thread(s)\n";
  return kExitSuccess;
}

}  // namespace sinapsis::cli
