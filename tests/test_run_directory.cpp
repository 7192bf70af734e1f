// A run directory as jobs share it (launch/run_directory.hpp): one writer at
// a time, named when a second is refused; no run replaced without
// --overwrite, and --overwrite replaces all of it; a resume cannot change
// what made the run, and refuses a checkpoint edited by hand; metrics.csv
// comes back whole from the checkpoint; SIGINT and SIGHUP stop like SIGTERM,
// a second one ends at once; and the stop reason is the real one when only
// one rank got the signal.
#include <gtest/gtest.h>

#include <hdf5.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "io/checkpoint.hpp"
#include "io/data_file.hpp"
#include "launch/stop_signals.hpp"
#include "tests/mpi_cli.hpp"
#include "tests/small_disk.hpp"
#include "tests/waiting.hpp"

namespace sinapsis {
namespace {

namespace fs = std::filesystem;
using test::CommandResult;
using test::run_command;
using test::run_sinapsis;

std::string read(const std::string& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The sinapsis processes (not their shells or launchers) whose command line
// holds `fragment`, by increasing pid.
std::vector<pid_t> sinapsis_processes(const std::string& fragment) {
  std::vector<pid_t> found;
  std::istringstream candidates(run_command("pgrep -f -- '" + fragment + "' | sort -n").output);
  for (long pid; candidates >> pid;)
    if (read("/proc/" + std::to_string(pid) + "/comm").rfind("sinapsis", 0) == 0) found.push_back(pid_t(pid));
  return found;
}

class RunDirectoryCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sinapsis_run_dir_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    write_data_file(path("d.h5"), test::blobs(400, 3));
  }
  void TearDown() override {
    job_.reset();  // ends a job a failed test left running
    fs::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string train(const std::string& run, const std::string& extra = "") const {
    return "train --data " + path("d.h5") + " --hidden 4 --batch 8 --quiet --out " + path(run) + " " + extra;
  }
  // `sinapsis ARGUMENTS` in the background, after `launcher` (e.g. mpirun);
  // its output goes to path("log").
  void start(const std::string& arguments, const std::string& launcher = "") {
    job_.emplace("exec " + launcher + SINAPSIS_BINARY " " + arguments, path("log"));
    ASSERT_TRUE(job_->started());
  }
  int background_status() { return job_->wait().value_or(-1); }

  fs::path dir_;
  std::optional<test::BackgroundCommand> job_;
};

TEST_F(RunDirectoryCli, ASecondWriterIsRefusedNamingTheHolderAndSigintStopsTheFirstWithACheckpoint) {
  start(train("run", "--epochs 100000000 --checkpoint-every 1"));
  ASSERT_TRUE(test::appears(path("run/checkpoint.h5"))) << job_->log();
  for (const std::string& second : {train("run", "--epochs 2 --overwrite"), std::string("train --resume " + path("run"))}) {
    const CommandResult r = run_sinapsis(second);
    EXPECT_EQ(r.status, 2) << second << "\n" << r.output;
    EXPECT_EQ(test::sinapsis_lines(r.output).size(), 1u) << r.output;
    EXPECT_NE(r.output.find("is in use by sinapsis train (pid "), std::string::npos) << r.output;
  }
  // The first job goes on and stops cleanly on Ctrl-C.
  const auto pids = sinapsis_processes("--out " + path("run") + " --epochs 100000000");
  ASSERT_EQ(pids.size(), 1u);
  ASSERT_EQ(::kill(pids[0], SIGINT), 0);
  EXPECT_EQ(background_status(), 75) << job_->log();
  EXPECT_NE(job_->log().find("stopped by SIGINT"), std::string::npos) << job_->log();
  EXPECT_NE(read(path("run/summary.json")).find("\"stop_reason\": \"signal\""), std::string::npos);
  // Its lock went with it: the run resumes.
  const CommandResult resumed = run_sinapsis("train --resume " + path("run") + " --epochs 1");
  EXPECT_EQ(resumed.status, 0) << resumed.output;
}

TEST_F(RunDirectoryCli, AStoppedRunIsNotReplacedWithoutOverwrite) {
  // A deadline already due: one step, a checkpoint, exit 75, no model.
  ASSERT_EQ(run_sinapsis(train("run", "--epochs 1000 --time-limit 0.001")).status, 75);
  ASSERT_TRUE(fs::exists(path("run/checkpoint.h5")));
  const auto written = fs::last_write_time(path("run/checkpoint.h5"));
  const CommandResult r = run_sinapsis(train("run", "--epochs 2"));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("already holds a run (checkpoint.h5)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--resume " + path("run")), std::string::npos) << r.output;
  EXPECT_EQ(fs::last_write_time(path("run/checkpoint.h5")), written);
  EXPECT_FALSE(fs::exists(path("run/model.h5")));
}

TEST_F(RunDirectoryCli, OverwriteReplacesTheWholeEarlierRunCheckpointIncluded) {
  ASSERT_EQ(run_sinapsis(train("run", "--epochs 3 --checkpoint-every 1")).status, 0);
  ASSERT_TRUE(fs::exists(path("run/checkpoint.h5")));
  std::ofstream(path("run/notes.txt")) << "the user's own file\n";
  const CommandResult r = run_sinapsis(train("run", "--epochs 2 --overwrite"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_FALSE(fs::exists(path("run/checkpoint.h5"))) << "the earlier run's checkpoint would revive it on --resume";
  EXPECT_TRUE(fs::exists(path("run/notes.txt"))) << "only the run's own files go";
  const std::string metrics = read(path("run/metrics.csv"));
  EXPECT_EQ(std::count(metrics.begin(), metrics.end(), '\n'), 3) << metrics;  // header + 2 epochs
  EXPECT_EQ(run_sinapsis("train --resume " + path("run")).status, 1);
}

TEST_F(RunDirectoryCli, AJobThatFailsBeforeWritingLeavesNoTrace) {
  const CommandResult r = run_sinapsis("train --data " + path("missing.h5") + " --out " + path("new"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_FALSE(fs::exists(path("new")));
  fs::create_directories(path("mine"));
  EXPECT_EQ(run_sinapsis("train --data " + path("missing.h5") + " --out " + path("mine")).status, 1);
  EXPECT_TRUE(fs::is_empty(path("mine"))) << "a lock file was left behind";
}

TEST_F(RunDirectoryCli, AResumeMayExtendTheRunButNotChangeWhatMadeIt) {
  ASSERT_EQ(run_sinapsis(train("run", "--epochs 2 --checkpoint-every 1 --l2 0.001")).status, 0);
  for (const auto& [change, fragment] : std::vector<std::pair<std::string, std::string>>{
           {"--hidden 7,7", "--hidden cannot change when resuming"},
           {"--l2 0.01", "(the run has 0.001, given 0.01)"},
           {"--data " + path("other.h5"), "--data cannot change"},
           {"--overwrite", "--overwrite and --resume: choose one"}}) {
    const CommandResult r = run_sinapsis("train --resume " + path("run") + " " + change);
    EXPECT_EQ(r.status, 2) << change << "\n" << r.output;
    EXPECT_EQ(test::sinapsis_lines(r.output).size(), 1u) << r.output;
    EXPECT_NE(r.output.find(fragment), std::string::npos) << r.output;
  }
  // The same values, and options about running rather than the run, are fine.
  const CommandResult r =
      run_sinapsis("train --resume " + path("run") + " --hidden 4 --l2 0.001 --epochs 4 --threads 1 --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(read(path("run/config.ini")).find("epochs = 4\n"), std::string::npos);
  EXPECT_NE(read(path("run/config.ini")).find("hidden = 4\n"), std::string::npos);
}

// Rewrites attribute `name` of /checkpoint as the double `value`.
void edit_checkpoint(const std::string& file, const char* name, double value) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  const hid_t group = H5Gopen2(f, "checkpoint", H5P_DEFAULT);
  H5Adelete(group, name);
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t attribute = H5Acreate2(group, name, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(attribute, H5T_NATIVE_DOUBLE, &value);
  H5Aclose(attribute);
  H5Sclose(space);
  H5Gclose(group);
  H5Fclose(f);
}

TEST_F(RunDirectoryCli, ACheckpointEditedByHandIsRefusedNamingTheAttribute) {
  ASSERT_EQ(run_sinapsis(train("run", "--epochs 3 --checkpoint-every 1")).status, 0);
  fs::copy_file(path("run/checkpoint.h5"), path("good.h5"));
  for (const auto& [name, value, fragment] : std::vector<std::tuple<const char*, double, std::string>>{
           {"epochs_done", -3, "epochs_done is -3, not a count >= 0"},
           {"epochs_done", 2.5, "epochs_done is 2.5"},
           {"global_step", 1e300, "global_step is 1e+300"},
           {"early_best_epoch", 9, "early_best_epoch is 9, past epochs_done 3"},
           {"steps_into_epoch", 1000000, "steps_into_epoch is 1000000, past the 50 steps of an epoch"}}) {
    fs::copy_file(path("good.h5"), path("run/checkpoint.h5"), fs::copy_options::overwrite_existing);
    edit_checkpoint(path("run/checkpoint.h5"), name, value);
    const CommandResult r = run_sinapsis("train --resume " + path("run") + " --epochs 5");
    EXPECT_EQ(r.status, 1) << name << "\n" << r.output;
    EXPECT_EQ(test::sinapsis_lines(r.output).size(), 1u) << r.output;
    EXPECT_NE(r.output.find(fragment), std::string::npos) << r.output;
  }
}

TEST_F(RunDirectoryCli, ResumeRestoresMetricsFromTheCheckpointWhenMetricsCsvFellBehind) {
  ASSERT_EQ(run_sinapsis(train("whole", "--epochs 5 --threads 1")).status, 0);
  ASSERT_EQ(run_sinapsis(train("parts", "--epochs 3 --threads 1 --checkpoint-every 1")).status, 0);
  // metrics.csv lost its last rows (a write that failed after the checkpoint's).
  const std::string metrics = read(path("parts/metrics.csv"));
  std::ofstream(path("parts/metrics.csv")) << metrics.substr(0, metrics.find('\n', metrics.find('\n') + 1) + 1);
  ASSERT_EQ(run_sinapsis("train --resume " + path("parts") + " --epochs 5").status, 0);
  const auto losses = [&](const std::string& run) { return run_command("cut -d, -f1,2 " + path(run) + "/metrics.csv").output; };
  EXPECT_EQ(losses("whole"), losses("parts"));
}

TEST_F(RunDirectoryCli, ACheckpointThatCannotBeWrittenEndsEveryRankAlikeAndKeepsMetricsWhole) {
  test::SmallDisk disk(dir_ / "disk", 150 << 10);
  if (!disk.mounted()) GTEST_SKIP() << disk.why_not();
  const std::string run = (disk.dir() / "run").string();
  const CommandResult r = test::run_mpi("train --data " + path("d.h5") + " --hidden 64,64 --batch 8 --quiet --out " +
                                        run + " --epochs 100000000 --checkpoint-every 1");
  EXPECT_EQ(r.status, 1) << r.output;  // agreed: no abort, no signal
  const auto lines = test::sinapsis_lines(r.output);
  ASSERT_EQ(lines.size(), 1u) << r.output;
  EXPECT_NE(lines[0].find("cannot be written"), std::string::npos) << lines[0];
  EXPECT_EQ(r.output.find("MPI_ABORT"), std::string::npos) << "every rank ends by the agreement, not by an abort";
  // Whatever made it to disk is whole: metrics.csv's rows of every epoch
  // done, which is the checkpoint's and at most the one whose checkpoint
  // failed (a resume drops that one: test_mpi_faults).
  if (fs::exists(run + "/checkpoint.h5")) {
    const std::string metrics = read(run + "/metrics.csv");
    ASSERT_FALSE(metrics.empty());
    EXPECT_EQ(metrics.back(), '\n') << "a row cut short:\n" << metrics;
    const auto rows = std::size_t(std::count(metrics.begin(), metrics.end(), '\n')) - 1;
    const std::string done = run_command("h5dump -a /checkpoint/epochs_done " + run + "/checkpoint.h5").output;
    const bool same = done.find("(0): " + std::to_string(rows) + "\n") != std::string::npos;
    const bool one_behind = done.find("(0): " + std::to_string(rows - 1) + "\n") != std::string::npos;
    EXPECT_TRUE(same || one_behind) << rows << " rows\n" << done;
  }
}

TEST_F(RunDirectoryCli, ARunTrainedWithRelativePathsResumesAndRepeatsFromAnotherDirectory) {
  // Trained in a/ with relative paths, stopped at a checkpoint (epoch 2 of 4).
  fs::create_directories(path("a/data"));
  fs::create_directories(path("b"));
  fs::copy_file(path("d.h5"), path("a/data/d.h5"));
  const std::string in_a = "cd " + path("a") + " && " SINAPSIS_BINARY " ";
  const std::string in_b = "cd " + path("b") + " && " SINAPSIS_BINARY " ";
  const std::string options = " --hidden 4 --batch 8 --keep-prob 0.9 --checkpoint-every 2 --quiet";
  ASSERT_EQ(run_command(in_a + "train --data ./data/d.h5 --out run --epochs 2" + options).status, 0);
  ASSERT_EQ(run_command(in_a + "train --data data/d.h5 --out whole --epochs 4" + options).status, 0);
  // config.ini names every path absolute, each after a comment with it as given.
  const std::string config = read(path("a/run/config.ini"));
  EXPECT_NE(config.find("# data as given: ./data/d.h5\ndata = " + path("a/data/d.h5") + "\n"), std::string::npos)
      << config;
  EXPECT_NE(config.find("out = " + path("a/run") + "\n"), std::string::npos) << config;
  // From b/: resumed to epoch 4 (naming the data again in another spelling
  // is no change), it ends where the run straight through did.
  const CommandResult resumed = run_command(in_b + "train --resume ../a/run --data ../a/data/./d.h5 --epochs 4 --quiet");
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  const auto layers = [](const std::string& model) {
    return run_command("h5dump -g /layers " + model + " | tail -n +2").output;
  };
  EXPECT_EQ(layers(path("a/run/model.h5")), layers(path("a/whole/model.h5")));
  // And its config.ini repeats it from b/ (its out is the old run: another is given).
  const CommandResult again = run_command(in_b + "train --config ../a/whole/config.ini --out again");
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_EQ(layers(path("b/again/model.h5")), layers(path("a/whole/model.h5")));
  // The checkpoint keeps the command line as given and where.
  const Checkpoint c = read_checkpoint(path("a/run/checkpoint.h5"));
  EXPECT_EQ(c.working_directory, path("b"));
  EXPECT_NE(std::find(c.arguments.begin(), c.arguments.end(), path("a/data/d.h5")), c.arguments.end());
}

TEST_F(RunDirectoryCli, InASweepATrialWhoseCheckpointCannotBeWrittenFailsAloneAndTheOthersTrain) {
  // Trial 1's directory is a disk with room for its record and the files
  // written with the first epoch (its lock, config.ini and metrics.csv: a
  // tmpfs page each), not its checkpoint (16 KiB).
  const std::string sweep = path("sweep");
  test::SmallDisk disk(fs::path(sweep) / "trials" / "t0001", 24 << 10);
  if (!disk.mounted()) GTEST_SKIP() << disk.why_not();
  const CommandResult r = test::run_mpi("sweep --data " + path("d.h5") + " --depth 1 --width 2,3,4 --max-epochs 3 " +
                                        "--checkpoint-every 1 --batch 8 --quiet --out " + sweep);
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string trials = read(sweep + "/trials.csv");
  EXPECT_EQ(std::count(trials.begin(), trials.end(), '\n'), 4) << trials;
  std::istringstream rows(trials);
  std::string row;
  std::getline(rows, row);  // header
  std::size_t failed = 0;
  while (std::getline(rows, row))
    if (row.find(",failed,") != std::string::npos) {
      ++failed;
      EXPECT_EQ(row.rfind("1,", 0), 0u) << "only trial 1 fails: " << row;
      EXPECT_NE(row.find("cannot be written"), std::string::npos) << row;
    }
  EXPECT_EQ(failed, 1u) << trials;
}

TEST(StopSignalsProcess, SigintAndSighupAskToStopAndASecondSignalEndsAtOnce) {
  for (const int signal : {SIGINT, SIGHUP, SIGTERM, SIGUSR1}) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      const cli::StopSignals signals;
      std::raise(signal);
      if (signals.received() != signal) ::_exit(3);  // the first is only recorded
      std::raise(signal);                            // the second ends the process
      ::_exit(4);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "signal " << signal << ": exited with " << WEXITSTATUS(status);
    EXPECT_EQ(WTERMSIG(status), signal);
  }
}

TEST_F(RunDirectoryCli, ASignalToOneRankIsReportedAsASignalOnEveryRank) {
  start(train("run", "--epochs 100000000 --checkpoint-every 1"),
        "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1 timeout 300 "
        "mpirun -n 2 --oversubscribe ");
  ASSERT_TRUE(test::appears(path("run/checkpoint.h5"))) << job_->log();
  // Rank 1 alone: rank 0, which writes the summary, learns of it only
  // through the step's vote.
  const auto ranks = sinapsis_processes("--out " + path("run") + " --epochs 100000000");
  ASSERT_EQ(ranks.size(), 2u);
  pid_t rank1 = 0;
  for (const pid_t pid : ranks) {
    std::string environment = read("/proc/" + std::to_string(pid) + "/environ");
    std::replace(environment.begin(), environment.end(), '\0', '\n');
    if (environment.find("\nOMPI_COMM_WORLD_RANK=1\n") != std::string::npos) rank1 = pid;
  }
  ASSERT_NE(rank1, 0);
  ASSERT_EQ(::kill(rank1, SIGUSR1), 0);
  EXPECT_EQ(background_status(), 75) << job_->log();
  EXPECT_NE(read(path("run/summary.json")).find("\"stop_reason\": \"signal\""), std::string::npos)
      << read(path("run/summary.json"));
  EXPECT_NE(job_->log().find("stopped by a signal to another rank"), std::string::npos) << job_->log();
}

}  // namespace
}  // namespace sinapsis
