// The coordinator's decisions, without MPI: the same report gives the same
// decision (so ranks holding the same summed metrics agree), divergence wins
// over everything, a stop request forces a checkpoint, early stopping and
// the epoch limit stop with their reasons.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/coordinator.hpp"

namespace sinapsis {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

EpochReport report(std::size_t epoch, double monitored) {
  EpochReport r;
  r.epoch = epoch;
  r.monitored = monitored;
  return r;
}

TEST(Coordinator, RunsToTheEpochLimitWhenNothingElseStopsIt) {
  Coordinator c({0, 0, true}, Goal::minimize, {}, 3);
  EXPECT_FALSE(c.decide(report(1, 1.0)).stop);
  EXPECT_FALSE(c.decide(report(2, 2.0)).stop);
  const EpochDecision d = c.decide(report(3, 3.0));
  EXPECT_TRUE(d.stop);
  EXPECT_EQ(d.reason, StopReason::max_epochs);
  EXPECT_FALSE(d.checkpoint);
}

TEST(Coordinator, EarlyStoppingStopsAfterPatienceEpochsWithoutImprovement) {
  Coordinator c({2, 0, true}, Goal::minimize, {}, 100);
  EXPECT_TRUE(c.decide(report(1, 1.0)).improved);
  EXPECT_TRUE(c.decide(report(2, 0.5)).improved);
  const EpochDecision worse = c.decide(report(3, 0.7));
  EXPECT_FALSE(worse.improved);
  EXPECT_FALSE(worse.stop);
  const EpochDecision stop = c.decide(report(4, 0.6));
  EXPECT_TRUE(stop.stop);
  EXPECT_EQ(stop.reason, StopReason::early_stopping);
  EXPECT_EQ(c.best_epoch(), 2u);
  EXPECT_DOUBLE_EQ(c.best(), 0.5);
}

TEST(Coordinator, ADivergedEpochStopsWithoutJudgingOrCheckpointing) {
  Coordinator c({5, 0, true}, Goal::minimize, {1, 0}, 100);
  EXPECT_TRUE(c.decide(report(1, 1.0)).checkpoint);
  EpochReport bad = report(2, 0.1);  // a better value, but not finite weights
  bad.finite = false;
  const EpochDecision d = c.decide(bad);
  EXPECT_TRUE(d.diverged);
  EXPECT_TRUE(d.stop);
  EXPECT_EQ(d.reason, StopReason::diverged);
  EXPECT_FALSE(d.checkpoint);
  EXPECT_FALSE(d.improved);
  EXPECT_EQ(c.best_epoch(), 1u);  // the diverged epoch did not count
}

TEST(Coordinator, CheckpointsByEpochsOrByRankZerosClock) {
  Coordinator c({0, 0, true}, Goal::minimize, {3, 60}, 100);
  std::vector<bool> due;
  for (std::size_t e = 1; e <= 6; ++e) due.push_back(c.decide(report(e, 1.0)).checkpoint);
  EXPECT_EQ(due, (std::vector<bool>{false, false, true, false, false, true}));
  EpochReport late = report(7, 1.0);
  late.seconds_since_checkpoint = 61;
  EXPECT_TRUE(c.decide(late).checkpoint);
}

TEST(Coordinator, AStopRequestStopsWithACheckpointEvenWithoutAPolicy) {
  Coordinator c({0, 0, true}, Goal::minimize, {}, 100);
  EpochReport r = report(4, 1.0);
  r.stop_requested = true;
  const EpochDecision d = c.decide(r);
  EXPECT_TRUE(d.stop);
  EXPECT_TRUE(d.checkpoint);
  EXPECT_EQ(d.reason, StopReason::requested);
}

TEST(Coordinator, NaNMonitoredValueNeverImprovesButIsNotDivergence) {
  // e.g. val_accuracy of a regression: finite weights, nothing to judge by.
  Coordinator c({2, 0, true}, Goal::maximize, {}, 100);
  EXPECT_FALSE(c.decide(report(1, kNaN)).improved);
  const EpochDecision d = c.decide(report(2, kNaN));
  EXPECT_FALSE(d.diverged);
  EXPECT_TRUE(d.stop);
  EXPECT_EQ(d.reason, StopReason::early_stopping);
}

TEST(Coordinator, SameReportsGiveSameDecisionsAndStateResumesTheSequence) {
  // Two coordinators fed the same reports (two ranks) decide alike; one
  // restored from the other's state mid-way continues identically (resume).
  const std::vector<double> values{1.0, 0.8, 0.9, 0.85, 0.7, 0.75, 0.8, 0.9, 1.0};
  Coordinator a({3, 0.01, true}, Goal::minimize, {2, 0}, 100);
  Coordinator b({3, 0.01, true}, Goal::minimize, {2, 0}, 100);
  Coordinator resumed({3, 0.01, true}, Goal::minimize, {2, 0}, 100);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const EpochReport r = report(i + 1, values[i]);
    const EpochDecision da = a.decide(r), db = b.decide(r);
    EXPECT_EQ(da.stop, db.stop);
    EXPECT_EQ(da.improved, db.improved);
    EXPECT_EQ(da.checkpoint, db.checkpoint);
    if (i == 3) resumed.restore(a.state());
    if (i > 3) {
      const EpochDecision dr = resumed.decide(r);
      EXPECT_EQ(dr.stop, da.stop) << "epoch " << i + 1;
      EXPECT_EQ(dr.improved, da.improved) << "epoch " << i + 1;
    }
    if (da.stop) {
      EXPECT_EQ(i + 1, 8u);  // best 0.7 at epoch 5, then 3 epochs without improvement
      break;
    }
  }
}

}  // namespace
}  // namespace sinapsis
