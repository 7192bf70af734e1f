// The shape of a network: counts that cannot wrap. Sizes come from options
// and files, so a count past 64 bits must be refused naming the layer, not
// wrapped to a small number that a Model would then allocate and overrun.
#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "core/architecture.hpp"
#include "core/error.hpp"
#include "core/model.hpp"

namespace sinapsis {
namespace {

TEST(Architecture, CountsParametersAndUnits) {
  const std::vector<std::size_t> hidden{4, 3};
  const Architecture a = Architecture::mlp(2, hidden, Activation::tanh, 1, Activation::sigmoid);
  EXPECT_EQ(a.weight_count(), 2u * 4 + 4 * 3 + 3 * 1);
  EXPECT_EQ(a.parameter_count(), a.weight_count() + 4 + 3 + 1);
  EXPECT_EQ(a.unit_count(), 4u + 3 + 1);
}

TEST(Architecture, RefusesACountThatDoesNotFitIn64BitsNamingTheLayer) {
  // 2^32 x 2^32 weights is 2^64: it would wrap to 0.
  const std::size_t wide = std::size_t{1} << 32;
  const std::vector<std::size_t> hidden{wide, wide};
  try {
    Architecture::mlp(1, hidden, Activation::relu, 1, Activation::linear);
    FAIL() << "2^32 x 2^32 weights accepted";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("layer 1: 4294967296x4294967296"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("does not fit in 64 bits"), std::string::npos) << e.what();
  }
  // Weights that fit, biases that push the sum over.
  Architecture edge;
  const std::size_t max = std::numeric_limits<std::size_t>::max();
  edge.layers = {{1, max, Activation::linear, 0}};
  EXPECT_THROW(edge.parameter_count(), ModelError);
  EXPECT_EQ(edge.weight_count(), max);
  EXPECT_THROW(edge.validate(), ModelError);
  EXPECT_THROW(Model<float>{edge}, ModelError);  // before allocating anything
}

}  // namespace
}  // namespace sinapsis
