// Stopping on request: a caught SIGTERM/SIGUSR1 is recorded (not fatal), the
// --time-limit deadline keeps its reserve, and a run that reaches its
// deadline stops with a checkpoint and exit status 75, and resumes.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>

#include "io/data_file.hpp"
#include "launch/commands.hpp"
#include "launch/stop_signals.hpp"
#include "tests/mpi_cli.hpp"
#include "tests/waiting.hpp"

namespace sinapsis::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_to_stop(double minutes) {
  const auto start = Clock::time_point{};
  const Deadline d = Deadline::after_minutes(minutes, start);
  return std::chrono::duration<double>(*d.stop_at - start).count();
}

TEST(Deadline, KeepsAReserveOfFivePercentBetweenTenSecondsAndFiveMinutes) {
  EXPECT_FALSE(Deadline::after_minutes(0, Clock::now()).stop_at.has_value());
  EXPECT_NEAR(seconds_to_stop(600), 36000 - 300, 1e-6);  // 10 h: 5 min reserve
  EXPECT_NEAR(seconds_to_stop(60), 3600 - 180, 1e-6);    // 1 h: 5 %
  EXPECT_NEAR(seconds_to_stop(2), 120 - 10, 1e-6);       // 2 min: 10 s
  EXPECT_NEAR(seconds_to_stop(0.25), 15 - 7.5, 1e-6);    // 15 s: never more than half
  const Deadline d = Deadline::after_minutes(1, Clock::time_point{});
  EXPECT_FALSE(d.passed(Clock::time_point{} + std::chrono::seconds(49)));
  EXPECT_TRUE(d.passed(Clock::time_point{} + std::chrono::seconds(50)));
}

TEST(StopSignals, RecordsTheFirstSignalInsteadOfDying) {
  {
    const StopSignals signals;
    EXPECT_EQ(signals.received(), 0);
    std::raise(SIGUSR1);
    EXPECT_EQ(signals.received(), SIGUSR1);
  }
  const StopSignals again;  // a new owner starts clean
  EXPECT_EQ(again.received(), 0);
  std::raise(SIGTERM);
  EXPECT_EQ(again.received(), SIGTERM);
}

TEST(StopSignals, ADeadlineStopsTheRunWithACheckpointThatResumes) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("sinapsis_deadline_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  write_data_file((dir / "d.h5").string(), test::blobs(400, 3));
  // 0.001 minutes: the deadline (half of 60 ms) passes within the first
  // epochs, and the run has no end of its own (a billion epochs): only the
  // deadline stops it, however fast the machine.
  const auto r = test::run_sinapsis("train --data " + (dir / "d.h5").string() + " --epochs 1000000000 --batch 4 --out " +
                                    (dir / "run").string() + " --time-limit 0.001");
  EXPECT_EQ(r.status, kExitResume) << r.output;
  EXPECT_NE(r.output.find("stopped by --time-limit"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(dir / "run" / "checkpoint.h5"));
  EXPECT_FALSE(fs::exists(dir / "run" / "model.h5"));
  EXPECT_NE(test::read_text((dir / "run" / "summary.json").string()).find("\"stop_reason\": \"time_limit\""),
            std::string::npos);
  const std::optional<std::size_t> stopped = test::stopped_epoch(r.output);
  ASSERT_TRUE(stopped.has_value()) << r.output;
  // Resumed to the epoch after the one it stopped in, without a limit.
  const auto resumed = test::run_sinapsis("train --resume " + (dir / "run").string() + " --epochs " +
                                          std::to_string(*stopped + 1) + " --time-limit 0");
  EXPECT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_TRUE(fs::exists(dir / "run" / "model.h5"));
  fs::remove_all(dir);
}

// A --config file given at resume counts as given: its options override the
// run's, as the command line's do; --out beside --resume must be the run
// itself (one clear line, not "--out given twice").
TEST(Resume, AConfigFileOverridesTheRunsOptionsAndOutMustBeTheRunItself) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("sinapsis_resume_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  write_data_file((dir / "d.h5").string(), test::blobs(60, 3));
  const std::string run = (dir / "run").string();
  ASSERT_EQ(test::run_sinapsis("train --data " + (dir / "d.h5").string() + " --epochs 2 --checkpoint-every 1 "
                               "--hidden 3 --quiet --out " + run).status, 0);
  std::ofstream((dir / "more.ini").string()) << "[train]\nepochs = 4\n";
  const auto more = test::run_sinapsis("train --resume " + run + " --config " + (dir / "more.ini").string());
  EXPECT_EQ(more.status, 0) << more.output;
  EXPECT_NE(more.output.find("after 4 epochs"), std::string::npos) << more.output;
  const auto same = test::run_sinapsis("train --resume " + run + " --out " + run + " --epochs 5");
  EXPECT_EQ(same.status, 0) << same.output;
  EXPECT_NE(same.output.find("after 5 epochs"), std::string::npos) << same.output;
  const auto other = test::run_sinapsis("train --resume " + run + " --out " + (dir / "other").string() + " --epochs 6");
  EXPECT_EQ(other.status, kExitUsage) << other.output;
  EXPECT_NE(other.output.find("a resumed run stays in its directory"), std::string::npos) << other.output;
  EXPECT_FALSE(fs::exists(dir / "other"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sinapsis::cli
