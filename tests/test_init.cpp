// Weight initializers: ranges, spread and bias values of glorot, he and the
// Playground's scheme, and reproducibility from the seed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "core/init.hpp"
#include "core/model.hpp"

namespace sinapsis {
namespace {

Model<double> initialized(std::size_t inputs, std::vector<std::size_t> hidden,
                          std::size_t outputs, Initializer init, std::uint64_t seed) {
  Model<double> model(
      Architecture::mlp(inputs, hidden, Activation::tanh, outputs, Activation::linear));
  initialize(model, init, seed);
  return model;
}

struct Spread {
  double min, max, mean, std;
};

Spread spread(std::span<const double> values) {
  double sum = 0, square_sum = 0;
  for (double v : values) sum += v;
  const double mean = sum / double(values.size());
  for (double v : values) square_sum += (v - mean) * (v - mean);
  const auto [min, max] = std::minmax_element(values.begin(), values.end());
  return {*min, *max, mean, std::sqrt(square_sum / double(values.size()))};
}

TEST(Init, GlorotStaysWithinItsBoundAndZeroesBiases) {
  Model<double> model = initialized(30, {20}, 10, Initializer::glorot, 1);
  for (std::size_t l = 0; l < model.layer_count(); ++l) {
    const auto w = model.weight(l);
    const double bound = std::sqrt(6.0 / double(w.rows + w.cols));
    const Spread s = spread(w.flat());
    EXPECT_GE(s.min, -bound) << "layer " << l;
    EXPECT_LE(s.max, bound) << "layer " << l;
    // U(-bound, bound) fills its range: not a narrower or a constant draw.
    EXPECT_LT(s.min, -0.9 * bound) << "layer " << l;
    EXPECT_GT(s.max, 0.9 * bound) << "layer " << l;
    for (double b : model.bias(l)) EXPECT_EQ(b, 0.0) << "layer " << l;
  }
}

TEST(Init, HeHasStandardDeviationSqrtTwoOverFanIn) {
  Model<double> model = initialized(800, {}, 500, Initializer::he, 2);  // 400000 weights
  const Spread s = spread(model.weight(0).flat());
  const double expected = std::sqrt(2.0 / 800);
  EXPECT_NEAR(s.std, expected, 0.05 * expected);
  EXPECT_NEAR(s.mean, 0.0, 0.01 * expected);
  for (double b : model.bias(0)) EXPECT_EQ(b, 0.0);
}

TEST(Init, PlaygroundDrawsFromHalfUnitRangeWithBiasPointOne) {
  Model<double> model = initialized(2, {8, 8}, 1, Initializer::playground, 3);
  const Spread s = spread(std::span<const double>(model.parameters().first(model.weight_count())));
  EXPECT_GE(s.min, -0.5);
  EXPECT_LE(s.max, 0.5);
  EXPECT_LT(s.min, -0.4);
  EXPECT_GT(s.max, 0.4);
  for (std::size_t l = 0; l < model.layer_count(); ++l)
    for (double b : model.bias(l)) EXPECT_EQ(b, 0.1) << "layer " << l;
}

TEST(Init, SameSeedSameParametersOtherSeedOthers) {
  for (Initializer init : {Initializer::glorot, Initializer::he, Initializer::playground}) {
    const Model<double> a = initialized(5, {7}, 3, init, 42);
    const Model<double> b = initialized(5, {7}, 3, init, 42);
    const Model<double> c = initialized(5, {7}, 3, init, 43);
    const auto pa = a.parameters(), pb = b.parameters(), pc = c.parameters();
    EXPECT_TRUE(std::equal(pa.begin(), pa.end(), pb.begin()));
    std::size_t differing = 0;
    for (std::size_t i = 0; i < a.weight_count(); ++i) differing += pa[i] != pc[i];
    EXPECT_EQ(differing, a.weight_count()) << "seed 42 and 43 share weights";
  }
}

TEST(Init, EachLayerDrawsFromItsOwnStream) {
  // Two layers of the same shape must not start from the same numbers.
  const Model<double> model = initialized(6, {6}, 6, Initializer::glorot, 5);
  const auto w0 = model.weight(0).flat(), w1 = model.weight(1).flat();
  EXPECT_FALSE(std::equal(w0.begin(), w0.end(), w1.begin()));
}

TEST(Init, UnknownInitializerNameIsAUsageError) {
  EXPECT_EQ(parse_initializer("he", "--init"), Initializer::he);
  EXPECT_THROW(parse_initializer("xavier", "--init"), UsageError);
}

}  // namespace
}  // namespace sinapsis
