// Losses: summed values against hand-computed numbers, stability at logits of
// +-1000, finite-difference checks of loss_gradient with respect to the
// output pre-activations z, and which output units each loss accepts.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/activation.hpp"
#include "core/error.hpp"
#include "core/loss.hpp"
#include "core/random.hpp"
#include "core/tensor.hpp"
#include "tests/gradient_check.hpp"

namespace sinapsis {
namespace {

template <class T>
Matrix<T> filled(std::size_t rows, std::size_t cols, std::vector<T> values) {
  Matrix<T> m(rows, cols);
  m.values = std::move(values);
  return m;
}

template <class T>
Matrix<T> activated(Activation activation, Matrix<T> z) {
  activate(activation, z.view());
  return z;
}

TEST(LossSum, MseIsTheSumOfSquaredErrors) {
  // (0.5-1)^2 + (1-1)^2 + (0-0)^2 + (2-0)^2 = 0.25 + 4
  const auto a = filled<double>(2, 2, {0.5, 1, 0, 2});
  const auto t = filled<double>(2, 2, {1, 1, 0, 0});
  EXPECT_DOUBLE_EQ(loss_sum(Loss::mse, a.view(), a.view(), t.view()), 4.25);
  EXPECT_DOUBLE_EQ(loss_normalizer(Loss::mse, 2, 2), 4.0);
}

TEST(LossSum, BceFromLogits) {
  // -[t log a + (1-t) log(1-a)], a = sigmoid(z):  z=0,t=1 -> ln 2;
  // z=2,t=0 -> ln(1+e^2); z=-1,t=1 -> ln(1+e^-1) + 1 (values from Python math).
  const auto z = filled<double>(3, 1, {0, 2, -1});
  const auto t = filled<double>(3, 1, {1, 0, 1});
  const auto a = activated(Activation::sigmoid, z);
  const double expected = 0.6931471805599453 + 2.1269280110429727 + 1.3132616875182228;
  EXPECT_NEAR(loss_sum(Loss::binary_cross_entropy, z.view(), a.view(), t.view()), expected, 1e-14);
  EXPECT_DOUBLE_EQ(loss_normalizer(Loss::binary_cross_entropy, 3, 1), 3.0);
}

TEST(LossSum, CceIsMinusLogProbabilityOfTheClass) {
  // Row 0: z = (1,2,3), class 2: -log(e^3 / (e + e^2 + e^3)) = 0.4076059644443803.
  // Row 1: z = (5,5,5), class 0: ln 3.
  const auto z = filled<double>(2, 3, {1, 2, 3, 5, 5, 5});
  const auto t = filled<double>(2, 3, {0, 0, 1, 1, 0, 0});
  const auto a = activated(Activation::softmax, z);
  EXPECT_NEAR(loss_sum(Loss::categorical_cross_entropy, z.view(), a.view(), t.view()),
              0.4076059644443803 + 1.0986122886681098, 1e-14);
  EXPECT_DOUBLE_EQ(loss_normalizer(Loss::categorical_cross_entropy, 2, 3), 2.0);
}

// Loss and dL/dz (grad_scale 1) for float logits that overflow a naive exp.
struct Evaluated {
  double loss;
  std::vector<float> gradient;
};

Evaluated evaluate(Loss loss, Activation output, const Matrix<float>& z, const Matrix<float>& t) {
  const Matrix<float> a = activated(output, z);
  Matrix<float> dz(z.rows, z.cols);
  loss_gradient(loss, output, a.view(), t.view(), 1.0f, dz.view());
  return {loss_sum(loss, z.view(), a.view(), t.view()), dz.values};
}

TEST(LossStability, BceWithHugeLogitsReachesItsLimits) {
  // softplus(z) - t z: right side -> 0, wrong side -> |z| = 1000.
  const auto z = filled<float>(4, 1, {1000, -1000, 1000, -1000});
  const auto t = filled<float>(4, 1, {1, 0, 0, 1});
  const auto [loss, gradient] = evaluate(Loss::binary_cross_entropy, Activation::sigmoid, z, t);
  EXPECT_NEAR(loss, 2000.0, 1e-9);
  const std::vector<float> expected{0, 0, 1, -1};  // a - t with a in {0, 1}
  for (std::size_t i = 0; i < gradient.size(); ++i) {
    ASSERT_TRUE(std::isfinite(gradient[i])) << "entry " << i;
    EXPECT_FLOAT_EQ(gradient[i], expected[i]) << "entry " << i;
  }
}

TEST(LossStability, CceWithHugeLogitsReachesItsLimits) {
  const auto z = filled<float>(1, 3, {1000, -1000, -1000});
  const auto right = evaluate(Loss::categorical_cross_entropy, Activation::softmax, z,
                              filled<float>(1, 3, {1, 0, 0}));
  EXPECT_NEAR(right.loss, 0.0, 1e-9);
  const auto wrong = evaluate(Loss::categorical_cross_entropy, Activation::softmax, z,
                              filled<float>(1, 3, {0, 1, 0}));
  EXPECT_NEAR(wrong.loss, 2000.0, 1e-9);
  const std::vector<float> right_gradient{0, 0, 0}, wrong_gradient{1, -1, 0};
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(std::isfinite(right.gradient[i]) && std::isfinite(wrong.gradient[i]));
    EXPECT_FLOAT_EQ(right.gradient[i], right_gradient[i]) << "entry " << i;
    EXPECT_FLOAT_EQ(wrong.gradient[i], wrong_gradient[i]) << "entry " << i;
  }
}

// Targets that fit the output unit's range; one-hot rows for softmax.
Matrix<double> targets_for(Activation output, std::size_t rows, std::size_t cols, Rng& rng) {
  Matrix<double> t(rows, cols);
  for (std::size_t r = 0; r < rows; ++r) {
    if (output == Activation::softmax) {
      t(r, rng.below(cols)) = 1;
      continue;
    }
    for (std::size_t c = 0; c < cols; ++c)
      t(r, c) = output == Activation::linear ? rng.uniform(-2, 2)
                : output == Activation::tanh ? rng.uniform(-1, 1)
                                             : double(rng.below(2));
  }
  return t;
}

// dL/dz of the mean loss: numeric from z -> loss_sum(activate(z)) / normalizer,
// analytic from loss_gradient with grad_scale = 1 / normalizer.
// With soft_targets, every target is U(0, 1): rows that do not sum to 1.
void check_loss_gradient(Loss loss, Activation output, bool soft_targets = false) {
  constexpr std::size_t rows = 3, cols = 4;
  Rng rng(derive_seed({29, std::uint64_t(loss), std::uint64_t(output)}));
  Matrix<double> z(rows, cols);
  for (double& v : z.values) v = rng.uniform(-2, 2);
  Matrix<double> targets = targets_for(output, rows, cols, rng);
  if (soft_targets)
    for (double& v : targets.values) v = rng.uniform(0, 1);
  const Matrix<double>& t = targets;
  const double normalizer = loss_normalizer(loss, rows, cols);

  const auto objective = [&](std::span<const double> zs) {
    const Matrix<double> logits = filled<double>(rows, cols, {zs.begin(), zs.end()});
    const Matrix<double> a = activated(output, logits);
    return loss_sum(loss, logits.view(), a.view(), t.view()) / normalizer;
  };
  const Matrix<double> a = activated(output, z);
  Matrix<double> dz(rows, cols);
  loss_gradient(loss, output, a.view(), t.view(), 1 / normalizer, dz.view());

  const auto check = test::check_gradient(objective, std::span<double>(z.values), dz.values);
  EXPECT_LT(check.worst_error, 1e-6)
      << loss_name(loss) << " + " << activation_name(output) << ": " << check;
}

TEST(LossGradient, MseWithEveryOutputUnit) {
  for (Activation output :
       {Activation::linear, Activation::sigmoid, Activation::tanh, Activation::softmax})
    check_loss_gradient(Loss::mse, output);
}

TEST(LossGradient, BceWithSigmoid) {
  check_loss_gradient(Loss::binary_cross_entropy, Activation::sigmoid);
}

TEST(LossGradient, CceWithSoftmax) {
  check_loss_gradient(Loss::categorical_cross_entropy, Activation::softmax);
}

TEST(LossGradient, CceWithUnnormalisedSoftTargets) {
  check_loss_gradient(Loss::categorical_cross_entropy, Activation::softmax, true);
}

TEST(LossOutput, EachLossAcceptsOnlyItsOutputUnit) {
  EXPECT_NO_THROW(check_loss_output(Loss::binary_cross_entropy, Activation::sigmoid));
  EXPECT_NO_THROW(check_loss_output(Loss::categorical_cross_entropy, Activation::softmax));
  EXPECT_NO_THROW(check_loss_output(Loss::mse, Activation::tanh));
  EXPECT_THROW(check_loss_output(Loss::binary_cross_entropy, Activation::tanh), ModelError);
  EXPECT_THROW(check_loss_output(Loss::binary_cross_entropy, Activation::softmax), ModelError);
  EXPECT_THROW(check_loss_output(Loss::categorical_cross_entropy, Activation::sigmoid),
               ModelError);
  EXPECT_THROW(check_loss_output(Loss::categorical_cross_entropy, Activation::linear),
               ModelError);
  EXPECT_THROW(check_loss_output(Loss::mse, Activation::step), ModelError);
}

}  // namespace
}  // namespace sinapsis
