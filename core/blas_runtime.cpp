#include "core/blas_runtime.hpp"

#include <cblas.h>   // openblas_get_corename, openblas_get_config, openblas_set_num_threads
#include <unistd.h>  // execv

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace sinapsis {
namespace {

constexpr const char* kForcedMarker = "SINAPSIS_BLAS_KERNEL_FORCED";

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return text;
}

// Rough capability rank of an OpenBLAS x86 core name: higher runs wider SIMD.
int kernel_rank(const std::string& core) {
  const std::string name = lower(core);
  if (name == "skylakex" || name == "cooperlake" || name == "sapphirerapids") return 3;
  if (name == "haswell" || name == "zen") return 2;
  if (name == "sandybridge") return 1;
  return 0;  // prescott, core2, nehalem, atom, ... and anything unknown
}

}  // namespace

std::string best_kernel_for_cpu() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  if (__builtin_cpu_supports("avx")) return "Sandybridge";
#endif
  return "";
}

std::string kernel_upgrade(const std::string& current, const std::string& best) {
  if (best.empty() || kernel_rank(current) >= kernel_rank(best)) return "";
  return best;
}

void ensure_fast_blas_kernel(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;  // the user's choice
  if (const char* keep = std::getenv("SINAPSIS_KEEP_BLAS_KERNEL"); keep && std::string_view(keep) == "1")
    return;
  if (std::getenv(kForcedMarker) != nullptr) return;  // already re-executed once
  const char* current = openblas_get_corename();
  if (current == nullptr) return;
  const std::string upgrade = kernel_upgrade(current, best_kernel_for_cpu());
  if (upgrade.empty()) return;
  setenv("OPENBLAS_CORETYPE", upgrade.c_str(), 1);
  setenv(kForcedMarker, current, 1);
  execv("/proc/self/exe", argv);
  // execv returned: keep running on the slow kernel rather than fail.
  unsetenv("OPENBLAS_CORETYPE");
}

BlasRuntime blas_runtime() {
  BlasRuntime info;
  info.library = openblas_get_config();
  info.kernel = openblas_get_corename();
  info.best_kernel_for_cpu = best_kernel_for_cpu();
  info.threads = openblas_get_num_threads();
  info.kernel_forced_by_sinapsis = std::getenv(kForcedMarker) != nullptr;
  return info;
}

void set_blas_threads(int threads) { openblas_set_num_threads(threads); }

double measure_sgemm_gflops(int n) {
  std::vector<float> a(std::size_t(n) * n, 1.0f), b(a), c(a);
  double best = 1e30;
  for (int rep = 0; rep < 4; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n,
                0.0f, c.data(), n);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return 2.0 * n * double(n) * n / best / 1e9;
}

namespace {

// The best of `run`'s times: one warm-up, then at least kRuns runs and
// kLeastSeconds in all (a small GEMM takes microseconds; one timing of it
// is noise), at most kMostRuns.
template <class Run>
double best_seconds(Run&& run) {
  constexpr int kRuns = 5, kMostRuns = 10000;
  constexpr double kLeastSeconds = 0.02;
  run();
  double best = 1e30, total = 0;
  for (int rep = 0; rep < kMostRuns && (rep < kRuns || total < kLeastSeconds); ++rep) {
    const auto start = std::chrono::steady_clock::now();
    run();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::min(best, seconds);
    total += seconds;
  }
  return best;
}

}  // namespace

double measure_sgemm_seconds(std::size_t m, std::size_t n, std::size_t k, Transpose a, Transpose b) {
  // op(A) [m, k] is stored [k, m] when transposed, op(B) [k, n] as [n, k].
  Matrix<float> left = a == Transpose::no ? Matrix<float>(m, k, 0.5f) : Matrix<float>(k, m, 0.5f);
  Matrix<float> right = b == Transpose::no ? Matrix<float>(k, n, 0.25f) : Matrix<float>(n, k, 0.25f);
  Matrix<float> out(m, n);
  return best_seconds([&] { gemm(a, b, 1.0f, left.view(), right.view(), 1.0f, out.view()); });
}

double measure_memory_bytes_per_second() {
  constexpr std::size_t kFloats = std::size_t{1} << 23;  // 32 MiB per array: past the caches
  std::vector<float> parameters(kFloats, 1.0f), gradients(kFloats, 1e-3f);
  float* p = parameters.data();
  const float* g = gradients.data();
  const double seconds = best_seconds([&] {
    for (std::size_t i = 0; i < kFloats; ++i) p[i] -= 0.01f * g[i];
  });
  // Read the result, so the passes cannot be dropped as dead stores.
  volatile float kept = parameters[kFloats / 2];
  (void)kept;
  return 3.0 * sizeof(float) * double(kFloats) / seconds;
}

}  // namespace sinapsis
