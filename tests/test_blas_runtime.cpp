// OpenBLAS' kernel: sinapsis runs on the strongest kernel the CPU supports
// without the user setting anything (REFERENCE.md §4: Debian's OpenBLAS
// falls back to Prescott on CPUs it does not know).
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include "core/blas_runtime.hpp"
#include "tests/run_command.hpp"

namespace sinapsis {
namespace {

TEST(BlasRuntime, UpgradeDecision) {
  EXPECT_EQ(kernel_upgrade("Prescott", "SkylakeX"), "SkylakeX");
  EXPECT_EQ(kernel_upgrade("Core2", "Haswell"), "Haswell");
  EXPECT_EQ(kernel_upgrade("Haswell", "SkylakeX"), "SkylakeX");
  EXPECT_EQ(kernel_upgrade("SkylakeX", "SkylakeX"), "");
  EXPECT_EQ(kernel_upgrade("Cooperlake", "SkylakeX"), "");
  EXPECT_EQ(kernel_upgrade("Zen", "Haswell"), "");  // Zen kernels are AVX2 kernels
  EXPECT_EQ(kernel_upgrade("Prescott", ""), "");    // no better kernel for this CPU
}

// Runs `sinapsis info --no-measure` with a clean BLAS environment and returns
// the kernel it reports.
std::string kernel_reported_by_sinapsis(const std::string& environment) {
  const std::string command = "env -u OPENBLAS_CORETYPE -u SINAPSIS_BLAS_KERNEL_FORCED " + environment +
                              " " SINAPSIS_BINARY " info --no-measure";
  const std::string output = test::run_command(command).output;
  const std::string key = "BLAS kernel: ";
  const auto at = output.find(key);
  if (at == std::string::npos) return "?? " + output;
  const auto end = output.find_first_of(" \n", at + key.size());
  return output.substr(at + key.size(), end - at - key.size());
}

TEST(BlasRuntime, SinapsisRunsOnTheStrongestKernelOutOfTheBox) {
  const std::string kernel = kernel_reported_by_sinapsis("");
  EXPECT_EQ(kernel_upgrade(kernel, best_kernel_for_cpu()), "")
      << "sinapsis runs on " << kernel << " but this CPU supports " << best_kernel_for_cpu();
}

TEST(BlasRuntime, UsersOwnCoreTypeIsRespected) {
  EXPECT_EQ(kernel_reported_by_sinapsis("OPENBLAS_CORETYPE=Prescott"), "Prescott");
}

TEST(BlasRuntime, RuntimeInfoIsFilledIn) {
  const BlasRuntime info = blas_runtime();
  EXPECT_NE(info.library.find("OpenBLAS"), std::string::npos) << info.library;
  EXPECT_FALSE(info.kernel.empty());
  EXPECT_GE(info.threads, 1);
}

}  // namespace
}  // namespace sinapsis
