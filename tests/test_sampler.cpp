// The batch plan across ranks, without MPI: the global batch split over the
// ranks, the steps every rank agrees on with uneven parts, each rank's rows
// visited once per epoch in an order fixed by (seed, epoch, rank), and the
// refusals.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "core/sampler.hpp"

namespace sinapsis {
namespace {

std::vector<std::size_t> epoch_rows(const Sampler& s) {
  std::vector<std::size_t> rows;
  for (std::size_t step = 0; step < s.steps_per_epoch(); ++step) {
    const auto part = s.step_rows(step);
    rows.insert(rows.end(), part.begin(), part.end());
  }
  return rows;
}

TEST(Sampler, SplitsTheGlobalBatchOverTheRanksTheFirstTakingTheRemainder) {
  const std::vector<std::size_t> rows{100, 100, 100};
  EXPECT_EQ(Sampler(rows, 10, 0, 1).local_batch(), 4u);
  EXPECT_EQ(Sampler(rows, 10, 1, 1).local_batch(), 3u);
  EXPECT_EQ(Sampler(rows, 10, 2, 1).local_batch(), 3u);
  // 100 rows in batches of 4: 25 steps; of 3: 34. Every rank runs 34.
  for (std::size_t r = 0; r < 3; ++r) EXPECT_EQ(Sampler(rows, 10, r, 1).steps_per_epoch(), 34u);
}

TEST(Sampler, ARankWhosePartRunsOutTakesNoRowsButTheGlobalCountStaysTrue) {
  const Sampler s({10, 3}, 4, 1, 7);  // batches of 2 and 2; rank 0 needs 5 steps, rank 1 two
  EXPECT_EQ(s.steps_per_epoch(), 5u);
  EXPECT_EQ(s.rows_in_step(1, 0), 2u);
  EXPECT_EQ(s.rows_in_step(1, 1), 1u);
  EXPECT_EQ(s.rows_in_step(1, 2), 0u);
  EXPECT_EQ(s.step_rows(4).size(), 0u);
  EXPECT_EQ(s.global_rows(0), 4u);
  EXPECT_EQ(s.global_rows(1), 3u);
  EXPECT_EQ(s.global_rows(4), 2u);
  std::size_t sum = 0;
  for (std::size_t step = 0; step < s.steps_per_epoch(); ++step) sum += s.global_rows(step);
  EXPECT_EQ(sum, s.total_rows());
  EXPECT_EQ(s.total_rows(), 13u);
}

TEST(Sampler, EveryRowOfTheRankIsVisitedOncePerEpoch) {
  Sampler s({37, 41}, 8, 1, 3);
  for (std::uint64_t epoch = 0; epoch < 3; ++epoch) {
    s.start_epoch(epoch);
    std::vector<std::size_t> rows = epoch_rows(s);
    std::sort(rows.begin(), rows.end());
    std::vector<std::size_t> all(41);
    std::iota(all.begin(), all.end(), std::size_t{0});
    EXPECT_EQ(rows, all) << "epoch " << epoch;
  }
}

TEST(Sampler, TheOrderDependsOnlyOnSeedEpochAndRank) {
  Sampler a({50, 50}, 10, 0, 5), b({50, 50}, 10, 0, 5), other_rank({50, 50}, 10, 1, 5), other_seed({50, 50}, 10, 0, 6);
  a.start_epoch(0);
  a.start_epoch(3);  // a resumed run shuffles epoch 3 as an uninterrupted one
  b.start_epoch(3);
  EXPECT_EQ(epoch_rows(a), epoch_rows(b));
  b.start_epoch(4);
  EXPECT_NE(epoch_rows(a), epoch_rows(b));
  other_rank.start_epoch(3);
  other_seed.start_epoch(3);
  EXPECT_NE(epoch_rows(a), epoch_rows(other_rank));
  EXPECT_NE(epoch_rows(a), epoch_rows(other_seed));
}

TEST(Sampler, BeforeTheFirstEpochRowsAreInFileOrderAndClippedToThePart) {
  const Sampler s({6}, 4, 0, 1);
  const auto rows = s.rows(4, 4);
  EXPECT_EQ(std::vector<std::size_t>(rows.begin(), rows.end()), (std::vector<std::size_t>{4, 5}));
  EXPECT_EQ(s.rows(9, 2).size(), 0u);
}

TEST(Sampler, ABatchLargerThanTheDataIsOneStepOfAllRows) {
  const Sampler s({5, 4}, 1000, 0, 1);
  EXPECT_EQ(s.steps_per_epoch(), 1u);
  EXPECT_EQ(s.global_rows(0), 9u);
}

TEST(Sampler, RefusesABatchSmallerThanTheRanksAndTooLittleData) {
  EXPECT_THROW(Sampler({10, 10, 10}, 2, 0, 1), UsageError);
  EXPECT_THROW(Sampler({0, 0}, 4, 0, 1), DataError);
  EXPECT_THROW(Sampler({1, 0, 0}, 4, 0, 1), DataError);
  EXPECT_NO_THROW(Sampler({0, 3}, 4, 0, 1));  // a rank may hold nothing; the job trains
}

}  // namespace
}  // namespace sinapsis
