// ASHA's decisions without files or clocks: rung lengths, promotion of the
// top 1/eta from the top rung down, never a stopped or already promoted
// trial, new trials when nothing is promotable, wait/done at the end.
#include <gtest/gtest.h>

#include <limits>

#include "core/asha.hpp"

namespace sinapsis {
namespace {

TrialProgress finished(std::vector<double> values) {
  TrialProgress t;
  t.rung_values = std::move(values);
  return t;
}

TEST(Asha, RungsGrowByTheReductionFactorUpToMaxEpochs) {
  const AshaOptions o{3, 81, 3, true};
  EXPECT_EQ(o.rung_epochs(0), 3u);
  EXPECT_EQ(o.rung_epochs(1), 9u);
  EXPECT_EQ(o.rung_epochs(3), 81u);
  EXPECT_EQ(o.rung_epochs(4), 81u);
  EXPECT_EQ(o.top_rung(), 3u);
  const AshaOptions uneven{2, 50, 3, true};  // 2, 6, 18, 50
  EXPECT_EQ(uneven.top_rung(), 3u);
  EXPECT_EQ(uneven.rung_epochs(3), 50u);
  const AshaOptions grid{1, 40, 3, false};
  EXPECT_EQ(grid.rung_epochs(0), 40u);
  EXPECT_EQ(grid.top_rung(), 0u);
}

// Any --reduction-factor and --max-epochs a user may give: a rung past 2^64
// epochs is max_epochs, and the rungs end.
TEST(Asha, RungsStayWithinMaxEpochsForTheLargestFactors) {
  const std::size_t max = std::numeric_limits<std::size_t>::max();
  const AshaOptions huge_factor{2, 3, max, true};
  EXPECT_EQ(huge_factor.rung_epochs(1), 3u);
  EXPECT_EQ(huge_factor.top_rung(), 1u);
  const AshaOptions huge_epochs{1, max, 2, true};
  EXPECT_EQ(huge_epochs.rung_epochs(63), std::size_t{1} << 63);
  EXPECT_EQ(huge_epochs.rung_epochs(64), max);
  EXPECT_EQ(huge_epochs.top_rung(), 64u);
}

TEST(Asha, StartsNewTrialsUntilOneIsInTheTopThird) {
  const AshaOptions o{1, 9, 3, true};
  std::vector<TrialProgress> t(5);
  EXPECT_EQ(next_asha_job(o, t).kind, AshaJob::Kind::start);
  EXPECT_EQ(next_asha_job(o, t).trial, 0u);
  t[0] = finished({0.5});
  t[1] = finished({0.3});
  // 2 finished rung 0: floor(2/3) = 0 promotable, so start trial 2.
  AshaJob j = next_asha_job(o, t);
  EXPECT_EQ(j.kind, AshaJob::Kind::start);
  EXPECT_EQ(j.trial, 2u);
  t[2] = finished({0.9});
  // 3 finished: the best (trial 1) goes on to rung 1.
  j = next_asha_job(o, t);
  EXPECT_EQ(j.kind, AshaJob::Kind::promote);
  EXPECT_EQ(j.trial, 1u);
  EXPECT_EQ(j.rung, 1u);
  t[1].promoted_from = {true};
  t[1].in_flight = true;
  j = next_asha_job(o, t);  // nothing else promotable: a new trial
  EXPECT_EQ(j.kind, AshaJob::Kind::start);
  EXPECT_EQ(j.trial, 3u);
}

TEST(Asha, LooksForPromotionsFromTheTopRungDownAndSkipsStoppedTrials) {
  const AshaOptions o{1, 9, 3, true};  // rungs 1, 3, 9
  std::vector<TrialProgress> t;
  for (double v : {0.1, 0.2, 0.3, 0.4, 0.5, 0.6}) t.push_back(finished({v, v}));  // all at rung 1
  for (auto& x : t) x.promoted_from = {true, false};
  t[0].stopped = true;  // early-stopped: never promoted
  // Rung 1: 6 finished, top 2 = trials 0 and 1; 0 is stopped, so 1 goes to rung 2.
  const AshaJob j = next_asha_job(o, t);
  EXPECT_EQ(j.kind, AshaJob::Kind::promote);
  EXPECT_EQ(j.trial, 1u);
  EXPECT_EQ(j.rung, 2u);
}

TEST(Asha, AFailedTrialIsNeverPromotedAndTheEndIsWaitThenDone) {
  const AshaOptions o{1, 3, 3, true};
  std::vector<TrialProgress> t{finished({std::numeric_limits<double>::quiet_NaN()}), finished({0.4}),
                               finished({0.5})};
  t[0].stopped = true;
  t[2].in_flight = false;
  // Finite values: 2, floor(2/3) = 0 promotable; all started; none in flight: done.
  EXPECT_EQ(next_asha_job(o, t).kind, AshaJob::Kind::done);
  t[1].in_flight = true;
  EXPECT_EQ(next_asha_job(o, t).kind, AshaJob::Kind::wait);
}

TEST(Asha, WithoutPruningEveryTrialRunsOnceToMaxEpochs) {
  const AshaOptions o{1, 20, 3, false};
  std::vector<TrialProgress> t{finished({0.1}), finished({0.2}), finished({0.3}), TrialProgress{}};
  const AshaJob j = next_asha_job(o, t);
  EXPECT_EQ(j.kind, AshaJob::Kind::start);
  EXPECT_EQ(j.trial, 3u);
  t[3] = finished({0.4});
  EXPECT_EQ(next_asha_job(o, t).kind, AshaJob::Kind::done);
}

}  // namespace
}  // namespace sinapsis
