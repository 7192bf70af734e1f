// Bad data, as a new user meets it under `mpirun -n 2 sinapsis ...`: every
// case ends every rank with a non-zero status (a hang would hit the
// `timeout` below and fail), the sinapsis error is printed exactly once and
// names the file (and row where it applies), and no output is left behind.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <thread>

#include "io/data_file.hpp"
#include "io/hdf5.hpp"
#include "tests/mpi_cli.hpp"

namespace sinapsis {
namespace {

namespace fs = std::filesystem;

using Result = test::CommandResult;
using test::blobs;
using test::run_command;
using test::run_mpi;
using test::run_mpirun;
using test::sinapsis_lines;

class MpiBadData : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sinapsis_mpi_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string out() const { return path("run"); }

  // Raw HDF5 with chosen datasets (to build files sinapsis would not write).
  std::string raw_file(const std::string& name, const std::function<void(hid_t)>& body) {
    const h5::Handle f = h5::create_file(path(name));
    body(f.get());
    return path(name);
  }

  void expect_refused(const std::string& arguments, std::vector<std::string> fragments) {
    expect_refused_result(run_mpi(arguments), arguments, fragments);
  }
  void expect_refused_result(const Result& r, const std::string& arguments, const std::vector<std::string>& fragments) {
    EXPECT_NE(r.status, 0) << arguments << "\n" << r.output;
    EXPECT_NE(r.status, 124) << "timed out (a hang): " << arguments;
    const auto lines = sinapsis_lines(r.output);
    ASSERT_EQ(lines.size(), 1u) << "the error must be printed once:\n" << r.output;
    for (const auto& f : fragments) EXPECT_NE(lines[0].find(f), std::string::npos) << "missing '" << f << "' in " << lines[0];
    EXPECT_FALSE(fs::exists(out() + "/model.h5"));
    EXPECT_FALSE(fs::exists(out() + "/metrics.csv"));
  }
  std::string train(const std::string& data, const std::string& extra = "") const {
    return "train --data " + data + " --epochs 2 --batch 4 --out " + out() + " " + extra;
  }

  fs::path dir_;
};

TEST_F(MpiBadData, MissingFile) { expect_refused(train(path("nope.h5")), {"nope.h5", "no such file"}); }

TEST_F(MpiBadData, NotHdf5) {
  std::ofstream(path("text.h5")) << "not hdf5\n";
  expect_refused(train(path("text.h5")), {"text.h5", "not an HDF5 file"});
}

TEST_F(MpiBadData, TruncatedFile) {
  write_data_file(path("whole.h5"), blobs(4000, 8));
  fs::resize_file(path("whole.h5"), fs::file_size(path("whole.h5")) / 3);
  expect_refused(train(path("whole.h5")), {"whole.h5"});
}

TEST_F(MpiBadData, MissingFeaturesOrLabels) {
  const auto only_features = raw_file("nolabels.h5", [](hid_t f) {
    const std::vector<float> x(8, 1.0f);
    h5::write_floats(f, "features", {4, 2}, x.data(), "t");
  });
  expect_refused(train(only_features), {"nolabels.h5", "labels"});
  const auto only_labels = raw_file("nofeatures.h5", [](hid_t f) {
    const std::vector<std::int64_t> y{0, 1, 0, 1};
    h5::write_int64(f, "labels", {4}, y.data(), "t");
  });
  expect_refused(train(only_labels), {"nofeatures.h5", "features"});
}

TEST_F(MpiBadData, FeaturesNot2DAndRowMismatch) {
  const auto flat = raw_file("flat.h5", [](hid_t f) {
    const std::vector<float> x(8, 1.0f);
    const std::vector<std::int64_t> y(8, 0);
    h5::write_floats(f, "features", {8}, x.data(), "t");
    h5::write_int64(f, "labels", {8}, y.data(), "t");
  });
  expect_refused(train(flat), {"flat.h5", "/features must be 2-D"});
  const auto mismatch = raw_file("mismatch.h5", [](hid_t f) {
    const std::vector<float> x(8, 1.0f);
    const std::vector<std::int64_t> y(3, 0);
    h5::write_floats(f, "features", {4, 2}, x.data(), "t");
    h5::write_int64(f, "labels", {3}, y.data(), "t");
  });
  expect_refused(train(mismatch), {"mismatch.h5", "4 rows", "3"});
}

TEST_F(MpiBadData, NegativeOrFractionalLabelsForAClassificationLoss) {
  Dataset d = blobs(40);
  d.labels[33] = -1;  // in rank 1's half
  const auto negative = raw_file("negative.h5", [&](hid_t f) {
    h5::write_floats(f, "features", {40, 2}, d.features.values.data(), "t");
    h5::write_int64(f, "labels", {40}, d.labels.data(), "t");
  });
  expect_refused(train(negative), {"negative.h5", "row 33"});
  const auto fractional = raw_file("fractional.h5", [&](hid_t f) {
    std::vector<float> y(40, 1.0f);
    y[5] = 0.5f;
    h5::write_floats(f, "features", {40, 2}, d.features.values.data(), "t");
    h5::write_floats(f, "labels", {40}, y.data(), "t");
  });
  expect_refused(train(fractional, "--loss cce"), {"fractional.h5", "row 5", "not a class id"});
}

TEST_F(MpiBadData, ClassCountDoesNotFitTheModel) {
  write_data_file(path("two.h5"), blobs(20));
  ASSERT_EQ(run_mpi(train(path("two.h5")) + " --hidden 3", 1).status, 0);
  Dataset three = blobs(20);
  three.labels[17] = 2;
  three.classes = 3;
  write_data_file(path("three.h5"), three);
  fs::rename(out(), path("two_run"));
  // The model is read first: its two classes bound the labels as they are read.
  expect_refused(train(path("three.h5"), "--init-model " + path("two_run/model.h5")),
                 {"three.h5", "declares 3 classes", "two_run/model.h5 has 2"});
}

// A stray label must not size the softmax: rank 1 reads row 33 and names it.
TEST_F(MpiBadData, StrayLabelsAndAbsurdClassCountsAreRefusedNamingTheRow) {
  Dataset d = blobs(40);
  d.classes = 0;  // nothing declared: the labels give the count
  d.labels[33] = 1000000;
  write_data_file(path("stray.h5"), d);
  expect_refused(train(path("stray.h5")),
                 {"stray.h5: /labels row 33 is class 1000000: more classes than the data set's 40 rows"});
  d.labels[33] = std::int64_t(1) << 62;
  write_data_file(path("huge.h5"), d);
  expect_refused(train(path("huge.h5")), {"huge.h5: /labels row 33 is class 4611686018427387904"});
  d.labels[33] = 1;
  write_data_file(path("declared.h5"), d);
  {
    const h5::Handle f(H5Fopen(path("declared.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    h5::write_int_attribute(f.get(), "classes", std::int64_t(1) << 40);
  }
  expect_refused(train(path("declared.h5")), {"declared.h5: attribute classes is 1099511627776, not a class count"});
}

// Validation and test data must fit the training data's classes, not widen
// them: the row named is the file's row, though rank 1 read it.
TEST_F(MpiBadData, ValidationAndTestDataCannotWidenTheClasses) {
  Dataset training = blobs(40);
  training.classes = 0;  // the count comes from the labels of both ranks' parts
  write_data_file(path("train.h5"), training);
  Dataset test = training;
  test.labels[37] = 2;
  write_data_file(path("test.h5"), test);
  const std::string fragment =
      "test.h5: /labels row 37 is class 2 but the training data " + path("train.h5") + " has 2 classes (0..1)";
  expect_refused(train(path("train.h5"), "--test-data " + path("test.h5")), {fragment});
  expect_refused(train(path("train.h5"), "--val-data " + path("test.h5")), {fragment});
  // Class 0 must be the same class in both files.
  training.class_names = {"cat", "dog"};
  write_data_file(path("named.h5"), training);
  test = training;
  test.class_names = {"dog", "cat"};
  write_data_file(path("swapped.h5"), test);
  expect_refused(train(path("named.h5"), "--test-data " + path("swapped.h5")),
                 {"swapped.h5: class 0 is named 'dog' but in " + path("named.h5") + " it is 'cat'"});
  // Fewer classes in the test data is fine.
  test = training;
  for (auto& label : test.labels) label = 0;
  write_data_file(path("zeros.h5"), test);
  const Result r = run_mpi(train(path("named.h5"), "--test-data " + path("zeros.h5")));
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST_F(MpiBadData, NaNInFeaturesOrInfInTargets) {
  Dataset d = blobs(40);
  d.features(30, 1) = std::numeric_limits<float>::quiet_NaN();
  write_data_file(path("nan.h5"), d);
  expect_refused(train(path("nan.h5")), {"nan.h5", "NaN", "row 30"});
  Dataset reg;
  reg.task = Task::regression;
  reg.features = blobs(40).features;
  reg.targets = Matrix<float>(40, 1, 0.5f);
  reg.targets(3, 0) = std::numeric_limits<float>::infinity();
  write_data_file(path("inf.h5"), reg);
  expect_refused(train(path("inf.h5")), {"inf.h5", "Inf", "row 3"});
}

TEST_F(MpiBadData, EmptyOrFewerSamplesThanRanks) {
  write_data_file(path("empty.h5"), blobs(0));
  expect_refused(train(path("empty.h5")), {"empty.h5", "empty"});
  write_data_file(path("one.h5"), blobs(1));
  expect_refused(train(path("one.h5")), {"1 samples", "2 ranks"});
}

TEST_F(MpiBadData, ShardSetsMissingDuplicatedOrDisagreeing) {
  write_data_file(path("all.h5"), blobs(40));
  ASSERT_EQ(run_mpi("data shard " + path("all.h5") + " --shards 4 --out-dir " + path("set"), 1).status, 0);
  fs::copy(path("set"), path("dup"));
  fs::remove(path("set/all-00002-of-00004.h5"));
  expect_refused(train(path("set")), {"shard 2 of 4 is missing"});
  fs::remove(path("dup/all-00003-of-00004.h5"));
  fs::copy_file(path("dup/all-00000-of-00004.h5"), path("dup/all-00003-of-00004.h5"));
  expect_refused(train(path("dup")), {"all-00003-of-00004.h5", "holds shard 0"});
  fs::create_directories(path("wide"));
  for (std::size_t s = 0; s < 2; ++s) write_data_file(path("wide/w-0000" + std::to_string(s) + "-of-00002.h5"), blobs(10, 2 + s));
  expect_refused(train(path("wide")), {"disagree on D"});
}

TEST_F(MpiBadData, CsvAndIdxImportsRefused) {
  std::ofstream(path("ragged.csv")) << "a,b,label\n1,2,x\n3,y\n";
  expect_refused("data import --format csv --input " + path("ragged.csv") + " --label label --out " + out() + "/d.h5",
                 {"ragged.csv", "line 3"});
  std::ofstream(path("ok.csv")) << "a,b,label\n1,2,x\n3,4,y\n";
  expect_refused("data import --format csv --input " + path("ok.csv") + " --label outcome --out " + out() + "/d.h5",
                 {"ok.csv", "outcome"});
  std::ofstream(path("text.csv")) << "a,b,label\n1,2,x\n3,4,y\n5,six,x\n";
  expect_refused("data import --format csv --input " + path("text.csv") + " --label label --out " + out() + "/d.h5",
                 {"text.csv", "six"});
  std::ofstream(path("bad.idx"), std::ios::binary) << std::string("\x00\x00\x09\x03", 4);
  std::ofstream(path("labels.idx"), std::ios::binary) << std::string("\x00\x00\x08\x01\x00\x00\x00\x00", 8);
  expect_refused("data import --format idx --images " + path("bad.idx") + " --labels " + path("labels.idx") +
                     " --out " + out() + "/d.h5",
                 {"bad.idx", "magic"});
  std::ofstream(path("images.idx"), std::ios::binary)
      << std::string("\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x01\x00\x00\x00\x01\x05\x06", 18);
  expect_refused("data import --format idx --images " + path("images.idx") + " --labels " + path("labels.idx") +
                     " --out " + out() + "/d.h5",
                 {"2 images", "0 labels"});
}

TEST_F(MpiBadData, RanksThatDisagreeOnTheOptionsStopBeforeTraining) {
  write_data_file(path("all.h5"), blobs(40));
  const std::string common = " --oversubscribe " SINAPSIS_BINARY " " + train(path("all.h5"));
  const std::string command = "-n 1" + common + " --lr 0.1 : -n 1" + common + " --lr 0.2";
  expect_refused_result(run_mpirun(command), command, {"ranks disagree", "rank 1", "lr 0.1", "lr 0.2"});
}

TEST_F(MpiBadData, RanksGivenDataOfDifferentWidthsStopNamingBothSchemas) {
  // Before any collective over per-column statistics (which would not even
  // match in length): the schemas are compared and named.
  write_data_file(path("two.h5"), blobs(40, 2));
  write_data_file(path("three.h5"), blobs(40, 3));
  const std::string binary = " --oversubscribe " SINAPSIS_BINARY " ";
  const std::string command = "-n 1" + binary + train(path("two.h5")) + " : -n 1" + binary + train(path("three.h5"));
  expect_refused_result(run_mpirun(command), command,
                        {"ranks disagree on the data", "rank 0 has {features 2", "rank 1 has {features 3"});
}

// Checkpoints and resume, as a user drives them.
class MpiResume : public MpiBadData {
 protected:
  std::string args(const std::string& dir) const {
    return "train --data " + path("all.h5") + " --hidden 8 --lr 0.05 --momentum 0.9 --keep-prob 0.9 --batch 8 " +
           "--val-split 0.25 --patience 100 --threads 1 --quiet --out " + dir;
  }
  // Layer 0's weights as h5dump prints them (values only).
  static std::string weights(const std::string& model) {
    const Result r = run_command("h5dump -d /layers/0/weight " + model + " | tail -n +3");
    return r.output;
  }
};

TEST_F(MpiResume, ResumeWithTheSameRanksIsBitIdentical) {
  write_data_file(path("all.h5"), blobs(64, 3));
  ASSERT_EQ(run_mpi(args(path("whole")) + " --epochs 6").status, 0);
  ASSERT_EQ(run_mpi(args(path("parts")) + " --epochs 3 --checkpoint-every 3").status, 0);
  ASSERT_TRUE(fs::exists(path("parts/checkpoint.h5")));
  const Result resumed = run_mpi("train --resume " + path("parts") + " --epochs 6");
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  const std::string a = weights(path("whole/model.h5")), b = weights(path("parts/model.h5"));
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  // A different number of ranks continues from the same state instead of failing.
  const Result other = run_mpi("train --resume " + path("parts") + " --epochs 8", 1);
  EXPECT_EQ(other.status, 0) << other.output;
}

TEST_F(MpiResume, SameSeedAndRanksGiveBitIdenticalWeights) {
  write_data_file(path("all.h5"), blobs(64, 3));
  ASSERT_EQ(run_mpi(args(path("first")) + " --epochs 4").status, 0);
  ASSERT_EQ(run_mpi(args(path("second")) + " --epochs 4").status, 0);
  EXPECT_EQ(weights(path("first/model.h5")), weights(path("second/model.h5")));
  ASSERT_EQ(run_mpi(args(path("other")) + " --epochs 4 --seed 2").status, 0);
  EXPECT_NE(weights(path("first/model.h5")), weights(path("other/model.h5")));
}

// `sinapsis info` under mpirun: the layout of the job, the BLAS threads each
// rank defaults to (the host's cores shared by its ranks), and a warning
// when a host runs more threads than cores.
TEST(MpiInfo, ShowsRanksHostsAndThreadsPerRankAndWarnsWhenOversubscribed) {
  const int cores = std::max(1, int(std::thread::hardware_concurrency()));
  for (const int ranks : {2, cores + 1}) {
    const Result r = run_mpi("info --no-measure", ranks);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("ranks: " + std::to_string(ranks) + " on 1 host(s)"), std::string::npos) << r.output;
    const int threads = std::max(1, cores / ranks);
    for (int rank = 0; rank < ranks; ++rank)
      EXPECT_NE(r.output.find("rank " + std::to_string(rank) + ": may run on"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(", " + std::to_string(threads) + " BLAS thread(s)"), std::string::npos) << r.output;
    const bool oversubscribed = ranks * threads > cores;
    EXPECT_EQ(r.output.find("oversubscribed") != std::string::npos, oversubscribed) << r.output;
    EXPECT_EQ(r.output.find("sinapsis 0") , r.output.rfind("sinapsis 0")) << "printed by rank 0 only:\n" << r.output;
  }
  // --threads overrides the default.
  const Result forced = run_mpi("info --no-measure --threads 3", 2);
  EXPECT_NE(forced.output.find(", 3 BLAS thread(s)"), std::string::npos) << forced.output;
  EXPECT_EQ(forced.output.find("oversubscribed") != std::string::npos, 2 * 3 > cores) << forced.output;
}

}  // namespace
}  // namespace sinapsis
