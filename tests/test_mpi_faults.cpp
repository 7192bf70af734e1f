// Faults in a running `mpirun -n N sinapsis train` job, for N = 2 and 3: an
// exception on one rank, an I/O error on rank 0, a NaN, ranks that disagree,
// a rank killed with SIGKILL; and a preemption signal (SIGUSR1), which must
// end the job with a checkpoint and exit status 75 instead. Every case ends every rank with a non-zero
// status and its message printed once; none may hang (each run is under
// `timeout`, and a timeout fails the test); checkpoints stay intact. A run
// the test interrupts has no end of its own (a billion epochs), and the
// test acts on what it sees (a checkpoint, the log), so the outcome does
// not depend on how fast the machine is.
#include <gtest/gtest.h>

#include <fcntl.h>   // AT_FDCWD
#include <signal.h>
#include <stdio.h>   // renameat2, RENAME_EXCHANGE
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "io/data_file.hpp"
#include "tests/mpi_cli.hpp"
#include "tests/waiting.hpp"

namespace sinapsis {
namespace {

namespace fs = std::filesystem;
using test::CommandResult;
using test::kMpiEnvironment;
using test::run_command;
using test::timed_mpirun;

class MpiFaults : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sinapsis_mpi_faults_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    job_.reset();  // a job a failed test left running ends first
    fs::remove_all(dir_);
  }

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
    return run_command(std::string(kMpiEnvironment) + environment + " " + timed_mpirun() + "-n " +
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

  // `mpirun ... ARGUMENTS` in the background, its output in path("log").
  void start(const std::string& arguments) {
    job_ = std::make_unique<test::BackgroundCommand>(std::string(kMpiEnvironment) + "exec " + timed_mpirun() + "-n " +
                                                         std::to_string(ranks()) + " --oversubscribe " SINAPSIS_BINARY
                                                         " " + arguments,
                                                     path("log"));
    ASSERT_TRUE(job_->started());
  }
  // The background job's mpirun (the child of its `timeout`), 0 if none.
  pid_t mpirun() const {
    return pid_t(std::atol(run_command("pgrep -P " + std::to_string(job_->pid()) + " -x mpirun").output.c_str()));
  }
  // SIGUSR1 to the background job's mpirun, which forwards it to every rank
  // (as SLURM's --signal does to a job step); the job must end as stopped
  // on request (75).
  void stop_job() const {
    const pid_t launcher = mpirun();
    ASSERT_NE(launcher, 0) << "mpirun not found";
    ASSERT_EQ(::kill(launcher, SIGUSR1), 0);
    EXPECT_EQ(job_status(), 75) << log();
  }
  // The exit status of the background job once it ended by itself: not the
  // timeout's 124 (a hang). Fails the test if it did not end in time.
  int job_status() const {
    const std::optional<int> status = job_->wait();
    EXPECT_TRUE(status.has_value()) << "the job did not end:\n" << log();
    EXPECT_NE(status.value_or(124), 124) << "ended by the timeout (a hang):\n" << log();
    return status.value_or(124);
  }
  std::string log() const { return job_->log(); }

  fs::path dir_;
  std::unique_ptr<test::BackgroundCommand> job_;
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
  start(train(data(4000), run_dir) + " --epochs 1000000000 --checkpoint-every 1");
  ASSERT_TRUE(test::appears(run_dir + "/checkpoint.h5")) << log();
  // The run directory moves away and a file takes its place (a lost mount,
  // an operator's mistake): rank 0's next checkpoint cannot be written. One
  // atomic exchange: between a rename and a new file, rank 0 could make
  // the directory again and train on.
  const std::string moved = path("moved");
  std::ofstream(moved) << "not a directory\n";
  ASSERT_EQ(::renameat2(AT_FDCWD, run_dir.c_str(), AT_FDCWD, moved.c_str(), RENAME_EXCHANGE), 0)
      << std::strerror(errno);
  EXPECT_NE(job_status(), 0) << log();
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
  const CommandResult r = test::run_mpirun(command);
  expect_failed_once(r, "ranks disagree");
  EXPECT_NE(r.output.find("rank " + last + " has"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(path("run/model.h5")));
}

TEST_P(MpiFaults, KilledRankEndsTheJobAndLeavesAResumableCheckpoint) {
  const std::string run_dir = path("killed");
  start(train(data(4000), run_dir) + " --epochs 1000000000 --checkpoint-every 1");
  // A checkpoint: every rank trains.
  ASSERT_TRUE(test::appears(run_dir + "/checkpoint.h5")) << "no checkpoint appeared:\n" << log();
  // SIGKILL the sinapsis rank with the highest pid (not necessarily rank 0).
  const pid_t launcher = mpirun();
  ASSERT_NE(launcher, 0) << "mpirun not found";
  const CommandResult pids = run_command("pgrep -P " + std::to_string(launcher) + " -x sinapsis | sort -n");
  std::istringstream list(pids.output);
  std::vector<pid_t> rank_pids;
  for (pid_t pid; list >> pid;) rank_pids.push_back(pid);
  ASSERT_EQ(rank_pids.size(), std::size_t(ranks())) << pids.output;
  ASSERT_EQ(::kill(rank_pids.back(), SIGKILL), 0);
  EXPECT_NE(job_status(), 0) << log();
  // The last checkpoint is intact and resumes. --epochs 1: the checkpoint is
  // past it, so the run reloads and writes the model.
  const CommandResult resumed = run("train --resume " + run_dir + " --epochs 1 --checkpoint-every 0");
  EXPECT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_TRUE(fs::exists(run_dir + "/model.h5"));
}

TEST_P(MpiFaults, SignalMidEpochCheckpointsExitsResumeMeAndResumesBitIdentical) {
  // The run to interrupt has no end of its own (a billion epochs): only the
  // signal stops it. Where it stopped decides how far the others train.
  const std::string options = " --keep-prob 0.9 --checkpoint-every 1";
  const std::string file = data(2000);
  const std::string parts = path("parts");
  start(train(file, parts) + options + " --epochs 1000000000");
  // The first checkpoint shows training is under way.
  ASSERT_TRUE(test::appears(parts + "/checkpoint.h5")) << log();
  ASSERT_NO_FATAL_FAILURE(stop_job());
  EXPECT_NE(log().find("stopped by SIGUSR1"), std::string::npos) << log();
  EXPECT_NE(log().find("resume with: sinapsis train --resume " + parts), std::string::npos) << log();
  ASSERT_TRUE(fs::exists(parts + "/checkpoint.h5"));
  EXPECT_FALSE(fs::exists(parts + "/model.h5")) << "a stopped run writes no final model";
  const std::optional<std::size_t> stopped = test::stopped_epoch(log());
  ASSERT_TRUE(stopped.has_value()) << log();
  // The same run uninterrupted to two epochs past the stop, and the stopped
  // one resumed to there (--epochs may change on resume).
  const auto layers = [](const std::string& run_dir) {
    return run_command("h5dump -g /layers " + run_dir + "/model.h5 | tail -n +2").output;
  };
  // Resumed (a copy) to the last epoch it finished: nothing to train, and
  // the model is that epoch's, not the stopped epoch's partial weights.
  fs::copy(parts, path("finished"), fs::copy_options::recursive);
  const std::size_t done = log().find("stopped by SIGUSR1 in epoch") != std::string::npos ? *stopped - 1 : *stopped;
  ASSERT_GE(done, 1u) << log();  // the first checkpoint came after epoch 1
  const std::string finished = " --epochs " + std::to_string(done);
  ASSERT_EQ(run(train(file, path("whole")) + options + finished).status, 0);
  const CommandResult nothing_left = run("train --resume " + path("finished") + finished);
  ASSERT_EQ(nothing_left.status, 0) << nothing_left.output;
  EXPECT_EQ(layers(path("whole")), layers(path("finished")));
  const std::string epochs = " --epochs " + std::to_string(*stopped + 2);
  ASSERT_EQ(run(train(file, path("whole")) + options + " --overwrite" + epochs).status, 0);
  const CommandResult resumed = run("train --resume " + parts + epochs);
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_EQ(layers(path("whole")), layers(parts));
  // The metrics of the interrupted epoch are whole too: the same training
  // losses and accuracies (its sums so far travel in the checkpoint).
  const auto losses = [](const std::string& run_dir) {
    return run_command("awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == \"train_accuracy\") a = i } "
                       "{ print $1 \",\" $2 \",\" $a }' " + run_dir + "/metrics.csv").output;
  };
  const std::string whole = losses(path("whole"));
  EXPECT_EQ(whole, losses(parts));
  EXPECT_EQ(whole.find(",\n"), std::string::npos) << "train_accuracy missing:\n" << whole;
}

// The rows of metrics.csv without the columns that time things: what two
// runs of the same seed must agree on. Empty if the file is missing.
std::string untimed_metrics(const std::string& run_dir) {
  return run_command("awk -F, -v OFS=, '{ $7 = $8 = $11 = $12 = $13 = $14 = \"\" } { print }' " + run_dir +
                     "/metrics.csv")
      .output;
}

// The model's layers, to compare two runs bit for bit.
std::string model_layers(const std::string& run_dir) {
  return run_command("h5dump -g /layers " + run_dir + "/model.h5 | tail -n +2").output;
}

// Streamed training data (issue 17): 4 shards, read through a buffer of 64
// rows in blocks of 50 with --shuffle global, standardized. The same run
// with the data held (whole on every rank) trains on the same rows in the
// same order: the same metrics (validation and test data streamed too) and
// weights bit for bit. Stopped mid-epoch by SIGUSR1 and resumed, the
// streamed run ends where the held one does.
TEST_P(MpiFaults, StreamedDataTrainsAsHeldDataAndResumesMidEpochBitIdentical) {
  ASSERT_EQ(run_command(SINAPSIS_BINARY " data shard " + data(3000) + " --shards 4 --out-dir " + path("shards")).status,
            0);
  // Validation and test data stream with it (evaluated a chunk at a time).
  write_data_file(path("val.h5"), test::blobs(700, 3));
  const std::string options = " --shuffle global --shuffle-block 50 --shuffle-buffer 64 --standardize on "
                              "--keep-prob 0.9 --checkpoint-every 1 --val-data " + path("val.h5") + " --test-data " +
                              path("val.h5");
  const auto streamed = [&](const std::string& run_dir) {
    // A small budget: small chunks, evaluated in pieces (the same sums).
    return train(path("shards"), run_dir) + options + " --data-in-memory off --memory-budget 4KB";
  };
  ASSERT_EQ(run(train(path("shards"), path("held")) + options + " --data-in-memory on --epochs 3").status, 0);
  const CommandResult r = run(streamed(path("streamed")) + " --epochs 3");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(untimed_metrics(path("held")), untimed_metrics(path("streamed")));
  EXPECT_EQ(model_layers(path("held")), model_layers(path("streamed")));

  start(streamed(path("parts")) + " --epochs 1000000000");
  ASSERT_TRUE(test::appears(path("parts/checkpoint.h5"))) << log();
  ASSERT_NO_FATAL_FAILURE(stop_job());
  const std::optional<std::size_t> stopped = test::stopped_epoch(log());
  ASSERT_TRUE(stopped.has_value()) << log();
  const std::string epochs = " --epochs " + std::to_string(*stopped + 2);
  ASSERT_EQ(run(train(path("shards"), path("whole")) + options + " --data-in-memory on" + epochs).status, 0);
  const CommandResult resumed = run("train --resume " + path("parts") + epochs);
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_EQ(model_layers(path("whole")), model_layers(path("parts")));
}

// --shuffle shard orders held and streamed rows differently: a streamed run
// stopped mid-epoch refuses to resume held, and under --data-in-memory auto
// (which would hold data this small) it resumes streamed, ending where an
// uninterrupted streamed run does.
TEST_P(MpiFaults, AStreamedShardRunResumesStreamed) {
  ASSERT_EQ(run_command(SINAPSIS_BINARY " data shard " + data(3000) + " --shards 4 --out-dir " + path("shards")).status,
            0);
  const std::string options = " --shuffle shard --shuffle-block 50 --shuffle-buffer 64 --checkpoint-every 1";
  start(train(path("shards"), path("parts")) + options + " --data-in-memory off --epochs 1000000000");
  ASSERT_TRUE(test::appears(path("parts/checkpoint.h5"))) << log();
  ASSERT_NO_FATAL_FAILURE(stop_job());
  const std::optional<std::size_t> stopped = test::stopped_epoch(log());
  ASSERT_TRUE(stopped.has_value()) << log();
  const std::string epochs = " --epochs " + std::to_string(*stopped + 2);
  const CommandResult held = run("train --resume " + path("parts") + " --data-in-memory on" + epochs);
  EXPECT_EQ(held.status, 2) << held.output;
  const auto lines = test::sinapsis_lines(held.output);
  ASSERT_EQ(lines.size(), 1u) << held.output;
  EXPECT_NE(lines[0].find("this run streamed its training rows with --shuffle shard"), std::string::npos) << lines[0];
  ASSERT_EQ(run(train(path("shards"), path("whole")) + options + " --data-in-memory off" + epochs).status, 0);
  const CommandResult resumed = run("train --resume " + path("parts") + " --data-in-memory auto" + epochs);
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_EQ(model_layers(path("whole")), model_layers(path("parts")));
}

// --val-split and --test-split with --shuffle global hold out whole blocks:
// held and streamed, the same rows train, validate and test (the same
// metrics), for class ids and for regression targets; a split leaving no
// block to train on is refused in one line.
TEST_P(MpiFaults, SplitsOfStreamedDataHoldOutTheSameBlocksAsHeldData) {
  ASSERT_EQ(run_command(SINAPSIS_BINARY " data shard " + data(3000) + " --shards 3 --out-dir " + path("shards")).status,
            0);
  const std::string options = " --shuffle global --shuffle-block 40 --shuffle-buffer 64 --val-split 0.1 "
                              "--test-split 0.2 --epochs 3";
  for (const std::string residency : {"on", "off"}) {
    const CommandResult r = run(train(path("shards"), path(residency)) + options + " --data-in-memory " + residency);
    ASSERT_EQ(r.status, 0) << r.output;
  }
  const std::string held = untimed_metrics(path("on"));
  EXPECT_EQ(held, untimed_metrics(path("off")));
  EXPECT_NE(held.find("val_loss"), std::string::npos) << held;
  // Regression targets stream as they are held.
  ASSERT_EQ(run_command(SINAPSIS_BINARY " data make --dataset reg-plane --samples 600 --out " + path("reg.h5")).status, 0);
  for (const std::string residency : {"on", "off"}) {
    const CommandResult r = run(train(path("reg.h5"), path("reg-" + residency)) + options + " --data-in-memory " +
                                residency);
    ASSERT_EQ(r.status, 0) << r.output;
  }
  EXPECT_EQ(untimed_metrics(path("reg-on")), untimed_metrics(path("reg-off")));
  const CommandResult refused =
      run(train(path("shards"), path("none")) + " --shuffle global --shuffle-block 1000 --val-split 0.5 --test-split 0.4 --epochs 1");
  EXPECT_EQ(refused.status, 2) << refused.output;
  const auto lines = test::sinapsis_lines(refused.output);
  ASSERT_EQ(lines.size(), 1u) << refused.output;
  EXPECT_NE(lines[0].find("leave no block to train on"), std::string::npos) << lines[0];
}

// Validation data of one row: every rank but one evaluates nothing, yet all
// agree there is an accuracy (the training data has classes), so early
// stopping on it decides alike on every rank, held or streamed.
TEST_P(MpiFaults, ValidationDataWithFewerRowsThanRanksIsJudgedAlikeEverywhere) {
  write_data_file(path("one.h5"), test::blobs(1, 3));
  for (const std::string residency : {"on", "off"}) {
    const CommandResult r = run(train(data(300), path(residency)) + " --val-data " + path("one.h5") +
                                " --monitor val_accuracy --patience 2 --epochs 6 --shuffle global --data-in-memory " +
                                residency);
    ASSERT_EQ(r.status, 0) << r.output;
    const std::string metrics = test::read_text(path(residency) + "/metrics.csv");
    ASSERT_EQ(metrics.rfind("epoch,train_loss,val_loss,val_accuracy,", 0), 0u) << metrics;
    EXPECT_EQ(run_command("awk -F, 'NR > 1 && $4 == \"\"' " + path(residency) + "/metrics.csv").output, "")
        << "an epoch without val_accuracy:\n" << metrics;
  }
  EXPECT_EQ(untimed_metrics(path("on")), untimed_metrics(path("off")));
}

// A shard that disappears, or is cut to half its size, while training
// streams it, or the validation data streamed with it: every rank stops
// before the step (or the evaluation) that needed it, the run fails with one
// line naming the file, summary.json says so, and the last checkpoint
// resumes once the file is whole again. (The run has no end of
// its own; the shard is damaged once the first checkpoint shows training
// is under way.)
TEST_P(MpiFaults, AShardThatDisappearsWhileStreamingEndsEveryRankOnceAndTheCheckpointResumes) {
  ASSERT_EQ(run_command(SINAPSIS_BINARY " data shard " + data(3000) + " --shards 4 --out-dir " + path("shards")).status,
            0);
  // Validation data streams with the training data: read at each epoch's end.
  write_data_file(path("val.h5"), test::blobs(300, 3));
  const std::string shard = path("shards/all-00002-of-00004.h5"), val = path("val.h5");
  for (const std::string& file : {shard, val}) {
    fs::copy_file(file, file + ".whole");
    const std::vector<std::pair<std::string, std::function<void()>>> damages{
        {": no such file", [&] { fs::remove(file); }},
        // (cut while a rank reads it, the read fails instead of the open: the line names the file either way)
        {":", [&] { fs::resize_file(file, fs::file_size(file) / 2); }}};
    for (const auto& [message, damage] : damages) {
      SCOPED_TRACE(file + message);
      const std::string run_dir = path("run");
      fs::remove_all(run_dir);
      start(train(path("shards"), run_dir) + " --val-data " + val +
            " --shuffle global --data-in-memory off --shuffle-buffer 64 --checkpoint-every 1 --epochs 1000000000");
      ASSERT_TRUE(test::appears(run_dir + "/checkpoint.h5")) << log();
      damage();
      EXPECT_EQ(job_status(), 1) << log();
      const auto lines = test::sinapsis_lines(log());
      ASSERT_EQ(lines.size(), 1u) << "the error must be printed once:\n" << log();
      EXPECT_NE(lines[0].find(file + message), std::string::npos) << lines[0];
      const std::string summary = test::read_text(run_dir + "/summary.json");
      EXPECT_NE(summary.find("\"status\": \"failed\""), std::string::npos) << summary;
      fs::copy_file(file + ".whole", file, fs::copy_options::overwrite_existing);
      const CommandResult resumed = run("train --resume " + run_dir + " --epochs 1 --checkpoint-every 0");
      EXPECT_EQ(resumed.status, 0) << resumed.output;
      EXPECT_TRUE(fs::exists(run_dir + "/model.h5"));
    }
  }
}

TEST_P(MpiFaults, MetricsAreWrittenAfterEveryEpochAndTheReportReadsTheRunningRun) {
  // A run with no end of its own: the test reads its files while it trains.
  const std::string run_dir = path("run");
  start(train(data(2000), run_dir) + " --epochs 1000000000");
  const std::string metrics = run_dir + "/metrics.csv";
  const auto rows = [&] {
    const std::string text = test::read_text(metrics);
    return std::size_t(std::count(text.begin(), text.end(), '\n'));  // header included
  };
  ASSERT_TRUE(test::eventually([&] { return rows() >= 4; })) << log();
  // Whole rows of epochs 1, 2, 3, ... each time it is read, under a header.
  // (Read while a row may be being appended: its lines up to the last newline.)
  std::string text = test::read_text(metrics);
  text.resize(text.rfind('\n') + 1);
  EXPECT_EQ(text.rfind("epoch,train_loss,", 0), 0u) << text;
  std::istringstream lines(text.substr(text.find('\n') + 1));
  std::size_t epoch = 0;
  for (std::string line; std::getline(lines, line);) {
    EXPECT_EQ(line.substr(0, line.find(',')), std::to_string(++epoch)) << text;
    EXPECT_EQ(std::count(line.begin(), line.end(), ','), 16) << line;
  }
  EXPECT_GE(epoch, 3u);
  EXPECT_NE(test::read_text(run_dir + "/summary.json").find("\"status\": \"running\""), std::string::npos);
  // The report draws the run as far as it got and says it is training.
  const CommandResult report = run_command(SINAPSIS_BINARY " report " + run_dir);
  EXPECT_EQ(report.status, 0) << report.output;
  EXPECT_NE(report.output.find(run_dir + " is training (sinapsis train (pid "), std::string::npos) << report.output;
  EXPECT_TRUE(fs::exists(run_dir + "/report/index.html"));
  // Stopped (stop_job: SIGUSR1), it says so.
  ASSERT_NO_FATAL_FAILURE(stop_job());
  EXPECT_NE(test::read_text(run_dir + "/summary.json").find("\"status\": \"stopped\""), std::string::npos);
  const CommandResult after = run_command(SINAPSIS_BINARY " report " + run_dir);
  EXPECT_NE(after.output.find(run_dir + " has not finished: it was stopped before the end; continue it with sinapsis train --resume"),
            std::string::npos)
      << after.output;
}

TEST_P(MpiFaults, AResumedRunDropsTheMetricsRowsPastItsCheckpoint) {
  // Rank 0 fails after epoch 7, its rows of epochs 1-6 written (the fault
  // comes before the epoch is recorded), its last checkpoint of epoch 4.
  const std::string file = data(600), parts = path("parts");
  const std::string options = " --keep-prob 0.9 --checkpoint-every 4";
  const CommandResult failed = run(train(file, parts) + options + " --epochs 100", "SINAPSIS_INJECT_FAULT=0:7");
  EXPECT_NE(failed.status, 0) << failed.output;
  const std::string before = untimed_metrics(parts);
  EXPECT_EQ(std::count(before.begin(), before.end(), '\n'), 7) << before;  // the header and 6 rows
  const std::string summary = test::read_text(parts + "/summary.json");
  EXPECT_NE(summary.find("\"status\": \"failed\""), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"error\": \"injected fault after epoch 7"), std::string::npos) << summary;
  // Resumed from epoch 4 to 9: rows 5 and 6 of the lost part give way to the
  // resumed run's, the same as a run that never failed.
  const CommandResult resumed = run("train --resume " + parts + " --epochs 9");
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  ASSERT_EQ(run(train(file, path("whole")) + options + " --epochs 9").status, 0);
  EXPECT_EQ(untimed_metrics(parts), untimed_metrics(path("whole")));
  EXPECT_NE(test::read_text(parts + "/summary.json").find("\"status\": \"finished\""), std::string::npos);
}

TEST_P(MpiFaults, AdamWAndRmspropStateResumeBitIdentical) {
  // Rank 0 fails after epoch 3, the last checkpoint of epoch 2; resumed to 5,
  // the weights are the uninterrupted run's bit for bit: the optimizer's
  // state (m and s; RMSprop's mean square and momentum) and its step count
  // (Adam's bias correction) travel in the checkpoint.
  const std::string file = data(600);
  for (const std::string optimizer : {" --optimizer adamw --weight-decay 0.01 --beta1 0.8",
                                      " --optimizer rmsprop --momentum 0.5 --alpha 0.9"}) {
    SCOPED_TRACE(optimizer);
    const std::string options = "train --data " + file + " --hidden 8 --lr 0.01 --batch 12 --threads 1 --quiet" +
                                optimizer + " --keep-prob 0.9 --checkpoint-every 2 --out ";
    const std::string parts = path("parts"), whole = path("whole");
    fs::remove_all(parts);
    fs::remove_all(whole);
    EXPECT_NE(run(options + parts + " --epochs 100", "SINAPSIS_INJECT_FAULT=0:3").status, 0);
    const CommandResult resumed = run("train --resume " + parts + " --epochs 5");
    ASSERT_EQ(resumed.status, 0) << resumed.output;
    ASSERT_EQ(run(options + whole + " --epochs 5").status, 0);
    const auto layers = [](const std::string& run_dir) {
      return run_command("h5dump -g /layers " + run_dir + "/model.h5 | tail -n +2").output;
    };
    EXPECT_EQ(layers(parts), layers(whole));
    EXPECT_EQ(untimed_metrics(parts), untimed_metrics(whole));
  }
}

}  // namespace
}  // namespace sinapsis
