// The training loop: reproducible from its seed, restores the best weights
// when early stopping says so, stops on divergence keeping finite weights,
// and reports the metrics it documents.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/init.hpp"
#include "core/trainer.hpp"

namespace sinapsis {
namespace {

// Two noisy Gaussian blobs in 2-D (deterministic).
Dataset blobs(std::size_t n, std::uint64_t seed) {
  Dataset d;
  d.task = Task::classification;
  d.classes = 2;
  d.features = Matrix<float>(n, 2);
  Rng rng(seed);
  for (std::size_t i = 0; i < n; ++i) {
    const int label = int(i % 2);
    d.labels.push_back(label);
    d.features(i, 0) = float((label ? 1.0 : -1.0) + 1.5 * rng.normal());
    d.features(i, 1) = float((label ? 1.0 : -1.0) + 1.5 * rng.normal());
  }
  return d;
}

struct TrainingRun {
  std::vector<float> parameters;
  std::vector<EpochMetrics> epochs;
  TrainResult result;
};

TrainingRun train(TrainOptions options, std::uint64_t init_seed, const Dataset& train_raw, const Dataset* val_raw,
          std::vector<std::size_t> hidden = {16}) {
  Model<float> model(Architecture::mlp(2, hidden, Activation::tanh, 2, Activation::softmax));
  initialize(model, Initializer::glorot, init_seed);
  options.loss = Loss::categorical_cross_entropy;
  const auto t = encode<float>(train_raw, options.loss, Activation::softmax, 2, "train");
  std::optional<EncodedData<float>> v;
  if (val_raw) v = encode<float>(*val_raw, options.loss, Activation::softmax, 2, "val");
  TrainingRun run;
  Trainer<float> trainer(model, t, v ? &*v : nullptr, options);
  run.result = trainer.run([&](const EpochMetrics& m) { run.epochs.push_back(m); });
  run.parameters.assign(model.parameters().begin(), model.parameters().end());
  return run;
}

TEST(Trainer, SameSeedGivesBitIdenticalWeightsWithDropout) {
  const Dataset d = blobs(200, 1);
  TrainOptions o;
  o.epochs = 5;
  o.keep_prob = 0.8;
  o.optimizer.momentum = 0.9;
  o.seed = 42;
  const TrainingRun a = train(o, 1, d, nullptr), b = train(o, 1, d, nullptr);
  EXPECT_EQ(a.parameters, b.parameters);
  o.seed = 43;  // another shuffle and dropout stream
  EXPECT_NE(train(o, 1, d, nullptr).parameters, a.parameters);
}

TEST(Trainer, ReportsDocumentedMetrics) {
  const Dataset d = blobs(100, 2), v = blobs(60, 3);
  TrainOptions o;
  o.epochs = 3;
  o.batch = 7;
  o.optimizer.penalty = {0.001, 0.01};
  const TrainingRun r = train(o, 1, d, &v);
  ASSERT_EQ(r.epochs.size(), 3u);
  for (const auto& m : r.epochs) {
    EXPECT_TRUE(std::isfinite(m.train_loss));
    EXPECT_TRUE(std::isfinite(m.val_loss));
    EXPECT_GE(m.val_accuracy, 0.0);
    EXPECT_LE(m.val_accuracy, 1.0);
    EXPECT_GT(m.penalty, 0.0);
    EXPECT_EQ(m.learning_rate, o.schedule.base);
    EXPECT_GT(m.samples_per_second, 0.0);
  }
  EXPECT_EQ(r.result.reason, StopReason::max_epochs);
}

TEST(Trainer, PenaltyIsReportedApartFromTheLoss) {
  // With L2 on, the reported loss equals the data loss of the same weights
  // evaluated without a penalty.
  const Dataset d = blobs(50, 4);
  TrainOptions o;
  o.epochs = 2;
  o.batch = 50;  // full batch: train_loss is the loss before the epoch's only step
  o.optimizer.penalty = {0, 0.5};
  Model<float> model(Architecture::mlp(2, std::vector<std::size_t>{8}, Activation::tanh, 2, Activation::softmax));
  initialize(model, Initializer::glorot, 5);
  o.loss = Loss::categorical_cross_entropy;
  const auto t = encode<float>(d, o.loss, Activation::softmax, 2, "train");
  Workspace<float> ws(model.architecture(), 64);
  const double before = evaluate(model, ws, t, o.loss).loss;
  std::vector<EpochMetrics> epochs;
  Trainer<float>(model, t, nullptr, o).run([&](const EpochMetrics& m) { epochs.push_back(m); });
  EXPECT_NEAR(epochs[0].train_loss, before, 1e-6);
  EXPECT_NEAR(epochs.back().penalty,
              o.optimizer.penalty.value<float>(model.parameters().first(model.weight_count())), 1e-9);
}

TEST(Trainer, TrainAccuracyIsTheStepsOwnClassification) {
  // Full batch: the epoch's one step classes every sample with the weights
  // before it, so train_accuracy is their accuracy, exactly.
  const Dataset d = blobs(60, 7);
  TrainOptions o;
  o.epochs = 3;
  o.batch = 60;
  o.loss = Loss::categorical_cross_entropy;
  Model<float> model(Architecture::mlp(2, std::vector<std::size_t>{8}, Activation::tanh, 2, Activation::softmax));
  initialize(model, Initializer::glorot, 9);
  const auto t = encode<float>(d, o.loss, Activation::softmax, 2, "train");
  Workspace<float> ws(model.architecture(), 64);
  std::vector<double> before{evaluate(model, ws, t, o.loss).accuracy};
  Trainer<float>(model, t, nullptr, o).run([&](const EpochMetrics& m) {
    EXPECT_EQ(m.train_accuracy, before.back()) << "epoch " << m.epoch;
    before.push_back(evaluate(model, ws, t, o.loss).accuracy);  // what the next epoch's step sees
  });
  ASSERT_EQ(before.size(), 4u);
  const double first = before[0];
  EXPECT_GT(first, 0.0);
  // Regression has no accuracy.
  Dataset r = d;
  r.task = Task::regression;
  r.targets = Matrix<float>(d.size(), 1);
  for (std::size_t i = 0; i < d.size(); ++i) r.targets(i, 0) = float(d.labels[i]);
  TrainOptions m = o;
  m.loss = Loss::mse;
  Model<float> regressor(Architecture::mlp(2, std::vector<std::size_t>{4}, Activation::tanh, 1, Activation::linear));
  initialize(regressor, Initializer::glorot, 1);
  const auto rt = encode<float>(r, m.loss, Activation::linear, 1, "train");
  Trainer<float>(regressor, rt, nullptr, m).run([](const EpochMetrics& e) { EXPECT_TRUE(std::isnan(e.train_accuracy)); });
}

TEST(Trainer, EarlyStoppingRestoresTheBestEpochsWeights) {
  // A big net on few noisy points overfits: validation loss turns up.
  const Dataset d = blobs(40, 5), v = blobs(400, 6);
  TrainOptions o;
  o.epochs = 400;
  o.batch = 4;
  o.schedule.base = 0.1;
  o.optimizer.momentum = 0.9;
  o.early_stopping = {5, 0, true};
  const TrainingRun r = train(o, 3, d, &v, {64, 64});
  ASSERT_EQ(r.result.reason, StopReason::early_stopping);
  ASSERT_LT(r.result.epochs_run, o.epochs);
  const auto& best = r.epochs[r.result.best_epoch - 1];
  EXPECT_TRUE(best.improved);
  EXPECT_EQ(r.result.epochs_run, r.result.best_epoch + 5);
  for (const auto& m : r.epochs) EXPECT_GE(m.val_loss, best.val_loss);
  // The weights kept give exactly the best epoch's validation loss.
  Model<float> model(Architecture::mlp(2, std::vector<std::size_t>{64, 64}, Activation::tanh, 2, Activation::softmax));
  std::copy(r.parameters.begin(), r.parameters.end(), model.parameters().begin());
  Workspace<float> ws(model.architecture(), 256);
  const auto val = encode<float>(v, Loss::categorical_cross_entropy, Activation::softmax, 2, "val");
  EXPECT_EQ(evaluate(model, ws, val, Loss::categorical_cross_entropy).loss, best.val_loss);
}

TEST(Trainer, DivergenceStopsAndKeepsLastFiniteWeights) {
  Dataset d;
  d.task = Task::regression;
  d.features = Matrix<float>(8, 1);
  d.targets = Matrix<float>(8, 1);
  for (std::size_t i = 0; i < 8; ++i) {
    d.features(i, 0) = float(i) * 100;
    d.targets(i, 0) = float(i) * 1000;
  }
  Model<float> model(Architecture::mlp(1, std::vector<std::size_t>{}, Activation::linear, 1, Activation::linear));
  initialize(model, Initializer::glorot, 1);
  TrainOptions o;
  o.loss = Loss::mse;
  o.epochs = 1000;
  o.batch = 8;
  o.schedule.base = 1.0;  // far too large: the loss explodes within a few epochs
  const auto t = encode<float>(d, Loss::mse, Activation::linear, 1, "train");
  const TrainResult r = Trainer<float>(model, t, nullptr, o).run();
  EXPECT_EQ(r.reason, StopReason::diverged);
  EXPECT_LT(r.epochs_run, o.epochs);
  for (float p : model.parameters()) EXPECT_TRUE(std::isfinite(p));
}

TEST(Trainer, RefusesBadOptions) {
  const Dataset d = blobs(10, 1);
  Model<float> model(Architecture::mlp(2, std::vector<std::size_t>{4}, Activation::tanh, 2, Activation::softmax));
  const auto t = encode<float>(d, Loss::categorical_cross_entropy, Activation::softmax, 2, "train");
  TrainOptions o;
  o.loss = Loss::categorical_cross_entropy;
  o.keep_prob = 0;
  EXPECT_THROW(Trainer<float>(model, t, nullptr, o), UsageError);
  o.keep_prob = 1;
  o.schedule.base = 0;
  EXPECT_THROW(Trainer<float>(model, t, nullptr, o), UsageError);
  o.schedule.base = 0.1;
  o.loss = Loss::binary_cross_entropy;  // softmax output
  EXPECT_THROW(Trainer<float>(model, t, nullptr, o), ModelError);
}

}  // namespace
}  // namespace sinapsis
