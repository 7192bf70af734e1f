// What keeps a sweep honest: the whole grid is checked before any trial
// trains; a sweep in which no trial trained fails; one job at a time owns a
// sweep directory (or a slice of it), and a merge waits for every slice.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "tests/mpi_cli.hpp"
#include "tests/waiting.hpp"

namespace {

namespace fs = std::filesystem;
using sinapsis::test::CommandResult;
using sinapsis::test::run_command;
using sinapsis::test::run_sinapsis;
using sinapsis::test::sinapsis_lines;

std::string read(const std::string& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class SweepGuards : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sinapsis_sweep_guards_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    data_ = path("spiral.h5");
    ASSERT_EQ(run_sinapsis("data make --dataset spiral --samples 200 --out " + data_).status, 0);
  }
  void TearDown() override {
    jobs_.clear();  // ends jobs a failed test left running
    fs::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string sweep(const std::string& out, const std::string& extra) const {
    return "sweep --data " + data_ + " --test-split 0.5 --batch 10 --quiet --out " + out + " " + extra;
  }
  // A sweep whose trials run until stopped (10^8 epochs): it holds its
  // directory once a trial's `claimed` appears. Output to `log`. `grid`
  // holds the sweep's other options.
  sinapsis::test::BackgroundCommand& start_endless(const std::string& out, const std::string& grid,
                                                   const std::string& log) {
    jobs_.push_back(std::make_unique<sinapsis::test::BackgroundCommand>(
        "exec " + std::string(SINAPSIS_BINARY) + " " + sweep(out, grid + " --max-epochs 100000000"), path(log)));
    return *jobs_.back();
  }
  void expect_refused(const CommandResult& r, int status, const std::string& fragment) {
    EXPECT_EQ(r.status, status) << r.output;
    const auto lines = sinapsis_lines(r.output);
    ASSERT_EQ(lines.size(), 1u) << r.output;
    EXPECT_NE(lines[0].find(fragment), std::string::npos) << lines[0];
  }

  fs::path dir_;
  std::string data_;
  std::vector<std::unique_ptr<sinapsis::test::BackgroundCommand>> jobs_;
};

TEST_F(SweepGuards, EveryValueOfTheGridAndTheDataAreCheckedBeforeAnyTrialTrains) {
  expect_refused(run_sinapsis(sweep(path("s"), "--depth 1 --width 2 --lr 0.1,abc")), 2, "abc");
  EXPECT_FALSE(fs::exists(path("s/trials.csv")));
  EXPECT_FALSE(fs::exists(path("s/trials/t0000")));
  expect_refused(run_sinapsis(sweep(path("s"), "--depth 1 --width 2 --keep-prob 0.5,1.5")), 2, "--keep-prob");
  expect_refused(run_sinapsis("sweep --data " + path("missing.h5") + " --depth 1 --width 2 --quiet --out " + path("m")),
                 1, "missing.h5");
  EXPECT_FALSE(fs::exists(path("m/trials/t0000")));
}

TEST_F(SweepGuards, ASweepInWhichNoTrialTrainedFails) {
  // Every trial diverges: each is recorded as failed, and the sweep says so.
  const CommandResult r =
      run_sinapsis(sweep(path("s"), "--depth 1 --width 2,3 --lr 1e9 --loss mse --max-epochs 5"));
  expect_refused(r, 1, "no trial trained: all 2 failed (trial ");
  EXPECT_NE(read(path("s/trials.csv")).find(",failed,"), std::string::npos);
  // One trained trial is enough for success.
  EXPECT_EQ(run_sinapsis(sweep(path("t"), "--depth 1 --width 2 --lr 1e9,0.05 --loss mse --max-epochs 5")).status, 0);
}

TEST_F(SweepGuards, ASecondSweepOnTheSameDirectoryIsRefusedNamingTheHolder) {
  auto& job = start_endless(path("s"), "--depth 1 --width 2", "log");
  const pid_t first = job.pid();
  ASSERT_TRUE(sinapsis::test::appears(path("s/trials/t0000/claimed"))) << job.log();
  for (const std::string& extra : {std::string("--overwrite"), std::string("--resume"), std::string("--slice 1/2")}) {
    const CommandResult r = run_sinapsis(sweep(path("s"), "--depth 1 --width 2 --max-epochs 100000000 " + extra));
    expect_refused(r, 2, "is in use by sinapsis sweep (pid " + std::to_string(first));
  }
  EXPECT_TRUE(fs::exists(path("s/trials/t0000/claimed"))) << "--overwrite cleared a running sweep";
  ASSERT_EQ(::kill(first, SIGTERM), 0);
  EXPECT_EQ(job.wait(), 75) << job.log();
  EXPECT_NE(job.log().find("sweep stopped by a signal"), std::string::npos) << job.log();
}

TEST_F(SweepGuards, SlicesRunSideBySideButNotTwiceAndMergeWaitsForThemAll) {
  auto& first = start_endless(path("s"), "--depth 1 --width 2,3 --slice 0/2", "log0");
  const pid_t slice0 = first.pid();
  ASSERT_TRUE(sinapsis::test::appears(path("s/trials/t0000/claimed"))) << first.log();
  auto& second = start_endless(path("s"), "--depth 1 --width 2,3 --slice 1/2", "log1");
  ASSERT_TRUE(sinapsis::test::appears(path("s/trials/t0001/claimed"))) << second.log();
  const std::string endless = "--depth 1 --width 2,3 --max-epochs 100000000 ";
  expect_refused(run_sinapsis(sweep(path("s"), endless + "--slice 0/2")), 2,
                 "is in use by sinapsis sweep --slice 0/2 (pid " + std::to_string(slice0));
  expect_refused(run_sinapsis(sweep(path("s"), endless + "--resume")), 2, "is in use by sinapsis sweep --slice ");
  expect_refused(run_sinapsis("sweep merge " + path("s")), 2, "is in use by sinapsis sweep --slice ");
  EXPECT_FALSE(fs::exists(path("s/trials.csv")));
}

}  // namespace
