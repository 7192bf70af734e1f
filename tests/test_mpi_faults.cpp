// Faults in a running `mpirun -n N sinapsis train` job, for N = 2 and 3: an
// exception on one rank, an I/O error on rank 0, a NaN, ranks that disagree,
// a rank killed with SIGKILL; and a preemption signal (SIGUSR1), which must
// end the job with a checkpoint and exit status 75 instead. Every case ends every rank with a non-zero
// status and its message printed once; none may hang (each run is under
// `timeout`, and a timeout fails the test); checkpoints stay intact.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "io/data_file.hpp"
#include "tests/mpi_cli.hpp"

namespace sinapsis {
namespace {

namespace fs = std::filesystem;
using test::CommandResult;
using test::run_command;

constexpr const char* kMpiEnvironment =
    "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1 ";

class MpiFaults : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sinapsis_mpi_faults_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  int ranks() const { return GetParam(); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string data(std::size_t rows) {
    write_data_file(path("all.h5"), test::blobs(rows, 3));
    return path("all.h5");
  }
  std::string train(const std::string& data, const std::string& run_dir, const std::string& lr = "0.05") const {
    return "train --data " + data + " --hidden 8 --lr " + lr + " --momentum 0.9 --batch 12 --threads 1 --quiet --out " +
           run_dir;
  }
  CommandResult run(const std::string& arguments, const std::string& environment = "") const {
    return run_command(std::string(kMpiEnvironment) + environment + " timeout 120 mpirun -n " +
                       std::to_string(ranks()) + " --oversubscribe " SINAPSIS_BINARY " " + arguments);
  }

  // The job ended by its own fault handling: not 0, not the timeout's 124.
  static void expect_failed_once(const CommandResult& r, const std::string& fragment) {
    EXPECT_NE(r.status, 0) << r.output;
    EXPECT_NE(r.status, 124) << "timed out (a hang):\n" << r.output;
    const auto lines = test::sinapsis_lines(r.output);
    ASSERT_EQ(lines.size(), 1u) << "the error must be printed once:\n" << r.output;
    EXPECT_NE(lines[0].find(fragment), std::string::npos) << lines[0];
  }

  // `mpirun ... ARGUMENTS` in the background; its status lands in path("status").
  void start(const std::string& arguments) const {
    const std::string job = std::string(kMpiEnvironment) + "timeout 120 mpirun -n " + std::to_string(ranks()) +
                            " --oversubscribe " SINAPSIS_BINARY " " + arguments + " > " + path("log") +
                            " 2>&1; echo $? > " + path("status");
    ASSERT_EQ(std::system(("(" + job + ") &").c_str()), 0);
  }
  // Waits up to `seconds` for `file` to appear.
  static bool appears(const std::string& file, double seconds) {
    for (int i = 0; i < int(seconds * 10) && !fs::exists(file); ++i) ::usleep(100000);
    return fs::exists(file);
  }
  int background_status() const {
    std::ifstream in(path("status"));
    int status = -1;
    in >> status;
    return status;
  }
  std::string log() const {
    std::ifstream in(path("log"));
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  fs::path dir_;
};

INSTANTIATE_TEST_SUITE_P(Ranks, MpiFaults, ::testing::Values(2, 3),
                         [](const ::testing::TestParamInfo<int>& param) { return std::to_string(param.param) + "ranks"; });

TEST_P(MpiFaults, ExceptionOnTheLastRankMidTrainingEndsEveryRank) {
  // The other ranks are already inside the next epoch's collectives when the
  // last rank throws: only an abort of the job can end them.
  const std::string env = "SINAPSIS_INJECT_FAULT=" + std::to_string(ranks() - 1) + ":2";
  const CommandResult r = run(train(data(600), path("run")) + " --epochs 1000", env);
  expect_failed_once(r, "injected fault after epoch 2");
  EXPECT_NE(r.output.find("rank " + std::to_string(ranks() - 1)), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(path("run/model.h5")));
}

TEST_P(MpiFaults, IoErrorOnRankZeroMidTrainingEndsEveryRankAndKeepsTheLastCheckpoint) {
  const std::string run_dir = path("run");
  start(train(data(4000), run_dir) + " --epochs 100000 --checkpoint-every 1");
  ASSERT_TRUE(appears(run_dir + "/checkpoint.h5", 60)) << log();
  // The run directory moves away and a file takes its place (a lost mount,
  // an operator's mistake): rank 0's next checkpoint cannot be written.
  const std::string moved = path("moved");
  fs::rename(run_dir, moved);
  std::ofstream(run_dir) << "not a directory\n";
  ASSERT_TRUE(appears(path("status"), 60)) << "the job did not end after the I/O error";
  EXPECT_NE(background_status(), 0);
  EXPECT_NE(background_status(), 124) << "ended by the timeout, not by the fault";
  const auto lines = test::sinapsis_lines(log());
  ASSERT_EQ(lines.size(), 1u) << log();
  EXPECT_NE(lines[0].find(run_dir), std::string::npos) << lines[0];
  // The checkpoint written before the fault is whole. (A temporary being
  // written while the directory moved may stay beside it: it can no longer
  // be named by its path. It never replaces the checkpoint.)
  EXPECT_EQ(run_command("h5dump -H " + moved + "/checkpoint.h5 > /dev/null").status, 0);
}

TEST_P(MpiFaults, DivergenceStopsEveryRankNamingEpochAndStepAndKeepsFiniteWeights) {
  // Squared error, and a learning rate that warms up linearly by 0.005 per
  // step: a few epochs train, then the weights blow up mid-epoch.
  const std::string run_dir = path("run");
  const CommandResult r =
      run(train(data(240), run_dir, "10") + " --loss mse --epochs 200 --warmup-steps 2000 --checkpoint-every 1");
  expect_failed_once(r, "training diverged");
  const auto lines = test::sinapsis_lines(r.output);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("epoch "), std::string::npos);
  EXPECT_NE(lines[0].find(", step "), std::string::npos);
  EXPECT_EQ(lines[0].find("in epoch 1,"), std::string::npos) << "divergence should come after some epochs: " << lines[0];
  for (const std::string file : {"model.h5", "checkpoint.h5"}) {
    ASSERT_TRUE(fs::exists(run_dir + "/" + file));
    const std::string weights = run_command("h5dump -d /layers/0/weight " + run_dir + "/" + file).output;
    EXPECT_EQ(weights.find("nan"), std::string::npos) << file;
    EXPECT_EQ(weights.find("inf"), std::string::npos) << file;
  }
}

TEST_P(MpiFaults, TheLastRankDisagreeingStopsEveryRankBeforeTraining) {
  const std::string common = " --oversubscribe " SINAPSIS_BINARY " " + train(data(60), path("run")) + " --epochs 2";
  const std::string last = std::to_string(ranks() - 1);
  const std::string command = "-n " + last + common + " --l2 0.1 : -n 1" + common + " --l2 0.2";
  const CommandResult r = run_command(std::string(kMpiEnvironment) + "timeout 60 mpirun " + command);
  expect_failed_once(r, "ranks disagree");
  EXPECT_NE(r.output.find("rank " + last + " has"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(path("run/model.h5")));
}

TEST_P(MpiFaults, KilledRankEndsTheJobAndLeavesAResumableCheckpoint) {
  const std::string run_dir = path("killed");
  start(train(data(4000), run_dir) + " --epochs 100000 --checkpoint-every 1");
  ASSERT_TRUE(appears(run_dir + "/checkpoint.h5", 60)) << "no checkpoint appeared:\n" << log();
  ::usleep(300000);
  // SIGKILL the sinapsis rank with the highest pid (not necessarily rank 0).
  const CommandResult pids = run_command("pgrep -f -- '--out " + run_dir + "' | sort -n");
  std::istringstream list(pids.output);
  std::vector<long> rank_pids;
  for (long pid; list >> pid;)
    if (run_command("cat /proc/" + std::to_string(pid) + "/comm").output.find("sinapsis") != std::string::npos)
      rank_pids.push_back(pid);
  ASSERT_EQ(rank_pids.size(), std::size_t(ranks())) << pids.output;
  ::kill(pid_t(rank_pids.back()), SIGKILL);
  ASSERT_TRUE(appears(path("status"), 60)) << "the job did not end after a rank was killed";
  EXPECT_NE(background_status(), 0);
  EXPECT_NE(background_status(), 124) << "ended by the timeout, not by the fault";
  // The last checkpoint is intact and resumes. --epochs 1: the checkpoint is
  // past it, so the run reloads and writes the model.
  const CommandResult resumed = run("train --resume " + run_dir + " --epochs 1 --checkpoint-every 0");
  EXPECT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_TRUE(fs::exists(run_dir + "/model.h5"));
}

TEST_P(MpiFaults, SignalMidEpochCheckpointsExitsResumeMeAndResumesBitIdentical) {
  // Small enough to finish on a loaded machine (3 ranks on 2 cores), long
  // enough (60 epochs) that the signal lands after the first checkpoint.
  const std::string options = " --epochs 60 --keep-prob 0.9 --checkpoint-every 1";
  const std::string file = data(2000);
  ASSERT_EQ(run(train(file, path("whole")) + options).status, 0);
  const std::string parts = path("parts");
  start(train(file, parts) + options);
  // The first checkpoint shows training is under way (epoch 1 of 100).
  ASSERT_TRUE(appears(parts + "/checkpoint.h5", 60)) << log();
  ASSERT_FALSE(fs::exists(path("status"))) << "the run ended before the signal:\n" << log();
  // SIGUSR1 to mpirun, which forwards it to every rank (as SLURM's
  // --signal does to a job step).
  long mpirun = 0;
  std::istringstream candidates(run_command("pgrep -x mpirun").output);
  for (long pid; candidates >> pid;) {
    std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline");
    const std::string text((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    if (text.find(parts) != std::string::npos) mpirun = pid;
  }
  ASSERT_NE(mpirun, 0) << "mpirun not found";
  ASSERT_EQ(::kill(pid_t(mpirun), SIGUSR1), 0);
  ASSERT_TRUE(appears(path("status"), 60)) << "the job did not end after SIGUSR1";
  EXPECT_EQ(background_status(), 75) << log();
  EXPECT_NE(log().find("stopped by SIGUSR1"), std::string::npos) << log();
  EXPECT_NE(log().find("resume with: sinapsis train --resume " + parts), std::string::npos) << log();
  ASSERT_TRUE(fs::exists(parts + "/checkpoint.h5"));
  EXPECT_FALSE(fs::exists(parts + "/model.h5")) << "a stopped run writes no final model";
  const CommandResult resumed = run("train --resume " + parts);
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  const auto layers = [](const std::string& run_dir) {
    return run_command("h5dump -g /layers " + run_dir + "/model.h5 | tail -n +2").output;
  };
  EXPECT_EQ(layers(path("whole")), layers(parts));
  // The metrics of the interrupted epoch are whole too: same training losses.
  const auto losses = [](const std::string& run_dir) {
    return run_command("cut -d, -f1,2 " + run_dir + "/metrics.csv").output;
  };
  EXPECT_EQ(losses(path("whole")), losses(parts));
}

}  // namespace
}  // namespace sinapsis
