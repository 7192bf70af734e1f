// The sinapsis executable as a user runs it: end to end on the XOR data, and
// every user error gives ONE line naming the option or file and the bad
// value, the documented exit status, and no output left behind.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/model_file.hpp"
#include "tests/run_command.hpp"

namespace {

namespace fs = std::filesystem;

const std::string kBinary = SINAPSIS_BINARY;
const std::string kSource = SINAPSIS_SOURCE_DIR;
const std::string kXor = kSource + "/experiments/data/xor.h5";
const std::string kNets = kSource + "/experiments/seed_networks/";

using Result = sinapsis::test::CommandResult;

Result run(const std::string& arguments) { return sinapsis::test::run_sinapsis(arguments); }

std::size_t lines(const std::string& text) {
  return std::size_t(std::count(text.begin(), text.end(), '\n'));
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sinapsis_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string out(const std::string& name = "run") const { return (dir_ / name).string(); }

  // Runs `arguments`, expects `status` and one line holding every fragment,
  // and that nothing was written to the run directory.
  void expect_error(const std::string& arguments, int status, std::vector<std::string> fragments) {
    const Result r = run(arguments);
    EXPECT_EQ(r.status, status) << arguments << "\n" << r.output;
    EXPECT_EQ(lines(r.output), 1u) << arguments << "\n" << r.output;
    for (const auto& f : fragments) EXPECT_NE(r.output.find(f), std::string::npos) << "missing '" << f << "' in: " << r.output;
    EXPECT_FALSE(fs::exists(out() + "/model.h5")) << arguments;
    EXPECT_FALSE(fs::exists(out() + "/metrics.csv")) << arguments;
    if (fs::exists(out())) {
      EXPECT_TRUE(fs::is_empty(out())) << arguments;
    }
  }
  std::string train(const std::string& extra) const {
    return "train --data " + kXor + " --out " + out() + " " + extra;
  }

  fs::path dir_;
};

TEST_F(CliTest, TrainsXorEndToEndAndWritesModelAndMetrics) {
  const Result r = run(train("--hidden 4 --activation tanh --loss bce --lr 0.5 --momentum 0.9 --batch 4 --epochs 300 --val-data " + kXor));
  ASSERT_EQ(r.status, 0) << r.output;
  std::ifstream metrics(out() + "/metrics.csv");
  std::string header;
  std::getline(metrics, header);
  EXPECT_EQ(header, "epoch,train_loss,val_loss,val_accuracy,penalty,learning_rate,epoch_seconds,samples_per_second,test_loss,test_accuracy,compute_seconds,comm_seconds,io_seconds,comm_hidden_seconds,bytes_per_step,skipped_steps,train_accuracy");
  std::size_t rows = 0;
  for (std::string line; std::getline(metrics, line);) ++rows;
  EXPECT_EQ(rows, 300u);
  const Result e = run("eval --model " + out() + "/model.h5 --data " + kXor);
  ASSERT_EQ(e.status, 0) << e.output;
  EXPECT_NE(e.output.find("accuracy 1"), std::string::npos) << e.output;
  const Result p = run("predict --model " + out() + "/model.h5 --data " + kXor + " --out " + out("p.csv"));
  ASSERT_EQ(p.status, 0) << p.output;
  std::ifstream predictions(out("p.csv"));
  std::stringstream text;
  text << predictions.rdbuf();
  EXPECT_EQ(lines(text.str()), 5u);  // header + 4 samples
}

TEST_F(CliTest, RefusesToOverwriteARunWithoutOverwrite) {
  ASSERT_EQ(run(train("--epochs 1")).status, 0);
  const Result r = run(train("--epochs 1"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("--overwrite"), std::string::npos) << r.output;
  EXPECT_EQ(run(train("--epochs 1 --overwrite")).status, 0);
}

TEST_F(CliTest, AnOutputDirectoryThatCannotBeCreatedIsRefusedBeforeTraining) {
  std::ofstream(out("plain_file")) << "x\n";
  const Result r = run("train --data " + kXor + " --out " + out("plain_file") + "/run");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_EQ(lines(r.output), 1u) << r.output;
  EXPECT_NE(r.output.find("--out: " + out("plain_file") + "/run cannot be created"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("is not a directory"), std::string::npos) << r.output;
}

TEST_F(CliTest, UnknownActivationOrLoss) {
  expect_error(train("--activation swish"), 2, {"--activation", "swish"});
  expect_error(train("--output gelu"), 2, {"--output", "gelu"});
  expect_error(train("--loss hinge"), 2, {"--loss", "hinge"});
}

TEST_F(CliTest, StepUnitsAreNotTrained) {
  expect_error(train("--activation step"), 2, {"--activation", "step"});
  expect_error(train("--init-model " + kNets + "mp_xor.h5"), 1, {"step"});
}

TEST_F(CliTest, LearningRateMustBePositive) {
  expect_error(train("--lr 0"), 2, {"--lr", "0"});
  expect_error(train("--lr -0.5"), 2, {"--lr", "-0.5"});
}

TEST_F(CliTest, KeepProbMustBeInUnitInterval) {
  expect_error(train("--keep-prob 0"), 2, {"--keep-prob", "0"});
  expect_error(train("--keep-prob 1.5"), 2, {"--keep-prob", "1.5"});
}

TEST_F(CliTest, OtherBadOptions) {
  expect_error(train("--hidden 8,x"), 2, {"--hidden", "8,x"});
  expect_error(train("--hidden 8,0"), 2, {"--hidden", "8,0"});
  expect_error(train("--momentum 1"), 2, {"--momentum", "1"});
  expect_error(train("--batch 0"), 2, {"--batch", "0"});
  expect_error(train("--no-such-option 3"), 2, {"no-such-option"});
  expect_error("train --out " + out(), 2, {"--data"});
  // A word no option takes (the second file of an unquoted glob) is refused, not dropped.
  expect_error(train(kXor), 2, {"unexpected argument '" + kXor + "'", "quote a glob"});
  expect_error(train("--epochs 3 stray"), 2, {"unexpected argument 'stray'"});
}

TEST_F(CliTest, ModelWhoseShapesDoNotChainWithTheData) {
  // A 3-input model against XOR's 2 features, for train, eval and predict.
  const std::size_t hidden[] = {4};
  sinapsis::write_model_file(out("three.h5"),
                             sinapsis::Model<float>(sinapsis::Architecture::mlp(
                                 3, hidden, sinapsis::Activation::tanh, 1, sinapsis::Activation::sigmoid)),
                             sinapsis::Loss::binary_cross_entropy, "");
  expect_error(train("--init-model " + out("three.h5")), 1, {"3 inputs", "2 features"});
  expect_error("eval --model " + out("three.h5") + " --data " + kXor, 1, {"2 columns", "3 inputs"});
  expect_error("predict --model " + out("three.h5") + " --data " + kXor + " --out " + out() + "/p.csv", 1,
               {"2 columns", "3 inputs"});
}

TEST_F(CliTest, ModelFileOffTheLayoutIsRefused) {
  expect_error("predict --model " + kXor + " --data " + kXor + " --out " + out() + "/p.csv", 1,
               {kXor, "not a sinapsis model"});
  expect_error("eval --model " + out("missing.h5") + " --data " + kXor, 1, {"missing.h5", "no such file"});
}

TEST_F(CliTest, LossThatDoesNotFitTheOutputUnit) {
  ASSERT_EQ(run("train --data " + kXor + " --hidden 3 --epochs 1 --out " + out("w")).status, 0);
  // The first run's output is softmax (cce); mse would train it, bce cannot.
  expect_error(train("--init-model " + out("w") + "/model.h5 --loss bce"), 1, {"bce", "sigmoid", "softmax"});
}

TEST_F(CliTest, UnknownCommandAndHelp) {
  EXPECT_EQ(run("frobnicate").status, 2);
  const Result help = run("--help");
  EXPECT_EQ(help.status, 0);
  for (const char* command : {"train", "predict", "eval", "info"})
    EXPECT_NE(help.output.find(command), std::string::npos) << command;
  const Result train_help = run("train --help");
  EXPECT_EQ(train_help.status, 0);
  EXPECT_NE(train_help.output.find("--keep-prob"), std::string::npos);
}

}  // namespace
