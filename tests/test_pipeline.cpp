// The training data pipeline's class logic (launch/pipeline), on one rank:
// the class count is the training data's, validation and test data must
// fit it and never widen it, and a count fixed by a model bounds the
// training labels. (Under mpirun: tests/test_mpi_cli.cpp.)
#include <gtest/gtest.h>

#include <unistd.h>  // getpid

#include <filesystem>

#include "dist/communicator.hpp"
#include "io/data_file.hpp"
#include "launch/agreement.hpp"
#include "launch/pipeline.hpp"

namespace sinapsis::cli {
namespace {

namespace fs = std::filesystem;

// n rows of two features, labels 0, 1, 0, 1, ... with nothing declared.
Dataset two_classes(std::size_t n) {
  Dataset d;
  d.features = Matrix<float>(n, 2, 1.0f);
  for (std::size_t r = 0; r < n; ++r) d.labels.push_back(std::int64_t(r % 2));
  return d;
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sinapsis_pipeline_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    write_data_file(path("train.h5"), two_classes(20));
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Reads and finishes as train does; the message of the failure, or "".
  std::string prepare(const DataOptions& o, PreparedData* out = nullptr) {
    SingleProcess comm;
    try {
      PreparedData p = read_training_data(o, 0, 1);
      finish_training_data(p, o, comm);
      if (out) *out = std::move(p);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

TEST_F(PipelineTest, TestDataWithAClassTheTrainingDataLacksIsRefused) {
  Dataset test = two_classes(10);
  test.labels[7] = 2;
  write_data_file(path("test.h5"), test);
  DataOptions o;
  o.data = path("train.h5");
  o.test_data = path("test.h5");
  EXPECT_EQ(prepare(o), path("test.h5") + ": /labels row 7 is class 2 but the training data " + path("train.h5") +
                            " has 2 classes (0..1)");
  o.test_data.clear();
  o.val_data = path("test.h5");
  EXPECT_NE(prepare(o), "");
  // A test file that declares more classes than the training data has.
  test.labels[7] = 1;
  test.classes = 5;
  write_data_file(path("declared.h5"), test);
  o.val_data = path("declared.h5");
  EXPECT_EQ(prepare(o), path("declared.h5") + " declares 5 classes but the training data " + path("train.h5") +
                            " has 2");
}

TEST_F(PipelineTest, EvaluationDataTakesTheTrainingClassCount) {
  Dataset test = two_classes(10);
  for (auto& label : test.labels) label = 0;  // one class only
  write_data_file(path("zeros.h5"), test);
  DataOptions o;
  o.data = path("train.h5");
  o.test_data = path("zeros.h5");
  PreparedData p;
  ASSERT_EQ(prepare(o, &p), "");
  EXPECT_EQ(p.train.classes, 2u);
  ASSERT_TRUE(p.test);
  EXPECT_EQ(p.test->classes, 2u);
}

TEST_F(PipelineTest, AClassCountFixedByAModelBoundsTheTrainingLabels) {
  Dataset three = two_classes(20);
  three.labels[11] = 2;
  write_data_file(path("three.h5"), three);
  DataOptions o;
  o.data = path("three.h5");
  o.classes = 2;
  o.classes_from = "the model m.h5";
  EXPECT_EQ(prepare(o), path("three.h5") + ": /labels row 11 is class 2 but the model m.h5 has 2 classes (0..1)");
  o.classes = 4;
  PreparedData p;
  ASSERT_EQ(prepare(o, &p), "");
  EXPECT_EQ(p.train.classes, 4u);
}

}  // namespace
}  // namespace sinapsis::cli
