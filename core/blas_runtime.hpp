// OpenBLAS at run time: which kernel it picked, how many threads it uses, and
// the fix for CPUs it does not recognise.
//
// Debian's OpenBLAS 0.3.21 does not know recent Xeons (e.g. family 6 model
// 207) and falls back to its generic Prescott kernels, 5-8x slower than the
// AVX-512 ones the CPU can run. The kernel is chosen when the library loads,
// before main(), and can only be changed through OPENBLAS_CORETYPE in the
// environment at load time. So ensure_fast_blas_kernel(), called first thing
// in main(), checks the CPU's features and, if OpenBLAS chose a kernel weaker
// than the CPU supports, sets OPENBLAS_CORETYPE and re-executes the program
// (same pid, same arguments; safe before MPI_Init). A user's own
// OPENBLAS_CORETYPE is always respected, and SINAPSIS_KEEP_BLAS_KERNEL=1
// turns the fix off.
#pragma once

#include <cstddef>
#include <string>

#include "core/blas.hpp"  // Transpose

namespace sinapsis {

struct BlasRuntime {
  std::string library;   // openblas_get_config()
  std::string kernel;    // openblas_get_corename()
  std::string best_kernel_for_cpu;  // what this CPU could run ("" if unknown)
  int threads = 1;
  bool kernel_forced_by_sinapsis = false;
};

void ensure_fast_blas_kernel(char** argv);

// The strongest OpenBLAS x86 kernel this CPU's features allow: "SkylakeX"
// (AVX-512), "Haswell" (AVX2+FMA), "Sandybridge" (AVX), or "" (none of them).
std::string best_kernel_for_cpu();
// The kernel to force when OpenBLAS chose `current` on a CPU whose best is
// `best`, or "" when `current` is already as strong (the decision of
// ensure_fast_blas_kernel, pure for testing).
std::string kernel_upgrade(const std::string& current, const std::string& best);
BlasRuntime blas_runtime();
void set_blas_threads(int threads);
// Measured single-precision GEMM rate (n x n x n, best of a few runs).
double measure_sgemm_gflops(int n = 1024);
// Seconds of one C [m, n] = op(A) op(B) through blas.hpp's gemm() on this
// host's BLAS threads, op(A) [m, k] and op(B) [k, n] transposed as given (the
// step runs x w, x^T dy and dy w^T): best of several runs after a warm-up,
// repeated for at least a few milliseconds so small shapes are timed too.
double measure_sgemm_seconds(std::size_t m, std::size_t n, std::size_t k, Transpose a, Transpose b);
// Bytes per second one core streams through a pass like the SGD update
// (p -= lr g over arrays larger than the caches: read two, write one).
double measure_memory_bytes_per_second();

}  // namespace sinapsis
