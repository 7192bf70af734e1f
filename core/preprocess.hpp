// What happens to a sample before the first layer, identically in training,
// evaluation and prediction (the model file records both steps):
//
// 1. Input features (the TensorFlow Playground's seven) computed from 2-D
//    points (x1, x2): x1, x2, x1sq = x1^2, x2sq = x2^2, x1x2 = x1*x2,
//    sinx1 = sin(x1), sinx2 = sin(x2). An empty list means the data's own
//    columns, unchanged (any D).
// 2. Standardization: (x - mean) / std per input, with mean and std computed
//    on the training data only (std 0 is taken as 1).
#pragma once

#include <cmath>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/dataset.hpp"
#include "core/error.hpp"
#include "core/tensor.hpp"

namespace sinapsis {

enum class InputFeature { x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2 };

struct FeatureSet {
  std::vector<InputFeature> features;  // empty: the data's columns as they are

  // "x1,x2,x1sq" -> FeatureSet; "" or "raw" -> the data's columns. Throws
  // UsageError naming `what` and the bad name.
  static FeatureSet parse(std::string_view text, std::string_view what);
  std::string text() const;  // inverse of parse ("" for raw columns)
  bool raw() const { return features.empty(); }
  std::size_t width(std::size_t data_columns) const { return raw() ? data_columns : features.size(); }

  // Throws DataError naming `source` unless the data can feed this set.
  void check_input(std::size_t data_columns, const std::string& source) const;
  // [N, D] -> [N, width(D)].
  Matrix<float> apply(const Matrix<float>& data) const;
};

struct Standardizer {
  std::vector<float> mean;  // empty: no standardization
  std::vector<float> std;

  bool active() const { return !mean.empty(); }
  // Mean and population standard deviation of every column, from double
  // sums. With several ranks each passes its own rows and a `sum_across`
  // that adds a vector up over the ranks: the result is that of all rows.
  static Standardizer fit(const Matrix<float>& data,
                          const std::function<void(std::span<double>)>& sum_across = {});
  void apply(Matrix<float>& data) const;
};

// A Standardizer's statistics accumulated a row at a time (Welford's
// update, in double), for rows that are streamed rather than held: the same
// rows in the same order give the same values whether they come whole or a
// chunk at a time. With several ranks, finish() merges every rank's moments
// (Chan et al.) with two sums across the ranks.
class RunningMoments {
 public:
  explicit RunningMoments(std::size_t cols) : mean_(cols, 0.0), m2_(cols, 0.0) {}
  void add(const float* rows, std::size_t n, std::size_t cols);
  std::size_t count() const { return std::size_t(n_); }
  Standardizer finish(const std::function<void(std::span<double>)>& sum_across = {}) const;

 private:
  double n_ = 0;
  std::vector<double> mean_, m2_;
};

}  // namespace sinapsis
