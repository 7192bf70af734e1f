// BucketPlan and backward()'s blocks: the plan sums every gradient value
// exactly once, in parts of about a bucket, each started only once backward
// has made it final, with the control slots in the step's last sum.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "core/gradient_buckets.hpp"
#include "core/init.hpp"
#include "core/network.hpp"
#include "core/random.hpp"

namespace sinapsis {
namespace {

Architecture wide() {
  return Architecture::mlp(784, std::vector<std::size_t>{1024, 1024}, Activation::relu, 10, Activation::softmax);
}
Architecture small() {
  return Architecture::mlp(5, std::vector<std::size_t>{7, 3}, Activation::tanh, 2, Activation::softmax);
}

std::size_t weights_of(const Architecture& a) {
  std::size_t n = 0;
  for (const auto& l : a.layers) n += l.fan_in * l.fan_out;
  return n;
}

TEST(WeightChunks, TileTheRowsFromTheLastOnes) {
  std::vector<RowBlock> blocks;
  for (const auto b : weight_chunks(10, 4)) blocks.push_back(b);
  ASSERT_EQ(blocks.size(), 3u);
  EXPECT_EQ(blocks[0].first, 6u);
  EXPECT_EQ(blocks[0].end, 10u);
  EXPECT_EQ(blocks[1].first, 2u);
  EXPECT_EQ(blocks[1].end, 6u);
  EXPECT_EQ(blocks[2].first, 0u);
  EXPECT_EQ(blocks[2].end, 2u);
  for (const std::size_t whole : {std::size_t{0}, std::size_t{10}, std::size_t{99}}) {
    std::vector<RowBlock> one;
    for (const auto b : weight_chunks(10, whole)) one.push_back(b);
    ASSERT_EQ(one.size(), 1u) << whole;
    EXPECT_EQ(one[0].first, 0u);
    EXPECT_EQ(one[0].end, 10u);
  }
}

// Every value of [0, weights + biases + control) in exactly one range; the
// weight ranges in descending order (the order backward finishes them); the
// last range is the bias block with the control slots.
void expect_a_partition(const BucketPlan& plan, const Architecture& a, std::size_t control) {
  const std::size_t weights = weights_of(a), total = a.parameter_count() + control;
  const auto ranges = plan.ranges();
  ASSERT_GE(ranges.size(), 2u);
  EXPECT_EQ(ranges.back(), (BucketPlan::Range{weights, total - weights}));
  std::size_t end = weights;
  for (std::size_t i = 0; i + 1 < ranges.size(); ++i) {
    EXPECT_EQ(ranges[i].offset + ranges[i].count, end) << "range " << i << " does not meet the one before";
    EXPECT_GT(ranges[i].count, 0u);
    end = ranges[i].offset;
  }
  EXPECT_EQ(end, 0u) << "the weight ranges do not reach the first weight";
  std::size_t listed = 0;
  for (std::size_t k = 0; k < plan.blocks(); ++k) listed += plan.after(k).size();
  EXPECT_EQ(listed, ranges.size());
  EXPECT_FALSE(plan.after(plan.blocks() - 1).empty()) << "the last block starts the bias block";
}

TEST(BucketPlan, SumsEveryValueOnceForAnyBucketSize) {
  for (const auto& a : {wide(), small()})
    for (const std::size_t bucket : {std::size_t{1}, std::size_t{7}, std::size_t{100}, std::size_t{262144},
                                     std::size_t{1} << 40}) {
      SCOPED_TRACE(a.describe() + ", bucket " + std::to_string(bucket));
      expect_a_partition(BucketPlan(a, 2, bucket), a, 2);
    }
}

TEST(BucketPlan, WideNetInOneMegabyteBucketsOverlapsEveryLayerButTheLastBlock) {
  const Architecture a = wide();
  const BucketPlan plan(a, 2, 262144);  // 1 MB of float
  // 784 x 1024 is 3.06 buckets: 3 blocks; 1024 x 1024 is 4; 1024 x 10 is one.
  ASSERT_EQ(plan.chunk_rows().size(), 3u);
  EXPECT_EQ(plan.chunk_rows()[0], 262u);
  EXPECT_EQ(plan.chunk_rows()[1], 256u);
  EXPECT_EQ(plan.chunk_rows()[2], 1024u);
  EXPECT_EQ(plan.blocks(), 3u + 4u + 1u);
  // Parts between half a bucket and two; only the first rows of layer 0 and
  // the biases wait for the end of backward.
  for (std::size_t i = 0; i + 1 < plan.ranges().size(); ++i) {
    EXPECT_GE(plan.ranges()[i].count, 262144u / 2) << i;
    EXPECT_LE(plan.ranges()[i].count, 2 * 262144u) << i;
  }
  const auto last = plan.after(plan.blocks() - 1);
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last[0].offset, 0u);
  EXPECT_LE(last[0].count, 262u * 1024u);
}

TEST(BucketPlan, ABucketLargerThanTheModelIsOneWeightSumAndOneBiasSum) {
  const Architecture a = small();
  const BucketPlan plan(a, 2, 1000000);
  ASSERT_EQ(plan.ranges().size(), 2u);
  EXPECT_EQ(plan.ranges()[0], (BucketPlan::Range{0, weights_of(a)}));
  EXPECT_EQ(plan.blocks(), a.layers.size());
}

// backward() with the plan's blocks gives the same gradients as without,
// and when it reports block k, every range after(k) already holds its final
// values.
TEST(BucketPlan, BackwardHasFinishedARangeBeforeItIsStarted) {
  for (const std::size_t bucket : {std::size_t{3}, std::size_t{20}, std::size_t{64}}) {
    SCOPED_TRACE("bucket " + std::to_string(bucket));
    const Architecture a = small();
    const BucketPlan plan(a, Model<double>::kControlSlots, bucket);
    Model<double> model(a);
    initialize(model, Initializer::glorot, 3);
    const std::size_t n = 6;
    Matrix<double> x(n, 5), t(n, 2, 0.0);
    Rng rng(9);
    for (auto& v : x.values) v = rng.uniform() - 0.5;
    for (std::size_t r = 0; r < n; ++r) t(r, rng.below(2)) = 1;
    Workspace<double> ws(a, n);

    forward(model, ws, ConstMatrixView<double>(x.view()));
    model.zero_gradients();
    backward(model, ws, ConstMatrixView<double>(x.view()), ConstMatrixView<double>(t.view()), Loss::categorical_cross_entropy, 1.0 / n, 1.0);
    const std::vector<double> whole(model.gradients().begin(), model.gradients().end());

    forward(model, ws, ConstMatrixView<double>(x.view()));
    model.zero_gradients();
    std::vector<std::vector<double>> seen;  // the values of each started range, when started
    std::size_t block = 0;
    backward(model, ws, ConstMatrixView<double>(x.view()), ConstMatrixView<double>(t.view()), Loss::categorical_cross_entropy, 1.0 / n, 1.0, plan.chunk_rows(),
             [&](std::size_t, std::size_t) {
               for (const auto& r : plan.after(block++)) {
                 const auto part = model.gradients_and_control().subspan(r.offset, r.count);
                 seen.emplace_back(part.begin(), part.end());
               }
             });
    EXPECT_EQ(block, plan.blocks());
    ASSERT_EQ(seen.size(), plan.ranges().size());
    const auto all = model.gradients_and_control();
    for (std::size_t i = 0; i < seen.size(); ++i) {
      const auto r = plan.ranges()[i];
      EXPECT_TRUE(std::equal(seen[i].begin(), seen[i].end(), all.begin() + std::ptrdiff_t(r.offset)))
          << "range " << i << " changed after it was started";
    }
    for (std::size_t i = 0; i < whole.size(); ++i)
      EXPECT_NEAR(model.gradients()[i], whole[i], 1e-14) << "gradient " << i;
  }
}

}  // namespace
}  // namespace sinapsis
