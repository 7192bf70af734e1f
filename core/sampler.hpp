// Which rows each rank trains on in each step of an epoch. Pure: no clock,
// no communication (the trainer gathers the ranks' row counts and hands
// them in), so it is unit-tested like the Coordinator.
//
// - The global batch is split over the ranks: rank r takes batch/p, plus one
//   for r < batch % p.
// - Every rank runs the same number of steps per epoch: the most any rank
//   needs for its part. A rank whose part runs out takes no rows in the last
//   steps but still joins every gradient sum, so no rank waits on a
//   collective another will not call; the update divides by the true global
//   row count of each step (global_rows()).
// - Each epoch, a rank visits its own rows in an order that depends only on
//   (seed, epoch, rank): a resumed run shuffles exactly as an uninterrupted
//   one, and every row of the rank's part is visited once per epoch.
//   That is --shuffle shard; with none they come in order, and with global
//   (every rank holds the whole data set) a rank's rows of an epoch are the
//   stretch core/stream_plan.hpp gives it, as rows of the whole data set,
//   drawn through its shuffle buffer: what a streamed run reads.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/random.hpp"
#include "core/stream_plan.hpp"

namespace sinapsis {

class Sampler {
 public:
  // `rank_rows[r]`: the training rows of rank r; this is rank `rank`.
  // UsageError for a global batch smaller than the ranks; DataError for no
  // rows, or fewer rows than ranks.
  Sampler(std::vector<std::size_t> rank_rows, std::size_t batch, std::size_t rank, std::uint64_t seed)
      : rank_rows_(std::move(rank_rows)), rank_(rank), seed_(seed), order_(rank_rows_.at(rank)) {
    const std::size_t ranks = rank_rows_.size();
    if (batch < ranks)
      throw UsageError("--batch " + std::to_string(batch) + " is the global batch; it must be >= the " +
                       std::to_string(ranks) + " ranks");
    const std::size_t total = std::accumulate(rank_rows_.begin(), rank_rows_.end(), std::size_t{0});
    if (total == 0) throw DataError("the training data set is empty");
    if (total < ranks)
      throw DataError("the training data has " + std::to_string(total) + " samples, fewer than the " +
                      std::to_string(ranks) + " ranks");
    rank_batch_.resize(ranks);
    for (std::size_t r = 0; r < ranks; ++r) {
      rank_batch_[r] = batch / ranks + (r < batch % ranks ? 1 : 0);
      // ceil(rows / batch), without the rows + batch - 1 that wraps for a batch near 2^64
      const std::size_t steps = rank_rows_[r] / rank_batch_[r] + (rank_rows_[r] % rank_batch_[r] != 0);
      steps_per_epoch_ = std::max(steps_per_epoch_, steps);
    }
    std::iota(order_.begin(), order_.end(), std::size_t{0});
  }

  std::size_t steps_per_epoch() const { return steps_per_epoch_; }
  std::size_t local_batch() const { return rank_batch_[rank_]; }
  std::size_t total_rows() const { return std::accumulate(rank_rows_.begin(), rank_rows_.end(), std::size_t{0}); }

  // Rows rank r trains on in step s of an epoch.
  std::size_t rows_in_step(std::size_t r, std::size_t s) const {
    const std::size_t first = s * rank_batch_[r];
    return first >= rank_rows_[r] ? 0 : std::min(rank_batch_[r], rank_rows_[r] - first);
  }
  // Rows all ranks together train on in step s: what the step's update divides by.
  std::size_t global_rows(std::size_t s) const {
    std::size_t rows = 0;
    for (std::size_t r = 0; r < rank_rows_.size(); ++r) rows += rows_in_step(r, s);
    return rows;
  }

  // How rows are ordered (see the header comment). global: `files` are the
  // data set's files as row ranges (the rows every rank holds), and
  // `rank_rows` given to the constructor global_rank_rows() of their total.
  void set_order(ShuffleMode mode, std::vector<RowRange> files = {}, std::size_t block_rows = 1,
                 std::size_t buffer = 1) {
    mode_ = mode;
    files_ = std::move(files);
    block_rows_ = block_rows;
    buffer_ = buffer;
  }

  // This rank's order of its rows for `epoch` (0-based).
  void start_epoch(std::uint64_t epoch) {
    if (mode_ == ShuffleMode::global) {
      ShuffleBuffer b(epoch_stretch(mode_, files_, {}, block_rows_, rank_, rank_rows_.size(), seed_, epoch), buffer_,
                      buffer_seed(seed_, epoch, rank_));
      for (std::size_t& row : order_) row = b.draw().row;
      return;
    }
    std::iota(order_.begin(), order_.end(), std::size_t{0});
    if (mode_ == ShuffleMode::none) return;
    Rng rng(derive_seed({seed_, std::uint64_t(Stream::shuffle), epoch, std::uint64_t(rank_)}));
    shuffle(order_, rng);
  }
  // This rank's rows of step s, in the epoch's order.
  std::span<const std::size_t> step_rows(std::size_t s) const {
    return rows(s * rank_batch_[rank_], rows_in_step(rank_, s));
  }
  // Rows order[first, first + n), clipped to this rank's part (before the
  // first start_epoch(), rows first..first+n-1).
  std::span<const std::size_t> rows(std::size_t first, std::size_t n) const {
    first = std::min(first, order_.size());
    return {order_.data() + first, std::min(n, order_.size() - first)};
  }

 private:
  std::vector<std::size_t> rank_rows_;   // training rows of every rank
  std::vector<std::size_t> rank_batch_;  // local batch of every rank
  std::size_t rank_;
  std::uint64_t seed_;
  std::size_t steps_per_epoch_ = 0;
  std::vector<std::size_t> order_;
  ShuffleMode mode_ = ShuffleMode::shard;
  std::vector<RowRange> files_;
  std::size_t block_rows_ = 1, buffer_ = 1;
};

}  // namespace sinapsis
