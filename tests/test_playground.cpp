// The TensorFlow Playground's generators (REFERENCE.md §2): each set's
// defining property checked on generated points — the radius law of circle
// and spiral, the padded quadrants of xor, the moments of gauss, the exact
// targets of reg-plane and the signed centres of reg-gauss — plus seeding
// and the refusals of bad arguments.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "core/error.hpp"
#include "io/playground.hpp"

namespace sinapsis {
namespace {

constexpr std::uint64_t kSeed = 7;

double radius(const Dataset& d, std::size_t row) { return std::hypot(double(d.features(row, 0)), double(d.features(row, 1))); }

std::size_t count_label(const Dataset& d, std::int64_t label) {
  return std::size_t(std::count(d.labels.begin(), d.labels.end(), label));
}

TEST(PlaygroundTest, CircleWithoutNoiseSeparatesByRadius) {
  const Dataset d = make_playground(PlaygroundSet::circle, 500, 0, kSeed);
  ASSERT_EQ(d.size(), 500u);
  ASSERT_EQ(d.dimension(), 2u);
  EXPECT_EQ(d.task, Task::classification);
  EXPECT_EQ(d.classes, 2u);
  EXPECT_EQ(count_label(d, 1), 250u);
  EXPECT_EQ(count_label(d, 0), 250u);
  for (std::size_t r = 0; r < d.size(); ++r) {
    const double rad = radius(d, r);
    if (d.labels[r] == 1) {
      EXPECT_LT(rad, 2.5) << "row " << r;
    } else {
      EXPECT_GE(rad, 3.5 - 1e-5) << "row " << r;
      EXPECT_LE(rad, 5.0 + 1e-5) << "row " << r;
    }
  }
}

TEST(PlaygroundTest, CircleNoiseFlipsLabelsButNotPoints) {
  const Dataset d = make_playground(PlaygroundSet::circle, 500, 0.3, kSeed);
  ASSERT_EQ(d.size(), 500u);
  // Generation order: the inner half first, then the outer half.
  std::size_t flipped = 0;
  for (std::size_t r = 0; r < d.size(); ++r) {
    const double rad = radius(d, r);
    if (r < 250) {
      EXPECT_LT(rad, 2.5) << "row " << r;
    } else {
      EXPECT_GE(rad, 3.5 - 1e-5) << "row " << r;
      EXPECT_LE(rad, 5.0 + 1e-5) << "row " << r;
    }
    const std::int64_t by_radius = rad < 2.5 ? 1 : 0;
    flipped += d.labels[r] != by_radius;
  }
  EXPECT_GT(flipped, 10u);   // noise 0.3 moves points by up to 1.5 in each coordinate
  EXPECT_LT(flipped, 250u);  // but most labels still follow the radius
}

TEST(PlaygroundTest, XorPointsArePaddedAndLabelledBySignOfProduct) {
  const Dataset d = make_playground(PlaygroundSet::xor_quadrants, 2000, 0, kSeed);
  ASSERT_EQ(d.size(), 2000u);
  for (std::size_t r = 0; r < d.size(); ++r) {
    const float x = d.features(r, 0), y = d.features(r, 1);
    EXPECT_GE(std::abs(x), 0.3f - 1e-6f) << "row " << r;
    EXPECT_GE(std::abs(y), 0.3f - 1e-6f) << "row " << r;
    EXPECT_LE(std::abs(x), 5.3f + 1e-5f) << "row " << r;
    EXPECT_LE(std::abs(y), 5.3f + 1e-5f) << "row " << r;
    EXPECT_EQ(d.labels[r], x * y >= 0 ? 1 : 0) << "row " << r << " (" << x << ", " << y << ")";
  }
  const std::size_t ones = count_label(d, 1);
  EXPECT_GT(ones, 900u);  // binomial(2000, 0.5): sd 22
  EXPECT_LT(ones, 1100u);
}

TEST(PlaygroundTest, XorNoiseFlipsSomeLabels) {
  const Dataset d = make_playground(PlaygroundSet::xor_quadrants, 2000, 0.5, kSeed);
  std::size_t flipped = 0;
  for (std::size_t r = 0; r < d.size(); ++r)
    flipped += d.labels[r] != (d.features(r, 0) * d.features(r, 1) >= 0 ? 1 : 0);
  EXPECT_GT(flipped, 20u);
  EXPECT_LT(flipped, 1000u);
}

// Class means and the pooled within-class variance of both coordinates.
void expect_gauss_moments(double noise) {
  const Dataset d = make_playground(PlaygroundSet::gauss, 2000, noise, kSeed);
  ASSERT_EQ(d.size(), 2000u);
  EXPECT_EQ(count_label(d, 1), 1000u);
  EXPECT_EQ(count_label(d, 0), 1000u);
  double sum[2][2] = {}, square[2][2] = {};
  std::size_t count[2] = {};
  for (std::size_t r = 0; r < d.size(); ++r) {
    const auto k = std::size_t(d.labels[r]);
    ++count[k];
    for (std::size_t c = 0; c < 2; ++c) {
      sum[k][c] += d.features(r, c);
      square[k][c] += double(d.features(r, c)) * d.features(r, c);
    }
  }
  const double centre[2] = {-2, 2};  // class 0 at (-2, -2), class 1 at (2, 2)
  const double variance = 0.5 + 7 * noise;
  double pooled = 0;
  for (std::size_t k = 0; k < 2; ++k)
    for (std::size_t c = 0; c < 2; ++c) {
      const double mean = sum[k][c] / double(count[k]);
      EXPECT_NEAR(mean, centre[k], 0.2) << "class " << k << " coordinate " << c;
      pooled += square[k][c] - double(count[k]) * mean * mean;
    }
  pooled /= double(2 * d.size() - 4);
  EXPECT_NEAR(pooled, variance, 0.1 * variance) << "noise " << noise;
}

TEST(PlaygroundTest, GaussMeansAndVariance) {
  expect_gauss_moments(0);    // variance 0.5
  expect_gauss_moments(0.2);  // variance 1.9
  expect_gauss_moments(0.5);  // variance 4
}

TEST(PlaygroundTest, SpiralWithoutNoiseFollowsTheArms) {
  constexpr std::size_t n = 500, arm = n / 2;
  const Dataset d = make_playground(PlaygroundSet::spiral, n, 0, kSeed);
  ASSERT_EQ(d.size(), n);
  EXPECT_EQ(count_label(d, 1), arm);
  EXPECT_EQ(count_label(d, 0), arm);
  for (std::size_t k = 0; k < 2; ++k)
    for (std::size_t i = 0; i < arm; ++i) {
      const std::size_t row = k * arm + i;
      const double r = 5.0 * double(i) / double(arm);
      const double t = 1.75 * 2 * std::numbers::pi * double(i) / double(arm) + (k == 0 ? 0 : std::numbers::pi);
      EXPECT_EQ(d.labels[row], k == 0 ? 1 : 0) << "row " << row;
      EXPECT_NEAR(radius(d, row), r, 1e-5) << "row " << row;
      EXPECT_NEAR(d.features(row, 0), r * std::sin(t), 1e-5) << "row " << row;
      EXPECT_NEAR(d.features(row, 1), r * std::cos(t), 1e-5) << "row " << row;
    }
}

TEST(PlaygroundTest, SpiralNoiseMovesPointsByAtMostNoise) {
  constexpr double noise = 0.3;
  const Dataset clean = make_playground(PlaygroundSet::spiral, 500, 0, kSeed);
  const Dataset noisy = make_playground(PlaygroundSet::spiral, 500, noise, kSeed);
  double largest = 0;
  for (std::size_t i = 0; i < clean.features.values.size(); ++i) {
    const double moved = std::abs(double(noisy.features.values[i]) - clean.features.values[i]);
    EXPECT_LE(moved, noise + 1e-5) << "value " << i;
    largest = std::max(largest, moved);
  }
  EXPECT_GT(largest, 0.5 * noise);
}

TEST(PlaygroundTest, RegPlaneTargetIsTheScaledSum) {
  const Dataset d = make_playground(PlaygroundSet::reg_plane, 1200, 0, kSeed);
  ASSERT_EQ(d.size(), 1200u);
  EXPECT_EQ(d.task, Task::regression);
  ASSERT_EQ(d.targets.cols, 1u);
  ASSERT_EQ(d.targets.rows, 1200u);
  for (std::size_t r = 0; r < d.size(); ++r) {
    const float x = d.features(r, 0), y = d.features(r, 1);
    EXPECT_GE(x, -6.0f);
    EXPECT_LE(x, 6.0f);
    EXPECT_GE(y, -6.0f);
    EXPECT_LE(y, 6.0f);
    EXPECT_NEAR(d.targets(r, 0), (double(x) + y) / 10, 1e-6) << "row " << r;
  }
}

TEST(PlaygroundTest, RegPlaneNoiseChangesTargetsOnly) {
  const Dataset clean = make_playground(PlaygroundSet::reg_plane, 1200, 0, kSeed);
  const Dataset noisy = make_playground(PlaygroundSet::reg_plane, 1200, 0.2, kSeed);
  EXPECT_EQ(clean.features.values, noisy.features.values);
  double largest = 0;
  for (std::size_t r = 0; r < clean.size(); ++r) {
    const double moved = std::abs(double(noisy.targets(r, 0)) - clean.targets(r, 0));
    EXPECT_LE(moved, 2 * 6 * 0.2 / 10 + 1e-6);  // nx + ny, each up to 6 * noise
    largest = std::max(largest, moved);
  }
  EXPECT_GT(largest, 0.1);
}

TEST(PlaygroundTest, RegGaussHasSignedPeaksAtTheSixCentres) {
  const Dataset d = make_playground(PlaygroundSet::reg_gauss, 1200, 0, kSeed);
  ASSERT_EQ(d.size(), 1200u);
  EXPECT_EQ(d.task, Task::regression);
  for (std::size_t r = 0; r < d.size(); ++r) {
    EXPECT_GE(d.targets(r, 0), -1.0f);
    EXPECT_LE(d.targets(r, 0), 1.0f);
  }
  // Centre, sign: top row + - +, bottom row - + -.
  const double centres[6][3] = {{-4, 2.5, 1}, {0, 2.5, -1}, {4, 2.5, 1}, {-4, -2.5, -1}, {0, -2.5, 1}, {4, -2.5, -1}};
  for (const auto& [cx, cy, sign] : centres) {
    std::size_t nearest = 0;
    double best = INFINITY;
    for (std::size_t r = 0; r < d.size(); ++r) {
      const double dist = std::hypot(d.features(r, 0) - cx, d.features(r, 1) - cy);
      if (dist < best) best = dist, nearest = r;
    }
    ASSERT_LT(best, 0.5) << "no point near (" << cx << ", " << cy << ")";
    // Within 0.5 of a centre only that centre's bump is non-zero (centres are 4 apart).
    EXPECT_NEAR(d.targets(nearest, 0), sign * (1 - best / 2), 1e-5) << "centre (" << cx << ", " << cy << ")";
  }
  // Far from every centre (more than 2 away) the target is 0.
  for (std::size_t r = 0; r < d.size(); ++r) {
    bool far = true;
    for (const auto& [cx, cy, sign] : centres)
      far = far && std::hypot(d.features(r, 0) - cx, d.features(r, 1) - cy) > 2.001;
    if (far) {
      EXPECT_EQ(d.targets(r, 0), 0.0f) << "row " << r;
    }
  }
}

TEST(PlaygroundTest, SameSeedSameDataDifferentSeedDifferentData) {
  for (PlaygroundSet set : {PlaygroundSet::circle, PlaygroundSet::xor_quadrants, PlaygroundSet::gauss,
                            PlaygroundSet::spiral, PlaygroundSet::reg_plane, PlaygroundSet::reg_gauss}) {
    // Spiral without noise draws nothing: noise makes the seed matter.
    const Dataset a = make_playground(set, 200, 0.1, 11);
    const Dataset b = make_playground(set, 200, 0.1, 11);
    const Dataset c = make_playground(set, 200, 0.1, 12);
    const auto name = std::string(playground_set_name(set));
    EXPECT_EQ(a.features.values, b.features.values) << name;
    EXPECT_EQ(a.labels, b.labels) << name;
    EXPECT_EQ(a.targets.values, b.targets.values) << name;
    EXPECT_NE(a.features.values, c.features.values) << name;
  }
}

TEST(PlaygroundTest, OddSampleCountsGoToTheSecondClass) {
  const Dataset d = make_playground(PlaygroundSet::gauss, 7, 0, kSeed);
  EXPECT_EQ(d.size(), 7u);
  EXPECT_EQ(count_label(d, 1), 3u);
  EXPECT_EQ(count_label(d, 0), 4u);
}

TEST(PlaygroundTest, NamesRoundTripAndDefaults) {
  for (const char* name : {"circle", "xor", "gauss", "spiral", "reg-plane", "reg-gauss"})
    EXPECT_EQ(playground_set_name(parse_playground_set(name, "--dataset")), name);
  EXPECT_EQ(parse_playground_set("xor", "--dataset"), PlaygroundSet::xor_quadrants);
  EXPECT_EQ(playground_default_samples(PlaygroundSet::spiral), 500u);
  EXPECT_EQ(playground_default_samples(PlaygroundSet::reg_gauss), 1200u);
}

template <class F>
std::string usage_error_of(F&& call) {
  try {
    call();
  } catch (const UsageError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no UsageError";
  return "";
}

TEST(PlaygroundTest, RefusesBadNoiseAndTooFewSamples) {
  EXPECT_NE(usage_error_of([] { make_playground(PlaygroundSet::circle, 100, 0.6, 1); }).find("--noise"), std::string::npos);
  EXPECT_NE(usage_error_of([] { make_playground(PlaygroundSet::circle, 100, -0.1, 1); }).find("--noise"), std::string::npos);
  EXPECT_NE(usage_error_of([] { make_playground(PlaygroundSet::xor_quadrants, 100, NAN, 1); }).find("--noise"), std::string::npos);
  EXPECT_NE(usage_error_of([] { make_playground(PlaygroundSet::spiral, 1, 0, 1); }).find("--samples"), std::string::npos);
  EXPECT_NE(usage_error_of([] { make_playground(PlaygroundSet::spiral, 0, 0, 1); }).find("--samples"), std::string::npos);
  EXPECT_NO_THROW(make_playground(PlaygroundSet::spiral, 2, 0.5, 1));
}

TEST(PlaygroundTest, RefusesUnknownDataSetNamingIt) {
  const std::string message = usage_error_of([] { parse_playground_set("moons", "--dataset"); });
  EXPECT_NE(message.find("moons"), std::string::npos) << message;
  EXPECT_NE(message.find("--dataset"), std::string::npos) << message;
  EXPECT_NE(message.find("spiral"), std::string::npos) << message;  // lists what is known
  usage_error_of([] { parse_playground_set("Circle", "--dataset"); });
}

}  // namespace
}  // namespace sinapsis
