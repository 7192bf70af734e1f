// The lecture's networks: the worked XOR network of Goodfellow et al. §6.1,
// the McCulloch-Pitts gates, and XOR learned from scratch. The model files
// are the ones shipped in experiments/seed_networks/ (written with h5py).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/init.hpp"
#include "core/trainer.hpp"
#include "io/data_file.hpp"
#include "io/model_file.hpp"

namespace sinapsis {
namespace {

const std::string kNets = std::string(SINAPSIS_SOURCE_DIR) + "/experiments/seed_networks/";
const std::vector<float> kXorInputs = {0, 0, 0, 1, 1, 0, 1, 1};

// The model's outputs (one column) on the four XOR inputs.
std::vector<float> outputs_on_xor_inputs(const Model<float>& model, Workspace<float>& ws) {
  const MatrixView<float> y = forward(model, ws, ConstMatrixView<float>{kXorInputs.data(), 4, 2});
  return std::vector<float>(y.data, y.data + y.size());
}

TEST(SeedNetworks, WorkedXorNetworkGivesExactOutputsAndHiddenValues) {
  const ModelFile file = read_model_file(kNets + "xor_worked.h5");
  Workspace<float> ws(file.model.architecture(), 4);
  EXPECT_EQ(outputs_on_xor_inputs(file.model, ws), (std::vector<float>{0, 1, 1, 0}));
  const MatrixView<float> hidden = ws.activation(0, 4);
  EXPECT_EQ(std::vector<float>(hidden.data, hidden.data + hidden.size()),
            (std::vector<float>{0, 0, 1, 0, 1, 0, 2, 1}));
}

TEST(SeedNetworks, McCullochPittsGatesGiveExactTruthTables) {
  const std::vector<std::pair<std::string, std::vector<float>>> gates = {
      {"mp_or.h5", {0, 1, 1, 1}},
      {"mp_and.h5", {0, 0, 0, 1}},
      {"mp_and_not.h5", {0, 0, 1, 0}},  // x1 AND NOT x2
      {"mp_xor.h5", {0, 1, 1, 0}},      // (x1 AND NOT x2) OR (x2 AND NOT x1)
  };
  for (const auto& [file, truth] : gates) {
    const ModelFile m = read_model_file(kNets + file);
    for (const auto& layer : m.model.architecture().layers) EXPECT_EQ(layer.activation, Activation::step) << file;
    Workspace<float> ws(m.model.architecture(), 4);
    EXPECT_EQ(outputs_on_xor_inputs(m.model, ws), truth) << file;
  }
}

TEST(SeedNetworks, StepUnitNetworksCannotBeTrained) {
  ModelFile m = read_model_file(kNets + "mp_xor.h5");
  const auto data = encode<float>(read_data_file(std::string(SINAPSIS_SOURCE_DIR) + "/experiments/data/xor.h5"),
                                  Loss::mse, Activation::step, 1, "xor");
  TrainOptions options;
  options.batch = 4;
  EXPECT_THROW(Trainer<float>(m.model, data, nullptr, options), ModelError);
}

// A 2-4-1 tanh net with a sigmoid output and cross-entropy learns XOR from
// every one of 10 seeds.
TEST(SeedNetworks, XorIsLearnedByTanhNetForEverySeed) {
  const Dataset raw = read_data_file(std::string(SINAPSIS_SOURCE_DIR) + "/experiments/data/xor.h5");
  const std::size_t hidden[] = {4};
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    Model<float> model(Architecture::mlp(2, hidden, Activation::tanh, 1, Activation::sigmoid));
    initialize(model, Initializer::glorot, seed);
    const auto data = encode<float>(raw, Loss::binary_cross_entropy, Activation::sigmoid, 1, "xor");
    TrainOptions options;
    options.loss = Loss::binary_cross_entropy;
    options.batch = 4;
    options.epochs = 500;
    options.schedule.base = 0.5;
    options.optimizer.momentum = 0.9;
    options.seed = seed;
    Trainer<float>(model, data, nullptr, options).run();
    Workspace<float> ws(model.architecture(), 4);
    const Evaluation e = evaluate(model, ws, data, Loss::binary_cross_entropy);
    EXPECT_EQ(e.accuracy, 1.0) << "seed " << seed;
    EXPECT_LT(e.loss, 0.05) << "seed " << seed;
  }
}

}  // namespace
}  // namespace sinapsis
