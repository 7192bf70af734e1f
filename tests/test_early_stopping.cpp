// Early stopping's decision object: Keras' convention (improve when value <
// best - min_delta; stop when wait >= patience), checked at its edges.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/early_stopping.hpp"

namespace sinapsis {
namespace {

// Feeds values; returns the 1-based epoch at which it said stop (0 = never).
std::size_t stop_epoch(EarlyStopping& es, const std::vector<double>& values) {
  for (std::size_t i = 0; i < values.size(); ++i)
    if (es.update(values[i]).stop) return i + 1;
  return 0;
}

TEST(EarlyStopping, FirstValueAlwaysImproves) {
  EarlyStopping es({3, 0, true}, Goal::minimize);
  EXPECT_TRUE(es.update(10).improved);
  EXPECT_EQ(es.state().best, 10);
  EXPECT_EQ(es.state().best_epoch, 0u);
}

TEST(EarlyStopping, StopsAfterPatienceEpochsWithoutImprovement) {
  EarlyStopping es({3, 0, true}, Goal::minimize);
  // best at epoch 2 (value 1); epochs 3, 4, 5 do not improve -> stop at 5.
  EXPECT_EQ(stop_epoch(es, {2, 1, 1.5, 1.2, 1.1, 0.5}), 5u);
  EXPECT_EQ(es.state().best, 1);
  EXPECT_EQ(es.state().best_epoch, 1u);
}

TEST(EarlyStopping, PatienceOneStopsAtFirstNonImprovement) {
  EarlyStopping es({1, 0, true}, Goal::minimize);
  EXPECT_EQ(stop_epoch(es, {3, 2, 2, 1}), 3u);
}

TEST(EarlyStopping, PatienceZeroMeansOff) {
  EarlyStopping es({0, 0, true}, Goal::minimize);
  EXPECT_FALSE(es.enabled());
  EXPECT_EQ(stop_epoch(es, {1, 2, 3, 4, 5, 6, 7, 8}), 0u);
  EXPECT_EQ(es.state().best, 1);  // still tracks the best
}

TEST(EarlyStopping, EqualValueIsNotAnImprovement) {
  EarlyStopping es({2, 0, true}, Goal::minimize);
  es.update(1.0);
  EXPECT_FALSE(es.update(1.0).improved);
  EXPECT_TRUE(es.update(1.0).stop);
}

TEST(EarlyStopping, MinDeltaIsStrict) {
  EarlyStopping es({5, 0.1, true}, Goal::minimize);
  es.update(1.0);
  EXPECT_FALSE(es.update(0.9).improved);   // exactly min_delta: not enough
  EXPECT_FALSE(es.update(0.95).improved);
  EXPECT_TRUE(es.update(0.89).improved);   // beats 1.0 - 0.1
  EXPECT_EQ(es.state().wait, 0u);
}

TEST(EarlyStopping, WaitResetsOnImprovement) {
  EarlyStopping es({2, 0, true}, Goal::minimize);
  EXPECT_EQ(stop_epoch(es, {5, 6, 4, 6, 3, 7, 8}), 7u);
}

TEST(EarlyStopping, MaximizeForAccuracy) {
  EarlyStopping es({2, 0.01, true}, Goal::maximize);
  EXPECT_TRUE(es.update(0.5).improved);
  EXPECT_TRUE(es.update(0.6).improved);
  EXPECT_FALSE(es.update(0.605).improved);  // within min_delta
  EXPECT_TRUE(es.update(0.605).stop);
  EXPECT_EQ(es.state().best, 0.6);
}

TEST(EarlyStopping, NaNNeverImprovesAndCountsAsWaiting) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EarlyStopping es({2, 0, true}, Goal::minimize);
  EXPECT_FALSE(es.update(nan).improved);
  EXPECT_TRUE(es.update(1.0).improved);  // first finite value
  EXPECT_FALSE(es.update(nan).improved);
  EXPECT_TRUE(es.update(nan).stop);
  EXPECT_EQ(es.state().best, 1.0);
}

TEST(EarlyStopping, StateRestoresTheDecisionSequence) {
  EarlyStopping a({3, 0, true}, Goal::minimize);
  a.update(3);
  a.update(4);
  EarlyStopping b({3, 0, true}, Goal::minimize);
  b.restore(a.state());
  EXPECT_EQ(a.update(5).stop, b.update(5).stop);
  EXPECT_TRUE(b.update(6).stop);
}

}  // namespace
}  // namespace sinapsis
