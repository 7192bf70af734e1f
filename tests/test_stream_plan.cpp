// The streamed order of training rows (core/stream_plan.hpp): with --shuffle
// global every row is seen exactly once per epoch across the ranks and the
// rank that sees it changes from epoch to epoch; row counts per rank never
// change; a shuffle buffer is a permutation of its stretch, full-sized it is
// a full shuffle, and replaying draws without data lands where the draws
// did.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/memory.hpp"
#include "core/stream_plan.hpp"

namespace sinapsis {
namespace {

// Rank `rank`'s rows of `epoch` in the order it trains on them.
std::vector<std::size_t> rank_order(ShuffleMode mode, const std::vector<RowRange>& files,
                                    const std::vector<RowRange>& part, std::size_t block, std::size_t buffer,
                                    std::size_t rank, std::size_t ranks, std::uint64_t seed, std::uint64_t epoch) {
  ShuffleBuffer b(epoch_stretch(mode, files, part, block, rank, ranks, seed, epoch), buffer,
                  buffer_seed(seed, epoch, rank));
  std::vector<std::size_t> order;
  while (!b.done()) order.push_back(b.draw().row);
  return order;
}

TEST(StreamPlan, BlocksCutEachFileAndNeverSpanTwo) {
  const std::vector<RowRange> files{{0, 10}, {10, 13}, {13, 13}, {13, 20}};
  EXPECT_EQ(cut_blocks(files, 4), (std::vector<RowRange>{{0, 4}, {4, 8}, {8, 10}, {10, 13}, {13, 17}, {17, 20}}));
  EXPECT_EQ(cut_blocks(files, 100), (std::vector<RowRange>{{0, 10}, {10, 13}, {13, 20}}));
  EXPECT_THROW(cut_blocks(files, 0), UsageError);
  EXPECT_EQ(parse_shuffle_mode("global", "--shuffle"), ShuffleMode::global);
  EXPECT_THROW(parse_shuffle_mode("GLOBAL", "--shuffle"), UsageError);
}

// The acceptance check of issue 17: 2 ranks, 4 epochs, --shuffle global.
TEST(StreamPlan, GlobalShuffleSeesEveryRowOncePerEpochAndMovesRowsBetweenRanks) {
  const std::size_t n = 1000, ranks = 2;
  const std::vector<RowRange> files{{0, 300}, {300, 700}, {700, 1000}};  // three shards
  std::map<std::size_t, std::vector<std::size_t>> seen_by;  // row -> the rank that saw it, per epoch
  for (std::uint64_t epoch = 0; epoch < 4; ++epoch) {
    std::vector<int> count(n, 0);
    for (std::size_t rank = 0; rank < ranks; ++rank) {
      const auto order = rank_order(ShuffleMode::global, files, {}, 50, 64, rank, ranks, 7, epoch);
      EXPECT_EQ(order.size(), global_rank_rows(n, rank, ranks));
      for (const std::size_t row : order) {
        ASSERT_LT(row, n);
        ++count[row];
        seen_by[row].push_back(rank);
      }
    }
    for (std::size_t row = 0; row < n; ++row) ASSERT_EQ(count[row], 1) << "row " << row << " in epoch " << epoch;
  }
  // The rank that sees a row changes between epochs: for about half the rows
  // from one epoch to the next (a row's block lands in either half of the
  // permutation), and over 4 epochs most rows meet both ranks.
  std::size_t changed = 0, both = 0;
  for (const auto& [row, ranks_seen] : seen_by) {
    ASSERT_EQ(ranks_seen.size(), 4u);
    for (std::size_t e = 1; e < 4; ++e) changed += ranks_seen[e] != ranks_seen[e - 1];
    both += std::set<std::size_t>(ranks_seen.begin(), ranks_seen.end()).size() == 2;
  }
  EXPECT_GT(changed, 3 * n / 4);  // of 3n transitions, ~1.5n expected
  EXPECT_LT(changed, 9 * n / 4);
  EXPECT_GT(both, n * 3 / 4);  // 1 - 2/16 = 7/8 expected
  // The same seed gives the same order; another seed another.
  EXPECT_EQ(rank_order(ShuffleMode::global, files, {}, 50, 64, 1, 2, 7, 3),
            rank_order(ShuffleMode::global, files, {}, 50, 64, 1, 2, 7, 3));
  EXPECT_NE(rank_order(ShuffleMode::global, files, {}, 50, 64, 1, 2, 7, 3),
            rank_order(ShuffleMode::global, files, {}, 50, 64, 1, 2, 8, 3));
}

TEST(StreamPlan, RankRowsAreBalancedAndTheSameEveryEpochForAnyRanks) {
  const std::vector<RowRange> files{{0, 7}, {7, 8}, {8, 31}};
  for (std::size_t ranks = 1; ranks <= 5; ++ranks)
    for (std::uint64_t epoch = 0; epoch < 3; ++epoch) {
      std::multiset<std::size_t> all;
      for (std::size_t rank = 0; rank < ranks; ++rank) {
        const auto stretch = epoch_stretch(ShuffleMode::global, files, {}, 3, rank, ranks, 1, epoch);
        EXPECT_EQ(rows_in(stretch), global_rank_rows(31, rank, ranks));
        for (const RowRange& r : stretch)
          for (std::size_t row = r.begin; row < r.end; ++row) all.insert(row);
      }
      EXPECT_EQ(all.size(), 31u);
      EXPECT_EQ(std::set<std::size_t>(all.begin(), all.end()).size(), 31u);
    }
}

TEST(StreamPlan, ShardModeKeepsEachRanksPartAndNoneKeepsItsOrder) {
  const std::vector<RowRange> part{{10, 25}, {40, 48}};
  std::set<std::size_t> rows;
  for (const RowRange& r : part)
    for (std::size_t row = r.begin; row < r.end; ++row) rows.insert(row);
  const auto a = rank_order(ShuffleMode::shard, {}, part, 4, 8, 1, 2, 3, 0);
  const auto b = rank_order(ShuffleMode::shard, {}, part, 4, 8, 1, 2, 3, 1);
  EXPECT_EQ(std::set<std::size_t>(a.begin(), a.end()), rows);
  EXPECT_EQ(std::set<std::size_t>(b.begin(), b.end()), rows);
  EXPECT_NE(a, b);
  const auto none = rank_order(ShuffleMode::none, {}, part, 4, 1, 1, 2, 3, 0);
  EXPECT_EQ(none, std::vector<std::size_t>(rows.begin(), rows.end()));
}

// A buffer of the stretch's size draws every permutation: each row lands in
// every position about equally often (chi-square-free check: 2000 shuffles
// of 5 rows, each (row, position) count within 30 % of 400).
TEST(StreamPlan, AFullBufferIsAUniformShuffleAndASmallOneStaysLocal) {
  std::vector<std::vector<int>> at(5, std::vector<int>(5, 0));
  for (std::uint64_t seed = 0; seed < 2000; ++seed) {
    ShuffleBuffer b({{0, 5}}, 5, seed);
    for (std::size_t position = 0; !b.done(); ++position) ++at[b.draw().row][position];
  }
  for (const auto& row : at)
    for (const int count : row) EXPECT_NEAR(count, 400, 120);
  // A buffer of 10 over 1000 rows: the k-th row out came in among the first
  // k + 10 (it cannot come before it was read).
  ShuffleBuffer small({{0, 1000}}, 10, 1);
  for (std::size_t k = 0; !small.done(); ++k) EXPECT_LT(small.draw().row, k + 10);
}

// What a reader of the data does: slot contents mirror the draws, and a
// replay of n draws without data leaves the same slots and stream position.
TEST(StreamPlan, DrawsDescribeTheBufferAndSkippingReplaysThem) {
  const std::vector<RowRange> stretch{{100, 130}, {5, 12}};
  ShuffleBuffer b(stretch, 6, 42);
  std::vector<std::size_t> mirror = b.slots();
  EXPECT_EQ(mirror, (std::vector<std::size_t>{100, 101, 102, 103, 104, 105}));
  std::vector<std::size_t> out;
  while (!b.done()) {
    const auto d = b.draw();
    EXPECT_EQ(mirror[d.slot], d.row);
    out.push_back(d.row);
    if (d.kind == ShuffleBuffer::Draw::Kind::refilled) {
      mirror[d.slot] = d.incoming;
    } else if (d.kind == ShuffleBuffer::Draw::Kind::moved) {
      mirror[d.slot] = mirror[d.from];
      mirror.pop_back();
    } else {
      EXPECT_EQ(d.slot + 1, mirror.size());
      mirror.pop_back();
    }
    EXPECT_EQ(mirror, b.slots());
  }
  EXPECT_EQ(out.size(), 37u);
  EXPECT_EQ(std::set<std::size_t>(out.begin(), out.end()).size(), 37u);
  for (std::size_t n : {0, 1, 20, 31, 36, 37}) {
    ShuffleBuffer replay(stretch, 6, 42);
    replay.skip(n);
    ShuffleBuffer again(stretch, 6, 42);
    for (std::size_t i = 0; i < n; ++i) again.draw();
    EXPECT_EQ(replay.slots(), again.slots());
    EXPECT_EQ(replay.streamed(), again.streamed());
    std::vector<std::size_t> rest;
    while (!replay.done()) rest.push_back(replay.draw().row);
    EXPECT_EQ(rest, std::vector<std::size_t>(out.begin() + long(n), out.end()));
  }
  ShuffleBuffer at(stretch, 6, 42);
  at.skip(10);
  EXPECT_EQ(at.stretch_from(at.streamed()), (std::vector<RowRange>{{116, 130}, {5, 12}}));
}

// --memory-budget's sizes: binary units as bytes_text() writes them.
// --val-split / --test-split of blocked data: whole blocks, each in exactly
// one of train, val and test, in the fractions asked (at least one block
// each), chosen by the seed alone; each rank's share of the held-out rows
// covers them once; intersecting a part with the training blocks keeps
// exactly its training rows.
TEST(StreamPlan, SplitBlocksHoldsOutWholeBlocksOnceAndSharesThemAmongRanks) {
  const std::vector<RowRange> files{{0, 1000}, {1000, 1430}, {1430, 2000}};
  const BlockSplit split = split_blocks(files, 50, 0.1, 0.2, 7);
  const std::vector<RowRange> blocks = cut_blocks(files, 50);
  ASSERT_EQ(blocks.size(), 41u);  // 20 + 9 (the last of 30 rows) + 12 (the last of 20)
  EXPECT_EQ(split.val.size(), 4u);   // round(4.1)
  EXPECT_EQ(split.test.size(), 8u);  // round(8.2)
  EXPECT_EQ(split.train.size(), 29u);
  std::vector<int> seen(2000, 0);
  for (const auto* list : {&split.train, &split.val, &split.test}) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      EXPECT_NE(std::find(blocks.begin(), blocks.end(), (*list)[i]), blocks.end()) << "not a whole block";
      if (i > 0) {
        EXPECT_LT((*list)[i - 1].begin, (*list)[i].begin) << "not in row order";
      }
      for (std::size_t r = (*list)[i].begin; r < (*list)[i].end; ++r) ++seen[r];
    }
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), 2000);
  // The seed alone chooses: the same again, another seed another choice.
  EXPECT_EQ(split_blocks(files, 50, 0.1, 0.2, 7).val, split.val);
  EXPECT_NE(split_blocks(files, 50, 0.1, 0.2, 8).val, split.val);
  // A tiny fraction still holds out one block; nothing left to train is refused.
  EXPECT_EQ(split_blocks(files, 50, 0.001, 0, 7).val.size(), 1u);
  EXPECT_THROW(split_blocks({{0, 100}}, 50, 0.3, 0.3, 7), UsageError);
  for (std::size_t ranks = 1; ranks <= 3; ++ranks) {
    std::vector<int> shared(2000, 0);
    std::size_t rows = 0;
    for (std::size_t rank = 0; rank < ranks; ++rank)
      for (const RowRange& r : rank_share(split.val, rank, ranks)) {
        rows += r.size();
        for (std::size_t i = r.begin; i < r.end; ++i) ++shared[i];
      }
    EXPECT_EQ(rows, rows_in(split.val));
    for (const RowRange& r : split.val)
      for (std::size_t i = r.begin; i < r.end; ++i) EXPECT_EQ(shared[i], 1) << "row " << i << ", " << ranks << " ranks";
  }
  const std::vector<RowRange> part{{900, 1100}, {1500, 1520}};
  const std::vector<RowRange> kept = intersect_ranges(part, split.train);
  std::size_t expected = 0;
  for (const RowRange& p : part)
    for (std::size_t r = p.begin; r < p.end; ++r)
      for (const RowRange& t : split.train) expected += r >= t.begin && r < t.end;
  EXPECT_EQ(rows_in(kept), expected);
  for (const RowRange& k : kept) {
    EXPECT_TRUE(std::any_of(split.train.begin(), split.train.end(),
                            [&](const RowRange& t) { return k.begin >= t.begin && k.end <= t.end; }));
    EXPECT_TRUE(std::any_of(part.begin(), part.end(),
                            [&](const RowRange& p) { return k.begin >= p.begin && k.end <= p.end; }));
  }
}

TEST(StreamPlan, MemoryBudgetsReadAsBinarySizes) {
  EXPECT_EQ(parse_byte_size("256MB"), std::optional<std::uint64_t>(256ull << 20));
  EXPECT_EQ(parse_byte_size("2GB"), std::optional<std::uint64_t>(2ull << 30));
  EXPECT_EQ(parse_byte_size("1.5 gb"), std::optional<std::uint64_t>(3ull << 29));
  EXPECT_EQ(parse_byte_size("512K"), std::optional<std::uint64_t>(512ull << 10));
  EXPECT_EQ(parse_byte_size("1000000"), std::optional<std::uint64_t>(1000000));
  EXPECT_EQ(parse_byte_size("20 bytes"), std::optional<std::uint64_t>(20));
  for (const char* bad : {"", "MB", "-1GB", "0", "12XB", "1e30TB", "nan", "3 MBB", "1GiBx"})
    EXPECT_FALSE(parse_byte_size(bad).has_value()) << bad;
}

}  // namespace
}  // namespace sinapsis
