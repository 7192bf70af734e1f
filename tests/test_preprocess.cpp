// What happens to samples before the first layer: the Playground's input
// features, standardization, and the seeded stratified train/val/test split
// (core/preprocess.hpp, core/dataset.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/dataset.hpp"
#include "core/error.hpp"
#include "core/preprocess.hpp"

namespace sinapsis {
namespace {

template <class Error, class F>
std::string error_of(F&& call) {
  try {
    call();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no exception of the expected type";
  return "";
}

TEST(FeatureSetTest, ParseAndTextRoundTrip) {
  const FeatureSet all = FeatureSet::parse("x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2", "--features");
  EXPECT_EQ(all.features, (std::vector<InputFeature>{InputFeature::x1, InputFeature::x2, InputFeature::x1sq,
                                                     InputFeature::x2sq, InputFeature::x1x2, InputFeature::sinx1,
                                                     InputFeature::sinx2}));
  EXPECT_EQ(all.text(), "x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2");
  const FeatureSet some = FeatureSet::parse("sinx2,x1x2", "--features");
  EXPECT_EQ(some.features, (std::vector<InputFeature>{InputFeature::sinx2, InputFeature::x1x2}));
  EXPECT_EQ(some.text(), "sinx2,x1x2");
  EXPECT_EQ(FeatureSet::parse(some.text(), "again").features, some.features);
  EXPECT_FALSE(some.raw());
  EXPECT_EQ(some.width(784), 2u);
}

TEST(FeatureSetTest, EmptyOrRawMeansTheDataColumns) {
  for (const char* text : {"", "raw"}) {
    const FeatureSet raw = FeatureSet::parse(text, "--features");
    EXPECT_TRUE(raw.raw()) << text;
    EXPECT_EQ(raw.text(), "") << text;
    EXPECT_EQ(raw.width(784), 784u) << text;
    EXPECT_NO_THROW(raw.check_input(784, "data.h5"));
  }
}

TEST(FeatureSetTest, RefusesUnknownAndDuplicateNames) {
  std::string m = error_of<UsageError>([] { FeatureSet::parse("x1,cosx1", "--features"); });
  EXPECT_NE(m.find("--features"), std::string::npos) << m;
  EXPECT_NE(m.find("'cosx1'"), std::string::npos) << m;
  m = error_of<UsageError>([] { FeatureSet::parse("x1,x2,x1", "--features"); });
  EXPECT_NE(m.find("'x1'"), std::string::npos) << m;
  EXPECT_NE(m.find("twice"), std::string::npos) << m;
  m = error_of<UsageError>([] { FeatureSet::parse("x1,,x2", "--features"); });
  EXPECT_NE(m.find("x1,,x2"), std::string::npos) << m;
  m = error_of<UsageError>([] { FeatureSet::parse("X1", "--features"); });
  EXPECT_NE(m.find("'X1'"), std::string::npos) << m;
  m = error_of<UsageError>([] { FeatureSet::parse(",", "--features"); });
  EXPECT_NE(m.find("--features"), std::string::npos) << m;
}

TEST(FeatureSetTest, ApplyComputesThePlaygroundFeatures) {
  Matrix<float> points(3, 2);
  const float xs[3][2] = {{1.5f, -2}, {0, 0.25f}, {-3, 4}};
  for (std::size_t r = 0; r < 3; ++r)
    for (std::size_t c = 0; c < 2; ++c) points(r, c) = xs[r][c];
  const FeatureSet set = FeatureSet::parse("x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2", "--features");
  set.check_input(2, "points.h5");
  const Matrix<float> out = set.apply(points);
  ASSERT_EQ(out.rows, 3u);
  ASSERT_EQ(out.cols, 7u);
  for (std::size_t r = 0; r < 3; ++r) {
    const double x1 = xs[r][0], x2 = xs[r][1];
    const double want[7] = {x1, x2, x1 * x1, x2 * x2, x1 * x2, std::sin(x1), std::sin(x2)};
    for (std::size_t k = 0; k < 7; ++k) EXPECT_NEAR(out(r, k), want[k], 1e-6) << "row " << r << " feature " << k;
  }
  EXPECT_FLOAT_EQ(out(0, 2), 2.25f);
  EXPECT_FLOAT_EQ(out(2, 4), -12.0f);
  // A subset, in the order given.
  const Matrix<float> two = FeatureSet::parse("x1x2,x2sq", "f").apply(points);
  ASSERT_EQ(two.cols, 2u);
  EXPECT_FLOAT_EQ(two(2, 0), -12.0f);
  EXPECT_FLOAT_EQ(two(2, 1), 16.0f);
  // Raw: unchanged.
  EXPECT_EQ(FeatureSet{}.apply(points).values, points.values);
}

TEST(FeatureSetTest, CheckInputRefusesAnythingButTwoColumns) {
  const FeatureSet set = FeatureSet::parse("x1,x1sq", "--features");
  for (std::size_t d : {1u, 3u, 784u}) {
    const std::string m = error_of<DataError>([&] { set.check_input(d, "mnist.h5"); });
    EXPECT_NE(m.find("mnist.h5"), std::string::npos) << m;
    EXPECT_NE(m.find(std::to_string(d) + " columns"), std::string::npos) << m;
    EXPECT_NE(m.find("x1,x1sq"), std::string::npos) << m;
  }
  EXPECT_NO_THROW(set.check_input(2, "points.h5"));
}

TEST(StandardizerTest, FitGivesMeanZeroStdOneAfterApply) {
  Matrix<float> data(6, 3);
  const float values[6][3] = {{1, 100, 7}, {2, 200, 7}, {3, 300, 7}, {4, 400, 7}, {5, 500, 7}, {6, -60, 7}};
  for (std::size_t r = 0; r < 6; ++r)
    for (std::size_t c = 0; c < 3; ++c) data(r, c) = values[r][c];
  const Standardizer s = Standardizer::fit(data);
  ASSERT_TRUE(s.active());
  ASSERT_EQ(s.mean.size(), 3u);
  EXPECT_FLOAT_EQ(s.mean[0], 3.5f);
  EXPECT_NEAR(s.std[0], std::sqrt(17.5 / 6), 1e-6);  // population std of 1..6
  EXPECT_FLOAT_EQ(s.mean[2], 7.0f);
  EXPECT_EQ(s.std[2], 1.0f);  // constant column: std 0 is taken as 1
  s.apply(data);
  for (std::size_t c = 0; c < 2; ++c) {
    double sum = 0, square = 0;
    for (std::size_t r = 0; r < 6; ++r) sum += data(r, c), square += double(data(r, c)) * data(r, c);
    EXPECT_NEAR(sum / 6, 0, 1e-6) << "column " << c;
    EXPECT_NEAR(std::sqrt(square / 6), 1, 1e-6) << "column " << c;
  }
  for (std::size_t r = 0; r < 6; ++r) EXPECT_EQ(data(r, 2), 0.0f);
}

// Streamed rows (issue 17): the moments of rows added a chunk at a time
// are those of the rows added whole, bit for bit; split over "ranks" and
// merged they agree with the two-pass fit to float precision, also for a
// column far from zero (1e6 + small noise: no cancellation).
TEST(StandardizerTest, RunningMomentsAreChunkFreeAndMergeOverRanks) {
  Matrix<float> data(1000, 3);
  for (std::size_t r = 0; r < data.rows; ++r) {
    data(r, 0) = float(std::sin(double(r)));
    data(r, 1) = float(1e6 + 0.01 * std::cos(0.3 * double(r)));
    data(r, 2) = 5.0f;  // constant: std 1
  }
  RunningMoments whole(3), chunks(3);
  whole.add(data.values.data(), data.rows, 3);
  for (std::size_t first = 0; first < data.rows; first += 97)
    chunks.add(data.values.data() + first * 3, std::min<std::size_t>(97, data.rows - first), 3);
  const Standardizer a = whole.finish(), b = chunks.finish();
  EXPECT_EQ(a.mean, b.mean);
  EXPECT_EQ(a.std, b.std);
  // Three "ranks" of 400, 350 and 250 rows merged by sums.
  std::vector<RunningMoments> ranks(3, RunningMoments(3));
  // (each rank's part in order)
  ranks[0].add(data.values.data(), 400, 3);
  ranks[1].add(data.values.data() + 400 * 3, 350, 3);
  ranks[2].add(data.values.data() + 750 * 3, 250, 3);
  // What the two sums across the ranks give: each rank's vector of sum k,
  // once the sums before k are known (finish() stopped by a throw there).
  struct Stop {};
  std::vector<std::vector<double>> totals;
  for (std::size_t k = 0; k < 2; ++k) {
    std::vector<double> total;
    for (const RunningMoments& r : ranks) {
      std::size_t call = 0;
      try {
        r.finish([&](std::span<double> v) {
          if (call < k) {
            std::copy(totals[call].begin(), totals[call].end(), v.begin());
            ++call;
            return;
          }
          total.resize(v.size(), 0.0);
          for (std::size_t i = 0; i < v.size(); ++i) total[i] += v[i];
          throw Stop{};
        });
      } catch (const Stop&) {
      }
    }
    totals.push_back(total);
  }
  std::size_t call = 0;
  const Standardizer m = ranks[1].finish([&](std::span<double> v) {
    std::copy(totals[call].begin(), totals[call].end(), v.begin());
    ++call;
  });
  const Standardizer fit = Standardizer::fit(data);
  for (std::size_t c = 0; c < 3; ++c) {
    EXPECT_FLOAT_EQ(m.mean[c], fit.mean[c]) << c;
    EXPECT_NEAR(m.std[c], fit.std[c], 1e-6 * std::max(1.0f, fit.std[c])) << c;
  }
  EXPECT_EQ(a.std[2], 1.0f);
  for (std::size_t c = 0; c < 3; ++c) {
    EXPECT_FLOAT_EQ(a.mean[c], fit.mean[c]) << c;
    EXPECT_NEAR(a.std[c], fit.std[c], 1e-6 * std::max(1.0f, fit.std[c])) << c;
  }
}

TEST(StandardizerTest, InactiveStandardizerChangesNothing) {
  Matrix<float> data(2, 2, 3.0f);
  const Standardizer none;
  EXPECT_FALSE(none.active());
  none.apply(data);
  EXPECT_EQ(data.values, std::vector<float>(4, 3.0f));
}

// n samples, feature 0 = the row id; classes in blocks of the given sizes.
Dataset ids_by_class(const std::vector<std::size_t>& per_class) {
  Dataset d;
  d.task = Task::classification;
  d.classes = per_class.size();
  std::size_t n = 0;
  for (auto c : per_class) n += c;
  d.features = Matrix<float>(n, 2);
  std::size_t r = 0;
  for (std::size_t k = 0; k < per_class.size(); ++k)
    for (std::size_t i = 0; i < per_class[k]; ++i, ++r) {
      d.features(r, 0) = float(r);
      d.features(r, 1) = float(k);
      d.labels.push_back(std::int64_t(k));
    }
  return d;
}

std::vector<std::size_t> ids_of(const Dataset& d) {
  std::vector<std::size_t> out;
  for (std::size_t r = 0; r < d.size(); ++r) out.push_back(std::size_t(d.features(r, 0)));
  return out;
}

std::map<std::int64_t, std::size_t> class_counts(const Dataset& d) {
  std::map<std::int64_t, std::size_t> counts;
  for (std::size_t r = 0; r < d.size(); ++r) {
    EXPECT_EQ(float(d.labels.at(r)), d.features(r, 1)) << "label travelled with its row";
    ++counts[d.labels[r]];
  }
  return counts;
}

TEST(SplitTest, FractionsPerClassAndStratified) {
  const std::vector<std::size_t> per_class{60, 30, 11};
  const Dataset data = ids_by_class(per_class);
  const SplitData s = split_dataset(data, 0.2, 0.1, 5);
  const auto train = class_counts(s.train), val = class_counts(s.val), test = class_counts(s.test);
  for (std::size_t k = 0; k < per_class.size(); ++k) {
    const double n = double(per_class[k]);
    const auto key = std::int64_t(k);
    EXPECT_NEAR(double(val.count(key) ? val.at(key) : 0), 0.2 * n, 1.0) << "class " << k;
    EXPECT_NEAR(double(test.count(key) ? test.at(key) : 0), 0.1 * n, 1.0) << "class " << k;
    EXPECT_EQ((train.count(key) ? train.at(key) : 0) + (val.count(key) ? val.at(key) : 0) +
                  (test.count(key) ? test.at(key) : 0),
              per_class[k]);
    // The class's share of each part matches its share of the whole, within a sample's rounding.
    for (const auto* part : {&s.train, &s.val, &s.test}) {
      const auto counts = class_counts(*part);
      const double share = double(counts.count(key) ? counts.at(key) : 0) / double(part->size());
      EXPECT_NEAR(share, n / double(data.size()), 1.0 / double(part->size()) + 1e-9) << "class " << k;
    }
  }
  EXPECT_EQ(val.at(0), 12u);
  EXPECT_EQ(test.at(0), 6u);
  EXPECT_EQ(val.at(1), 6u);
  EXPECT_EQ(test.at(1), 3u);
  // Descriptions travel with the parts.
  EXPECT_EQ(s.val.classes, 3u);
  EXPECT_EQ(s.test.task, Task::classification);
}

TEST(SplitTest, PartsAreDisjointAndCoverEveryRowInFileOrder) {
  const Dataset data = ids_by_class({40, 25});
  const SplitData s = split_dataset(data, 0.3, 0.25, 9);
  std::vector<std::size_t> all;
  for (const auto* part : {&s.train, &s.val, &s.test}) {
    const auto ids = ids_of(*part);
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
    all.insert(all.end(), ids.begin(), ids.end());
  }
  std::sort(all.begin(), all.end());
  std::vector<std::size_t> every(data.size());
  for (std::size_t i = 0; i < every.size(); ++i) every[i] = i;
  EXPECT_EQ(all, every);
}

TEST(SplitTest, SeedDecidesTheSplit) {
  const Dataset data = ids_by_class({50, 50});
  const SplitData a = split_dataset(data, 0.2, 0.2, 3), b = split_dataset(data, 0.2, 0.2, 3);
  const SplitData c = split_dataset(data, 0.2, 0.2, 4);
  EXPECT_EQ(ids_of(a.train), ids_of(b.train));
  EXPECT_EQ(ids_of(a.val), ids_of(b.val));
  EXPECT_EQ(ids_of(a.test), ids_of(b.test));
  EXPECT_NE(ids_of(a.val), ids_of(c.val));
  // Not simply the first rows of each class.
  const auto val = ids_of(a.val);
  EXPECT_NE(val, (std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59}));
}

TEST(SplitTest, RegressionSplitsByCount) {
  Dataset data;
  data.task = Task::regression;
  data.features = Matrix<float>(40, 1);
  data.targets = Matrix<float>(40, 1);
  for (std::size_t r = 0; r < 40; ++r) data.features(r, 0) = float(r), data.targets(r, 0) = float(r) * 0.5f;
  const SplitData s = split_dataset(data, 0.25, 0.5, 1);
  EXPECT_EQ(s.val.size(), 10u);
  EXPECT_EQ(s.test.size(), 20u);
  EXPECT_EQ(s.train.size(), 10u);
  for (const auto* part : {&s.train, &s.val, &s.test})
    for (std::size_t r = 0; r < part->size(); ++r) EXPECT_EQ(part->targets(r, 0), part->features(r, 0) * 0.5f);
}

TEST(SplitTest, ZeroFractionsKeepEverythingForTraining) {
  const Dataset data = ids_by_class({5, 5});
  const SplitData s = split_dataset(data, 0, 0, 1);
  EXPECT_EQ(s.train.size(), 10u);
  EXPECT_EQ(s.val.size(), 0u);
  EXPECT_EQ(s.test.size(), 0u);
}

TEST(SplitTest, RefusesBadFractions) {
  const Dataset data = ids_by_class({10, 10});
  EXPECT_NE(error_of<UsageError>([&] { split_dataset(data, 1.5, 0, 1); }).find("--val-split"), std::string::npos);
  EXPECT_NE(error_of<UsageError>([&] { split_dataset(data, -0.1, 0, 1); }).find("--val-split"), std::string::npos);
  EXPECT_NE(error_of<UsageError>([&] { split_dataset(data, 0, 1.0, 1); }).find("--test-split"), std::string::npos);
  EXPECT_NE(error_of<UsageError>([&] { split_dataset(data, NAN, 0, 1); }).find("--val-split"), std::string::npos);
  const std::string sum = error_of<UsageError>([&] { split_dataset(data, 0.6, 0.5, 1); });
  EXPECT_NE(sum.find("--val-split + --test-split"), std::string::npos) << sum;
}

TEST(SelectRowsTest, KeepsOrderAndDescription) {
  Dataset data = ids_by_class({3, 3});
  data.class_names = {"a", "b"};
  data.generator = "spiral";
  const Dataset picked = select_rows(data, {5, 0, 3});
  EXPECT_EQ(ids_of(picked), (std::vector<std::size_t>{5, 0, 3}));
  EXPECT_EQ(picked.labels, (std::vector<std::int64_t>{1, 0, 1}));
  EXPECT_EQ(picked.class_names, data.class_names);
  EXPECT_EQ(picked.generator, "spiral");
}

}  // namespace
}  // namespace sinapsis
