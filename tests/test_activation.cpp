// Unit activations: forward values against hand-computed numbers, softmax
// stability, finite-difference checks of activation_backward, name parsing.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/activation.hpp"
#include "core/error.hpp"
#include "core/random.hpp"
#include "core/tensor.hpp"
#include "tests/gradient_check.hpp"

namespace sinapsis {
namespace {

Matrix<double> row_matrix(std::size_t rows, std::size_t cols, std::vector<double> values) {
  Matrix<double> m(rows, cols);
  m.values = std::move(values);
  return m;
}

Matrix<double> activated(Activation activation, Matrix<double> z, double threshold = 0) {
  activate(activation, z.view(), threshold);
  return z;
}

TEST(ActivationForward, LinearIsIdentity) {
  const auto a = activated(Activation::linear, row_matrix(1, 3, {-2.5, 0, 7}));
  EXPECT_EQ(a.values, (std::vector<double>{-2.5, 0, 7}));
}

TEST(ActivationForward, StepFiresAtAndAboveThreshold) {
  const auto a = activated(Activation::step, row_matrix(1, 5, {-1, 0.4, 0.5, 0.6, 3}), 0.5);
  EXPECT_EQ(a.values, (std::vector<double>{0, 0, 1, 1, 1}));
}

TEST(ActivationForward, SigmoidTanhRelu) {
  // Reference values: Python math, 1 / (1 + exp(-z)) and tanh(z).
  const auto s = activated(Activation::sigmoid, row_matrix(1, 3, {0, 2, -1}));
  EXPECT_DOUBLE_EQ(s.values[0], 0.5);
  EXPECT_DOUBLE_EQ(s.values[1], 0.8807970779778823);
  EXPECT_DOUBLE_EQ(s.values[2], 0.2689414213699951);
  const auto t = activated(Activation::tanh, row_matrix(1, 2, {0.5, -0.5}));
  EXPECT_DOUBLE_EQ(t.values[0], 0.46211715726000974);
  EXPECT_DOUBLE_EQ(t.values[1], -0.46211715726000974);
  const auto r = activated(Activation::relu, row_matrix(1, 4, {-3, -0.0, 0.25, 4}));
  EXPECT_EQ(r.values, (std::vector<double>{0, 0, 0.25, 4}));
}

TEST(ActivationForward, SoftmaxValuesAndRowSums) {
  // exp(k) / (e + e^2 + e^3) for k = 1, 2, 3 (Python math); second row uniform.
  const auto a = activated(Activation::softmax, row_matrix(2, 3, {1, 2, 3, -4, -4, -4}));
  EXPECT_DOUBLE_EQ(a(0, 0), 0.09003057317038046);
  EXPECT_DOUBLE_EQ(a(0, 1), 0.24472847105479767);
  EXPECT_DOUBLE_EQ(a(0, 2), 0.6652409557748219);
  for (std::size_t c = 0; c < 3; ++c) EXPECT_DOUBLE_EQ(a(1, c), 1.0 / 3);
  for (std::size_t r = 0; r < 2; ++r) EXPECT_NEAR(a(r, 0) + a(r, 1) + a(r, 2), 1.0, 1e-15);
}

TEST(ActivationForward, SoftmaxIgnoresAConstantShift) {
  const auto a = activated(Activation::softmax, row_matrix(1, 4, {0.3, -1.2, 2.0, 0.7}));
  const auto shifted = activated(Activation::softmax, row_matrix(1, 4, {50.3, 48.8, 52.0, 50.7}));
  for (std::size_t c = 0; c < 4; ++c) EXPECT_NEAR(a(0, c), shifted(0, c), 1e-12);
}

TEST(ActivationForward, SoftmaxStableForHugeLogitsInFloat) {
  Matrix<float> z(2, 3);
  z.values = {1000.f, -1000.f, 0.f, -1000.f, -1000.f, 1000.f};
  activate(Activation::softmax, z.view());
  const std::vector<float> expected{1, 0, 0, 0, 0, 1};
  for (std::size_t i = 0; i < z.values.size(); ++i) {
    ASSERT_TRUE(std::isfinite(z.values[i])) << "entry " << i;
    EXPECT_FLOAT_EQ(z.values[i], expected[i]) << "entry " << i;
  }
}

// Checks dL/dz from activation_backward for L = sum(R * act(z)), R fixed and
// random, so dL/da = R and the softmax case checks its Jacobian-vector product.
void check_backward(Activation activation) {
  constexpr std::size_t rows = 3, cols = 4;
  Rng rng(derive_seed({17, std::uint64_t(activation)}));
  Matrix<double> z(rows, cols), weights(rows, cols);
  for (double& v : z.values) {
    v = rng.uniform(-2, 2);
    if (std::abs(v) < 1e-3) v = 0.5;  // keep off the relu kink
  }
  for (double& v : weights.values) v = rng.uniform(-1, 1);

  const auto objective = [&](std::span<const double> zs) {
    Matrix<double> a(rows, cols);
    a.values.assign(zs.begin(), zs.end());
    activate(activation, a.view());
    double sum = 0;
    for (std::size_t i = 0; i < a.values.size(); ++i) sum += weights.values[i] * a.values[i];
    return sum;
  };
  const Matrix<double> a = activated(activation, z);
  Matrix<double> grad = weights;  // dL/da in, dL/dz out
  activation_backward(activation, a.view(), grad.view());

  const auto check = test::check_gradient(objective, std::span<double>(z.values), grad.values);
  EXPECT_LT(check.worst_error, 1e-6) << activation_name(activation) << ": " << check;
}

TEST(ActivationBackward, MatchesFiniteDifferences) {
  for (Activation activation : {Activation::linear, Activation::sigmoid, Activation::tanh,
                                Activation::relu, Activation::softmax})
    check_backward(activation);
}

TEST(ActivationBackward, ReluPassesGradientOnlyWhereActive) {
  const auto a = activated(Activation::relu, row_matrix(1, 3, {-1, 2, 0.5}));
  auto grad = row_matrix(1, 3, {5, 6, 7});
  activation_backward(Activation::relu, a.view(), grad.view());
  EXPECT_EQ(grad.values, (std::vector<double>{0, 6, 7}));
}

TEST(ActivationBackward, StepIsNotTrainable) {
  const auto a = activated(Activation::step, row_matrix(1, 2, {-1, 1}));
  auto grad = row_matrix(1, 2, {1, 1});
  EXPECT_THROW(activation_backward(Activation::step, a.view(), grad.view()), ModelError);
}

TEST(ActivationNames, ParseRoundTripsEveryName) {
  for (Activation activation : {Activation::linear, Activation::step, Activation::sigmoid,
                                Activation::tanh, Activation::relu, Activation::softmax})
    EXPECT_EQ(parse_activation(activation_name(activation), "--activation"), activation);
}

TEST(ActivationNames, UnknownNameIsAUsageErrorNamingIt) {
  try {
    parse_activation("swish", "--hidden-activation");
    FAIL() << "parse_activation accepted 'swish'";
  } catch (const UsageError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("swish"), std::string::npos) << message;
    EXPECT_NE(message.find("--hidden-activation"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace sinapsis
