// Whole-network gradients in float64: backward() against finite differences
// of the mean loss with respect to every parameter, for each hidden unit and
// loss/output pair, with L1/L2 penalties, and with a fixed dropout mask. Also
// the statistics of dropout itself.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/init.hpp"
#include "core/network.hpp"
#include "core/random.hpp"
#include "core/regularization.hpp"
#include "tests/gradient_check.hpp"

namespace sinapsis {
namespace {

constexpr std::size_t kBatch = 6;

// A 4-5-3-K net with glorot weights, random biases, a random batch and
// targets for `loss`.
struct Problem {
  Loss loss;
  Model<double> model;
  Workspace<double> ws;
  Matrix<double> x;
  Matrix<double> t;

  Problem(Activation hidden, Loss loss_kind, Activation output, std::size_t outputs,
          std::uint64_t seed)
      : loss(loss_kind),
        model(Architecture::mlp(4, std::vector<std::size_t>{5, 3}, hidden, outputs, output)),
        ws(model.architecture(), kBatch),
        x(kBatch, 4),
        t(kBatch, outputs) {
    initialize(model, Initializer::glorot, seed);
    Rng rng(derive_seed({seed, 99}));
    // Nonzero biases, so that a penalty wrongly applied to them would show.
    for (std::size_t l = 0; l < model.layer_count(); ++l)
      for (double& b : model.bias(l)) b = rng.uniform(-0.5, 0.5);
    for (double& v : x.values) v = rng.uniform(-2, 2);
    for (std::size_t n = 0; n < kBatch; ++n) {
      if (loss == Loss::categorical_cross_entropy) t(n, rng.below(outputs)) = 1;
      for (std::size_t k = 0; k < outputs && loss != Loss::categorical_cross_entropy; ++k)
        t(n, k) = loss == Loss::binary_cross_entropy ? double(rng.below(2))
                  : output == Activation::tanh        ? rng.uniform(-0.9, 0.9)
                                                      : rng.uniform(-2, 2);
    }
  }

  double normalizer() const { return loss_normalizer(loss, kBatch, t.cols); }

  // The mean loss (no penalty) of a forward pass with the given dropout plan.
  double mean_loss(const DropoutPlan& dropout = {}) {
    const MatrixView<double> out = forward<double>(model, ws, x.view(), dropout);
    return loss_sum<double>(loss, ws.logits(kBatch), out, t.view()) / normalizer();
  }

  // d mean_loss / d parameters from backward(), laid out as model.parameters().
  std::vector<double> analytic_gradient(const DropoutPlan& dropout = {}) {
    model.zero_gradients();
    forward<double>(model, ws, x.view(), dropout);
    backward<double>(model, ws, x.view(), t.view(), loss, 1 / normalizer(), dropout.keep_prob);
    return {model.gradients().begin(), model.gradients().end()};
  }

  test::GradientCheck check(const std::vector<double>& analytic, const DropoutPlan& dropout = {}) {
    return test::check_gradient([&](std::span<const double>) { return mean_loss(dropout); },
                                model.parameters(), analytic);
  }
};

struct OutputCase {
  Loss loss;
  Activation output;
  std::size_t outputs;
};

constexpr OutputCase kOutputCases[] = {
    {Loss::categorical_cross_entropy, Activation::softmax, 2},
    {Loss::mse, Activation::linear, 2},
    {Loss::mse, Activation::tanh, 2},
    {Loss::binary_cross_entropy, Activation::sigmoid, 1},
};

constexpr Activation kHiddenUnits[] = {Activation::sigmoid, Activation::tanh, Activation::relu};

TEST(NetworkGradient, EveryParameterForEveryUnitAndLoss) {
  for (Activation hidden : kHiddenUnits)
    for (const OutputCase& c : kOutputCases) {
      Problem p(hidden, c.loss, c.output, c.outputs, 7);
      const auto check = p.check(p.analytic_gradient());
      EXPECT_LT(check.worst_error, 1e-6) << p.model.architecture().describe() << " "
                                         << loss_name(c.loss) << ": " << check;
    }
}

TEST(NetworkGradient, PenaltiesReachWeightsButNotBiases) {
  const Penalty penalty{0.05, 0.2};
  for (Activation hidden : kHiddenUnits) {
    Problem p(hidden, Loss::categorical_cross_entropy, Activation::softmax, 2, 11);
    // Biases live after the weight block, so the optimizer's "first
    // weight_count() entries" never reaches them.
    const double* base = p.model.parameters().data();
    for (std::size_t l = 0; l < p.model.layer_count(); ++l) {
      EXPECT_LE(std::size_t(p.model.weight(l).data - base) + p.model.weight(l).size(),
                p.model.weight_count());
      EXPECT_GE(std::size_t(p.model.bias(l).data() - base), p.model.weight_count());
    }

    std::vector<double> analytic = p.analytic_gradient();
    for (std::size_t i = 0; i < p.model.weight_count(); ++i)
      analytic[i] += penalty.gradient(p.model.parameters()[i]);
    // The numeric side penalizes each layer's weight view, independently of
    // the flat layout the analytic side relies on.
    const auto objective = [&](std::span<const double>) {
      double total = p.mean_loss();
      for (std::size_t l = 0; l < p.model.layer_count(); ++l)
        total += penalty.value(std::span<const double>(p.model.weight(l).flat()));
      return total;
    };
    const auto check = test::check_gradient(objective, p.model.parameters(), analytic);
    EXPECT_LT(check.worst_error, 1e-6) << activation_name(hidden) << ": " << check;
  }
}

TEST(NetworkGradient, WithAFixedDropoutMask) {
  const DropoutPlan dropout{0.7, 1234, 5};
  for (Activation hidden : kHiddenUnits) {
    Problem p(hidden, Loss::categorical_cross_entropy, Activation::softmax, 2, 13);
    const auto check = p.check(p.analytic_gradient(dropout), dropout);
    EXPECT_LT(check.worst_error, 1e-6) << activation_name(hidden) << ": " << check;
    // The mask really changed the gradient.
    EXPECT_NE(p.analytic_gradient(dropout), p.analytic_gradient());
  }
}

std::vector<double> hidden_outputs(Problem& p, const DropoutPlan& dropout) {
  forward<double>(p.model, p.ws, p.x.view(), dropout);
  const auto a = p.ws.activation(0, kBatch).flat();
  return {a.begin(), a.end()};
}

TEST(Dropout, MaskIsFixedBySeedAndStep) {
  Problem p(Activation::tanh, Loss::categorical_cross_entropy, Activation::softmax, 2, 17);
  const DropoutPlan plan{0.5, 42, 3};
  const auto first = hidden_outputs(p, plan);
  EXPECT_EQ(hidden_outputs(p, plan), first);
  EXPECT_NE(hidden_outputs(p, {0.5, 42, 4}), first);
  EXPECT_NE(hidden_outputs(p, {0.5, 43, 3}), first);
}

TEST(Dropout, KeepsAboutKeepProbOfHiddenUnitsScaledByItsInverse) {
  constexpr std::size_t batch = 250, hidden = 200;  // 50000 hidden units
  constexpr double keep_prob = 0.7;
  const Architecture arch =
      Architecture::mlp(4, std::vector<std::size_t>{hidden}, Activation::sigmoid, 3,
                        Activation::softmax);
  Model<double> model(arch);
  initialize(model, Initializer::glorot, 3);
  Matrix<double> x(batch, 4);
  Rng rng(19);
  for (double& v : x.values) v = rng.uniform(-1, 1);

  Workspace<double> plain_ws(arch, batch), dropped_ws(arch, batch);
  forward<double>(model, plain_ws, x.view());
  const MatrixView<double> out =
      forward<double>(model, dropped_ws, x.view(), {keep_prob, 7, 0});
  const auto plain = plain_ws.activation(0, batch).flat();
  const auto dropped = dropped_ws.activation(0, batch).flat();

  std::size_t kept = 0;
  for (std::size_t i = 0; i < plain.size(); ++i) {
    ASSERT_GT(plain[i], 0.0);  // sigmoid: a zero can only be a dropped unit
    if (dropped[i] == 0) continue;
    ++kept;
    ASSERT_NEAR(dropped[i], plain[i] / keep_prob, 1e-12) << "unit " << i;
  }
  EXPECT_NEAR(double(kept) / double(plain.size()), keep_prob, 0.02);
  // Outputs are never dropped: every softmax row still sums to one.
  for (std::size_t n = 0; n < batch; ++n)
    EXPECT_NEAR(out(n, 0) + out(n, 1) + out(n, 2), 1.0, 1e-12) << "row " << n;
}

TEST(Dropout, InferenceWithoutAPlanDropsNothing) {
  Problem p(Activation::sigmoid, Loss::categorical_cross_entropy, Activation::softmax, 2, 23);
  hidden_outputs(p, {0.5, 1, 1});  // leave a training mask in the workspace
  const auto inference = hidden_outputs(p, {});
  // sigmoid(x W0 + b0) by hand.
  const ConstMatrixView<double> w = p.model.weight(0);
  const auto b = p.model.bias(0);
  for (std::size_t n = 0; n < kBatch; ++n)
    for (std::size_t j = 0; j < w.cols; ++j) {
      double z = b[j];
      for (std::size_t i = 0; i < w.rows; ++i) z += p.x(n, i) * w(i, j);
      EXPECT_NEAR(inference[n * w.cols + j], 1 / (1 + std::exp(-z)), 1e-14);
    }
  EXPECT_EQ(hidden_outputs(p, {1.0, 1, 1}), inference);  // keep_prob 1: no dropout either
}

}  // namespace
}  // namespace sinapsis
