// Model files: written by sinapsis and read back bit for bit; written by hand
// (h5py, in experiments/seed_networks) and loaded; anything off the layout
// refused with a ModelError that names the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <limits>

#include "core/init.hpp"
#include "io/hdf5.hpp"
#include "io/model_file.hpp"

namespace sinapsis {
namespace {

namespace fs = std::filesystem;

class ModelFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sinapsis_model_file_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // A layer group with a weight [rows, cols], bias [bias_len] and activation.
  static void layer(hid_t layers, const std::string& name, hsize_t rows, hsize_t cols,
                    hsize_t bias_len, const std::string& activation) {
    const h5::Handle g = h5::create_group(layers, name, "test");
    const std::vector<float> w(rows * cols, 0.5f), b(bias_len, 0.1f);
    h5::write_floats(g.get(), "weight", {rows, cols}, w.data(), "test");
    h5::write_floats(g.get(), "bias", {bias_len}, b.data(), "test");
    if (!activation.empty()) h5::write_string_attribute(g.get(), "activation", activation);
  }
  // Writes a file by hand: `format`/`version` attributes, then `body`.
  std::string hand_written(const std::string& name, const std::function<void(hid_t layers)>& body,
                           const std::string& format = "sinapsis-model", std::int64_t version = 1) {
    const std::string p = path(name);
    const h5::Handle f = h5::create_file(p);
    if (!format.empty()) h5::write_string_attribute(f.get(), "format", format);
    h5::write_int_attribute(f.get(), "version", version);
    const h5::Handle layers = h5::create_group(f.get(), "layers", p);
    body(layers.get());
    return p;
  }
  void expect_refused(const std::string& file, const std::string& fragment) {
    try {
      read_model_file(file);
      ADD_FAILURE() << file << " was accepted";
    } catch (const ModelError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(file), std::string::npos) << message;
      EXPECT_NE(message.find(fragment), std::string::npos) << message;
    }
  }

  fs::path dir_;
};

TEST_F(ModelFileTest, RoundTripKeepsEveryParameterAndUnit) {
  const std::size_t hidden[] = {5, 3};
  Model<float> model(Architecture::mlp(4, hidden, Activation::relu, 2, Activation::softmax));
  initialize(model, Initializer::he, 7);
  write_model_file(path("m.h5"), model, Loss::categorical_cross_entropy, "x1,x2,x1sq,x2sq");
  const ModelFile back = read_model_file(path("m.h5"));
  EXPECT_EQ(back.model.architecture(), model.architecture());
  EXPECT_TRUE(std::equal(model.parameters().begin(), model.parameters().end(),
                         back.model.parameters().begin()));
  EXPECT_EQ(back.loss, Loss::categorical_cross_entropy);
  EXPECT_TRUE(back.has_loss);
  EXPECT_EQ(back.features, "x1,x2,x1sq,x2sq");
  // No temporary left beside it.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(ModelFileTest, StepThresholdRoundTrips) {
  Architecture arch;
  arch.layers.push_back({2, 1, Activation::step, 2.0});
  Model<float> model(arch);
  write_model_file(path("s.h5"), model, Loss::mse, "");
  EXPECT_EQ(read_model_file(path("s.h5")).model.architecture().layers[0].step_threshold, 2.0);
}

TEST_F(ModelFileTest, FileWrittenByH5pyLoads) {
  const ModelFile m = read_model_file(std::string(SINAPSIS_SOURCE_DIR) + "/experiments/seed_networks/xor_worked.h5");
  ASSERT_EQ(m.model.layer_count(), 2u);
  EXPECT_EQ(m.model.architecture().layers[0].activation, Activation::relu);
  EXPECT_EQ(m.model.bias(0)[1], -1.0f);
  EXPECT_EQ(m.model.weight(1)(1, 0), -2.0f);
  EXPECT_EQ(m.features, "x1,x2");
}

TEST_F(ModelFileTest, HandWrittenMinimalFileWithoutLossLoads) {
  const auto p = hand_written("min.h5", [](hid_t l) { layer(l, "0", 3, 2, 2, "sigmoid"); });
  const ModelFile m = read_model_file(p);
  EXPECT_FALSE(m.has_loss);
  EXPECT_EQ(m.model.architecture().inputs(), 3u);
}

TEST_F(ModelFileTest, RefusesWrongFormatAttribute) {
  expect_refused(hand_written("f.h5", [](hid_t l) { layer(l, "0", 2, 1, 1, "relu"); }, "keras"),
                 "format");
}

TEST_F(ModelFileTest, RefusesWrongVersion) {
  expect_refused(hand_written("v.h5", [](hid_t l) { layer(l, "0", 2, 1, 1, "relu"); }, "sinapsis-model", 2),
                 "version");
}

TEST_F(ModelFileTest, RefusesGapInLayerNumbers) {
  expect_refused(hand_written("gap.h5", [](hid_t l) {
                   layer(l, "0", 2, 3, 3, "relu");
                   layer(l, "2", 3, 1, 1, "linear");
                 }),
                 "missing 1");
}

TEST_F(ModelFileTest, RefusesShapesThatDoNotChain) {
  expect_refused(hand_written("chain.h5", [](hid_t l) {
                   layer(l, "0", 2, 3, 3, "relu");
                   layer(l, "1", 4, 1, 1, "linear");
                 }),
                 "do not chain");
}

TEST_F(ModelFileTest, RefusesBiasOfWrongLength) {
  expect_refused(hand_written("bias.h5", [](hid_t l) { layer(l, "0", 2, 3, 2, "relu"); }), "bias");
}

TEST_F(ModelFileTest, RefusesUnknownOrMissingActivation) {
  expect_refused(hand_written("act.h5", [](hid_t l) { layer(l, "0", 2, 1, 1, "swish"); }), "swish");
  expect_refused(hand_written("noact.h5", [](hid_t l) { layer(l, "0", 2, 1, 1, ""); }), "activation");
}

TEST_F(ModelFileTest, RefusesSoftmaxInHiddenLayer) {
  expect_refused(hand_written("soft.h5", [](hid_t l) {
                   layer(l, "0", 2, 3, 3, "softmax");
                   layer(l, "1", 3, 1, 1, "linear");
                 }),
                 "hidden");
}

TEST_F(ModelFileTest, RefusesEmptyLayers) {
  expect_refused(hand_written("empty.h5", [](hid_t) {}), "empty");
}

TEST_F(ModelFileTest, RefusesNonFiniteParametersNamingLayerDatasetAndPlace) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  Model<float> model(Architecture::mlp(3, std::vector<std::size_t>{4}, Activation::relu, 2, Activation::softmax));
  initialize(model, Initializer::he, 7);
  model.weight(1)(2, 1) = nan;
  write_model_file(path("nan.h5"), model, Loss::categorical_cross_entropy, "");
  expect_refused(path("nan.h5"), "/layers/1/weight holds NaN at [2, 1]");
  initialize(model, Initializer::he, 7);
  model.bias(0)[3] = -inf;
  write_model_file(path("inf.h5"), model, Loss::categorical_cross_entropy, "");
  expect_refused(path("inf.h5"), "/layers/0/bias holds Inf at [3]");
  initialize(model, Initializer::he, 7);
  Standardizer standardizer{{0, nan, 0}, {1, 1, 1}};
  write_model_file(path("mean.h5"), model, Loss::categorical_cross_entropy, "", standardizer);
  expect_refused(path("mean.h5"), "/preprocessing/mean holds NaN at [1]");
}

TEST_F(ModelFileTest, RefusesALayerShapeTheFileDoesNotHold) {
  const auto p = hand_written("claims.h5", [](hid_t l) {
    const h5::Handle g = h5::create_group(l, "0", "test");
    const hsize_t dims[2] = {1000000000, 1000000000};  // 4 EB of weights, none stored
    h5::Handle space(H5Screate_simple(2, dims, nullptr), H5Sclose);
    h5::Handle w(H5Dcreate2(g.get(), "weight", H5T_IEEE_F32LE, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                 H5Dclose);
    const std::vector<float> b(4, 0.0f);
    h5::write_floats(g.get(), "bias", {4}, b.data(), "test");
    h5::write_string_attribute(g.get(), "activation", "linear");
  });
  try {
    read_model_file(p);
    ADD_FAILURE() << p << " was accepted";
  } catch (const DataError& e) {  // a file that does not hold what it claims: a data error
    EXPECT_NE(std::string(e.what()).find(p + ": /layers/0/weight: claims shape [1000000000, 1000000000]"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(ModelFileTest, DataFileIsNotAModel) {
  expect_refused(std::string(SINAPSIS_SOURCE_DIR) + "/experiments/data/xor.h5", "format");
}

}  // namespace
}  // namespace sinapsis
