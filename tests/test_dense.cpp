// The dense layer: forward against a naive triple loop; backward accumulates
// dw and db, overwrites dx, and matches finite differences of sum(y * R).
#include <gtest/gtest.h>

#include <span>
#include <vector>

#include "core/dense.hpp"
#include "core/random.hpp"
#include "core/tensor.hpp"
#include "tests/gradient_check.hpp"

namespace sinapsis {
namespace {

constexpr std::size_t kBatch = 3, kFanIn = 4, kFanOut = 5;

Matrix<double> random_matrix(std::size_t rows, std::size_t cols, Rng& rng) {
  Matrix<double> m(rows, cols);
  for (double& v : m.values) v = rng.uniform(-1, 1);
  return m;
}

// x [kBatch, kFanIn], w [kFanIn, kFanOut], b [kFanOut], and the fixed weights
// R [kBatch, kFanOut] of the scalar sum(y * R), so that dL/dy = R.
struct Layer {
  Rng rng{derive_seed({41})};
  Matrix<double> x = random_matrix(kBatch, kFanIn, rng);
  Matrix<double> w = random_matrix(kFanIn, kFanOut, rng);
  Matrix<double> b = random_matrix(1, kFanOut, rng);
  Matrix<double> r = random_matrix(kBatch, kFanOut, rng);

  Matrix<double> forward() const {
    Matrix<double> y(kBatch, kFanOut);
    dense_forward<double>(x.view(), w.view(), b.values, y.view());
    return y;
  }
  double objective() const {
    const Matrix<double> y = forward();
    double sum = 0;
    for (std::size_t i = 0; i < y.values.size(); ++i) sum += y.values[i] * r.values[i];
    return sum;
  }
};

struct Gradients {
  Matrix<double> dw{kFanIn, kFanOut};
  Matrix<double> db{1, kFanOut};
  Matrix<double> dx{kBatch, kFanIn};

  void backward_from(const Layer& layer) {
    MatrixView<double> dx_view = dx.view();
    dense_backward<double>(layer.x.view(), layer.w.view(), layer.r.view(), dw.view(), db.values,
                           &dx_view);
  }
};

TEST(DenseForward, EqualsNaiveTripleLoop) {
  const Layer layer;
  const Matrix<double> y = layer.forward();
  for (std::size_t n = 0; n < kBatch; ++n)
    for (std::size_t j = 0; j < kFanOut; ++j) {
      double expected = layer.b.values[j];
      for (std::size_t i = 0; i < kFanIn; ++i) expected += layer.x(n, i) * layer.w(i, j);
      EXPECT_NEAR(y(n, j), expected, 1e-14) << "y(" << n << ", " << j << ")";
    }
}

TEST(DenseForward, OverwritesWhateverWasInY) {
  const Layer layer;
  Matrix<double> y(kBatch, kFanOut, 123.0);
  dense_forward<double>(layer.x.view(), layer.w.view(), layer.b.values, y.view());
  EXPECT_EQ(y.values, layer.forward().values);
}

TEST(DenseBackward, AddsIntoDwAndDbButOverwritesDx) {
  const Layer layer;
  Gradients once, twice;
  once.backward_from(layer);
  twice.backward_from(layer);
  twice.backward_from(layer);
  for (std::size_t i = 0; i < once.dw.values.size(); ++i)
    EXPECT_NEAR(twice.dw.values[i], 2 * once.dw.values[i], 1e-14) << "dw " << i;
  for (std::size_t i = 0; i < once.db.values.size(); ++i)
    EXPECT_NEAR(twice.db.values[i], 2 * once.db.values[i], 1e-14) << "db " << i;
  EXPECT_EQ(twice.dx.values, once.dx.values);
  // db is the column sums of dy = R.
  for (std::size_t j = 0; j < kFanOut; ++j)
    EXPECT_NEAR(once.db.values[j], layer.r(0, j) + layer.r(1, j) + layer.r(2, j), 1e-14);
}

TEST(DenseBackward, NullDxIsAllowedForTheFirstLayer) {
  const Layer layer;
  Gradients with_dx, without_dx;
  with_dx.backward_from(layer);
  dense_backward<double>(layer.x.view(), layer.w.view(), layer.r.view(), without_dx.dw.view(),
                         without_dx.db.values, nullptr);
  EXPECT_EQ(without_dx.dw.values, with_dx.dw.values);
  EXPECT_EQ(without_dx.db.values, with_dx.db.values);
}

TEST(DenseBackward, MatchesFiniteDifferences) {
  Layer layer;
  Gradients analytic;
  analytic.backward_from(layer);
  const auto objective = [&](std::span<const double>) { return layer.objective(); };

  const auto dw = test::check_gradient(objective, std::span<double>(layer.w.values),
                                       analytic.dw.values);
  EXPECT_LT(dw.worst_error, 1e-6) << "dw: " << dw;
  const auto db = test::check_gradient(objective, std::span<double>(layer.b.values),
                                       analytic.db.values);
  EXPECT_LT(db.worst_error, 1e-6) << "db: " << db;
  const auto dx = test::check_gradient(objective, std::span<double>(layer.x.values),
                                       analytic.dx.values);
  EXPECT_LT(dx.worst_error, 1e-6) << "dx: " << dx;
}

// The checker itself must catch a gradient that is slightly off.
TEST(GradientCheck, FlagsTheWrongEntry) {
  Layer layer;
  Gradients analytic;
  analytic.backward_from(layer);
  analytic.dw(2, 3) *= 1.001;
  const auto check = test::check_gradient([&](std::span<const double>) { return layer.objective(); },
                                          std::span<double>(layer.w.values), analytic.dw.values);
  EXPECT_GT(check.worst_error, 1e-4);
  EXPECT_EQ(check.worst_index, 2 * kFanOut + 3);
}

}  // namespace
}  // namespace sinapsis
