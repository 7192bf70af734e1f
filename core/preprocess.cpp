#include "core/preprocess.hpp"

#include <array>
#include <sstream>
#include <utility>

namespace sinapsis {
namespace {

constexpr std::array<std::pair<std::string_view, InputFeature>, 7> kFeatureNames{{
    {"x1", InputFeature::x1},
    {"x2", InputFeature::x2},
    {"x1sq", InputFeature::x1sq},
    {"x2sq", InputFeature::x2sq},
    {"x1x2", InputFeature::x1x2},
    {"sinx1", InputFeature::sinx1},
    {"sinx2", InputFeature::sinx2},
}};

float feature_value(InputFeature f, float x1, float x2) {
  switch (f) {
    case InputFeature::x1: return x1;
    case InputFeature::x2: return x2;
    case InputFeature::x1sq: return x1 * x1;
    case InputFeature::x2sq: return x2 * x2;
    case InputFeature::x1x2: return x1 * x2;
    case InputFeature::sinx1: return std::sin(x1);
    case InputFeature::sinx2: return std::sin(x2);
  }
  return 0;
}

}  // namespace

FeatureSet FeatureSet::parse(std::string_view text, std::string_view what) {
  FeatureSet set;
  if (text.empty() || text == "raw") return set;
  std::string item;
  std::stringstream stream{std::string(text)};
  while (std::getline(stream, item, ',')) {
    bool found = false;
    for (const auto& [name, value] : kFeatureNames)
      if (name == item) {
        for (InputFeature f : set.features)
          if (f == value) throw UsageError(std::string(what) + ": feature '" + item + "' is listed twice in '" + std::string(text) + "'");
        set.features.push_back(value);
        found = true;
      }
    if (!found)
      throw UsageError(std::string(what) + ": unknown feature '" + item + "' in '" + std::string(text) +
                       "' (expected x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2, or raw)");
  }
  if (set.features.empty()) throw UsageError(std::string(what) + ": no features in '" + std::string(text) + "'");
  return set;
}

std::string FeatureSet::text() const {
  std::string out;
  for (InputFeature f : features)
    for (const auto& [name, value] : kFeatureNames)
      if (value == f) out += (out.empty() ? "" : ",") + std::string(name);
  return out;
}

void FeatureSet::check_input(std::size_t data_columns, const std::string& source) const {
  if (!raw() && data_columns != 2)
    throw DataError(source + ": input features " + text() + " are computed from 2-D points (x1, x2), but /features has " +
                    std::to_string(data_columns) + " columns");
}

Matrix<float> FeatureSet::apply(const Matrix<float>& data) const {
  if (raw()) return data;
  Matrix<float> out(data.rows, features.size());
  for (std::size_t r = 0; r < data.rows; ++r)
    for (std::size_t k = 0; k < features.size(); ++k) out(r, k) = feature_value(features[k], data(r, 0), data(r, 1));
  return out;
}

Standardizer Standardizer::fit(const Matrix<float>& data,
                               const std::function<void(std::span<double>)>& sum_across) {
  Standardizer s;
  // Column sums and the row count, then squared deviations from the mean.
  std::vector<double> sum(data.cols + 1, 0), square(data.cols, 0);
  for (std::size_t r = 0; r < data.rows; ++r)
    for (std::size_t c = 0; c < data.cols; ++c) sum[c] += data(r, c);
  sum[data.cols] = double(data.rows);
  if (sum_across) sum_across(sum);
  const double n = std::max(sum[data.cols], 1.0);
  for (std::size_t c = 0; c < data.cols; ++c) s.mean.push_back(float(sum[c] / n));
  for (std::size_t r = 0; r < data.rows; ++r)
    for (std::size_t c = 0; c < data.cols; ++c) {
      const double d = double(data(r, c)) - double(s.mean[c]);
      square[c] += d * d;
    }
  if (sum_across) sum_across(square);
  for (std::size_t c = 0; c < data.cols; ++c) {
    const double sd = std::sqrt(square[c] / n);
    s.std.push_back(sd > 0 ? float(sd) : 1.0f);
  }
  return s;
}

void RunningMoments::add(const float* rows, std::size_t n, std::size_t cols) {
  for (std::size_t r = 0; r < n; ++r) {
    n_ += 1;
    const double inverse = 1 / n_;
    const float* x = rows + r * cols;
    for (std::size_t c = 0; c < cols; ++c) {
      const double delta = double(x[c]) - mean_[c];
      mean_[c] += delta * inverse;
      m2_[c] += delta * (double(x[c]) - mean_[c]);
    }
  }
}

Standardizer RunningMoments::finish(const std::function<void(std::span<double>)>& sum_across) const {
  const std::size_t cols = mean_.size();
  std::vector<double> weighted(cols + 1);
  for (std::size_t c = 0; c < cols; ++c) weighted[c] = n_ * mean_[c];
  weighted[cols] = n_;
  if (sum_across) sum_across(weighted);
  const double n = std::max(weighted[cols], 1.0);
  Standardizer s;
  std::vector<double> m2(cols);
  for (std::size_t c = 0; c < cols; ++c) {
    const double mean = weighted[c] / n;
    s.mean.push_back(float(mean));
    m2[c] = m2_[c] + n_ * (mean_[c] - mean) * (mean_[c] - mean);
  }
  if (sum_across) sum_across(m2);
  for (std::size_t c = 0; c < cols; ++c) {
    const double sd = std::sqrt(m2[c] / n);
    s.std.push_back(sd > 0 ? float(sd) : 1.0f);
  }
  return s;
}

void Standardizer::apply(Matrix<float>& data) const {
  if (!active()) return;
  for (std::size_t r = 0; r < data.rows; ++r)
    for (std::size_t c = 0; c < data.cols; ++c) data(r, c) = (data(r, c) - mean[c]) / std[c];
}

}  // namespace sinapsis
