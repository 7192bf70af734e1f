// sinapsis info --network under mpirun: the ranks time the sum by size, the
// link is fitted, the calibration file is written and `sinapsis plan
// --network` reads it; misuse is one line and exit 2.
#include <gtest/gtest.h>

#include <unistd.h>  // getpid

#include <cmath>
#include <filesystem>

#include "launch/network_calibration.hpp"
#include "tests/mpi_cli.hpp"

namespace sinapsis::cli {
namespace {

namespace fs = std::filesystem;

class InfoNetwork : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sinapsis_info_network_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(InfoNetwork, TwoRanksWriteACalibrationThatPlanReads) {
  const auto info = test::run_mpi("info --no-measure --network --network-seconds 0.01 --out " + path("calib.json"));
  ASSERT_EQ(info.status, 0) << info.output;
  EXPECT_NE(info.output.find("network: the sum over 2 ranks on 1 host(s), 2 per host (shared memory)"),
            std::string::npos)
      << info.output;
  EXPECT_NE(info.output.find("calibration written to " + path("calib.json")), std::string::npos) << info.output;

  const NetworkCalibration c = read_network_calibration(path("calib.json"));
  EXPECT_EQ(c.ranks, 2);
  EXPECT_EQ(c.hosts, 1);
  EXPECT_EQ(c.ranks_per_node, 2);
  EXPECT_EQ(c.transport, "shared memory");
  ASSERT_EQ(c.samples.size(), 14u) << "1 KiB .. 8 MiB, doubling";
  EXPECT_EQ(c.samples.front().bytes, 1024);
  EXPECT_EQ(c.samples.back().bytes, 8 << 20);
  for (const TimedSample& s : c.samples) EXPECT_GT(s.seconds, 0) << s.bytes;
  // The link written is the fit of the samples written (read back, to the
  // digits the file keeps). How well a fit explains the times of a loaded
  // machine is not asserted here (no test asserts on wall-clock time):
  // FitLink.RecoversTheLinkTheSamplesCameFrom checks the fit on known times.
  const Link fitted = fit_link(2, 2, c.samples);
  EXPECT_GE(c.link.alpha, 0);
  EXPECT_GE(c.link.beta, 0);
  EXPECT_GE(c.link.gamma, 0);
  Cluster written, refit;
  written.ranks_per_node = refit.ranks_per_node = 2;
  written.shared_memory = c.link;
  refit.shared_memory = fitted;
  for (const TimedSample& s : c.samples) {
    const double a = allreduce_exchange(2, 2, s.bytes).seconds(written);
    const double b = allreduce_exchange(2, 2, s.bytes).seconds(refit);
    EXPECT_GT(a, 0) << s.bytes;
    EXPECT_NEAR(a, b, 1e-6 * b) << s.bytes;
  }

  const auto plan = test::run_command(SINAPSIS_BINARY " plan --network " + path("calib.json") +
                                      " --inputs 784 --outputs 10 --hidden 64 --ranks 1,2 --gflops 50 --memory-gbs 10");
  ASSERT_EQ(plan.status, 0) << plan.output;
  EXPECT_NE(plan.output.find("--network " + path("calib.json") + " (2 ranks on 1 host(s), shared memory)"),
            std::string::npos)
      << plan.output;
}

TEST_F(InfoNetwork, NeedsTwoRanksAndOutNeedsNetwork) {
  auto r = test::run_command(SINAPSIS_BINARY " info --no-measure --network");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_EQ(test::sinapsis_lines(r.output).size(), 1u) << r.output;
  EXPECT_NE(r.output.find("--network: times the sum over the ranks, but this job has 1 rank"), std::string::npos)
      << r.output;
  r = test::run_command(SINAPSIS_BINARY " info --no-measure --out " + path("x.json"));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--out " + path("x.json") + ": writes the calibration of --network"), std::string::npos)
      << r.output;
  EXPECT_FALSE(fs::exists(path("x.json")));
}

}  // namespace
}  // namespace sinapsis::cli
