// Which training rows each rank sees in each epoch, and in what order, when
// the rows are streamed in blocks (--shuffle, README "Data larger than
// memory"). Pure: global row indices only, no data, no clock, no
// communication, so every rank computes every rank's plan alike and a
// resumed run recomputes where it was.
//
// The data set is cut into blocks: runs of `block_rows` consecutive rows of
// one file (the last of a file shorter; a block never spans two files).
//   global  every epoch, one seeded permutation of all blocks (the same on
//           every rank), laid end to end; rank r takes the stretch
//           [N r / p, N (r + 1) / p) of it, so the ranks' row counts never
//           change (the same steps every epoch) while the rows each rank sees
//           do.
//   shard   each rank keeps its part of the data (the one it reads in
//           memory: io/data_file.hpp plan_part) and permutes its own blocks
//           every epoch.
//   none    each rank reads its part in file order, unshuffled.
// Then (global, shard) a shuffle buffer of `buffer` rows: it is filled with
// the first rows of the stretch; each draw takes a seeded random slot, emits
// its row and refills the slot with the next row of the stretch (once the
// stretch is spent, with the buffer's last row). A buffer as large as the
// stretch is a full random permutation of it.
// The seeds: the permutation of blocks from (seed, epoch) (global) or (seed,
// epoch, rank) (shard), the buffer's draws from (seed, epoch, rank).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/random.hpp"

namespace sinapsis {

enum class ShuffleMode { none, shard, global };

inline std::string_view shuffle_mode_name(ShuffleMode mode) {
  return mode == ShuffleMode::global ? "global" : mode == ShuffleMode::shard ? "shard" : "none";
}
// UsageError naming `what` (the option) for anything else.
inline ShuffleMode parse_shuffle_mode(std::string_view text, std::string_view what) {
  for (const ShuffleMode m : {ShuffleMode::none, ShuffleMode::shard, ShuffleMode::global})
    if (text == shuffle_mode_name(m)) return m;
  throw UsageError(std::string(what) + ": unknown value '" + std::string(text) + "' (expected global, shard or none)");
}

// Rows [begin, end) of the data set (global row indices: the files' rows
// one after the other).
struct RowRange {
  std::size_t begin = 0, end = 0;
  std::size_t size() const { return end - begin; }
  bool operator==(const RowRange&) const = default;
};

// The blocks of `ranges` (each cut into runs of `block_rows`, the last of
// each range shorter), in order.
inline std::vector<RowRange> cut_blocks(const std::vector<RowRange>& ranges, std::size_t block_rows) {
  if (block_rows == 0) throw UsageError("a block must hold at least one row");
  std::vector<RowRange> blocks;
  for (const RowRange& r : ranges)
    for (std::size_t b = r.begin; b < r.end; b = b + std::min(block_rows, r.end - b))
      blocks.push_back({b, b + std::min(block_rows, r.end - b)});
  return blocks;
}

// The ranges of rows rank `rank` of `ranks` streams in `epoch`, in stream
// order. `files`: every file's rows as one range each (global mode), or
// `part`: this rank's part (shard and none modes).
inline std::vector<RowRange> epoch_stretch(ShuffleMode mode, const std::vector<RowRange>& files,
                                           const std::vector<RowRange>& part, std::size_t block_rows,
                                           std::size_t rank, std::size_t ranks, std::uint64_t seed,
                                           std::uint64_t epoch) {
  if (mode == ShuffleMode::none) return part;
  if (mode == ShuffleMode::shard) {
    std::vector<RowRange> blocks = cut_blocks(part, block_rows);
    Rng rng(derive_seed({seed, std::uint64_t(Stream::blocks), epoch, rank}));
    shuffle(blocks, rng);
    return blocks;
  }
  std::vector<RowRange> blocks = cut_blocks(files, block_rows);
  Rng rng(derive_seed({seed, std::uint64_t(Stream::blocks), epoch}));
  shuffle(blocks, rng);
  std::size_t total = 0;
  for (const RowRange& b : blocks) total += b.size();
  const std::size_t first = total / ranks * rank + std::min(rank, total % ranks);
  const std::size_t last = first + total / ranks + (rank < total % ranks ? 1 : 0);
  std::vector<RowRange> stretch;
  std::size_t at = 0;  // where block b starts in the laid-out permutation
  for (const RowRange& b : blocks) {
    const std::size_t lo = std::max(first, at), hi = std::min(last, at + b.size());
    if (lo < hi) stretch.push_back({b.begin + (lo - at), b.begin + (hi - at)});
    at += b.size();
    if (at >= last) break;
  }
  return stretch;
}

// Rows in `ranges`.
inline std::size_t rows_in(const std::vector<RowRange>& ranges) {
  std::size_t n = 0;
  for (const RowRange& r : ranges) n += r.size();
  return n;
}

// --val-split / --test-split of data in blocks (streamed, or --shuffle
// global): whole blocks held out, chosen by one seeded permutation of all
// blocks of `files` (the same on every rank, for any rank count; not
// stratified): its first round(val B) blocks validate (at least one when
// val > 0), the next round(test B) test (likewise), the rest train. Each
// list in row order. UsageError when that leaves no block to train on.
struct BlockSplit {
  std::vector<RowRange> train, val, test;
};
inline BlockSplit split_blocks(const std::vector<RowRange>& files, std::size_t block_rows, double val, double test,
                               std::uint64_t seed) {
  const std::vector<RowRange> blocks = cut_blocks(files, block_rows);
  const auto count = [&](double fraction) {
    return fraction > 0 ? std::max<std::size_t>(1, std::size_t(std::llround(fraction * double(blocks.size())))) : 0;
  };
  const std::size_t n_val = count(val), n_test = count(test);
  if (n_val + n_test >= blocks.size())
    throw UsageError("--val-split " + std::to_string(val) + " and --test-split " + std::to_string(test) + " of " +
                     std::to_string(blocks.size()) + " blocks of " + std::to_string(block_rows) +
                     " rows leave no block to train on (held out in whole --shuffle-block blocks: give a smaller "
                     "--shuffle-block or smaller fractions)");
  std::vector<std::size_t> order(blocks.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  Rng rng(derive_seed({seed, std::uint64_t(Stream::split), std::uint64_t(Stream::blocks)}));
  shuffle(order, rng);
  std::vector<int> part(blocks.size(), 0);  // 0 train, 1 val, 2 test
  for (std::size_t i = 0; i < n_val + n_test; ++i) part[order[i]] = i < n_val ? 1 : 2;
  BlockSplit split;
  for (std::size_t b = 0; b < blocks.size(); ++b)
    (part[b] == 0 ? split.train : part[b] == 1 ? split.val : split.test).push_back(blocks[b]);
  return split;
}

// The rows of `ranges` that are also in `within` (both in row order, each
// without overlaps), in row order.
inline std::vector<RowRange> intersect_ranges(const std::vector<RowRange>& ranges, const std::vector<RowRange>& within) {
  std::vector<RowRange> out;
  std::size_t j = 0;
  for (const RowRange& r : ranges) {
    while (j < within.size() && within[j].end <= r.begin) ++j;
    for (std::size_t k = j; k < within.size() && within[k].begin < r.end; ++k) {
      const std::size_t lo = std::max(r.begin, within[k].begin), hi = std::min(r.end, within[k].end);
      if (lo < hi) out.push_back({lo, hi});
    }
  }
  return out;
}

// Rank `rank`'s contiguous 1/ranks of the rows of `ranges` (in order): how
// each rank's part of held-out blocks is evaluated.
inline std::vector<RowRange> rank_share(const std::vector<RowRange>& ranges, std::size_t rank, std::size_t ranks) {
  std::size_t total = 0;
  for (const RowRange& r : ranges) total += r.size();
  const std::size_t first = total * rank / ranks, last = total * (rank + 1) / ranks;
  std::vector<RowRange> out;
  std::size_t at = 0;
  for (const RowRange& r : ranges) {
    const std::size_t lo = std::max(first, at), hi = std::min(last, at + r.size());
    if (lo < hi) out.push_back({r.begin + (lo - at), r.begin + (hi - at)});
    at += r.size();
  }
  return out;
}

// Rank r's row count in global mode: the same every epoch.
inline std::size_t global_rank_rows(std::size_t total, std::size_t rank, std::size_t ranks) {
  return total / ranks + (rank < total % ranks ? 1 : 0);
}

// A stretch read in order through a shuffle buffer (see the header comment),
// at the level of row indices: what a reader holds in each slot of its
// buffer and which row of the stretch it reads next. A reader of the data
// mirrors each Draw; skip(n) replays draws without data (a resumed epoch).
class ShuffleBuffer {
 public:
  // How a draw changed the buffer: `slot` emitted `row`; then it holds the
  // next row of the stretch (refilled: `incoming`), or the buffer's last
  // slot moved into it (moved: from slot `from`; the buffer shrank by one),
  // or it was the last slot (removed).
  struct Draw {
    enum class Kind { refilled, moved, removed } kind = Kind::removed;
    std::size_t slot = 0, row = 0, incoming = 0, from = 0;
  };

  // `buffer` <= 1: no shuffling (rows come in stretch order).
  ShuffleBuffer(std::vector<RowRange> stretch, std::size_t buffer, std::uint64_t seed)
      : stretch_(std::move(stretch)), rng_(seed) {
    total_ = rows_in(stretch_);
    slots_.resize(std::min(std::max<std::size_t>(buffer, 1), total_));
    for (std::size_t& s : slots_) s = next_stream_row();
  }

  std::size_t rows() const { return total_; }
  std::size_t drawn() const { return drawn_; }
  bool done() const { return drawn_ == total_; }
  // The rows the slots hold now (slot j holds slots()[j]), and how many
  // rows of the stretch have entered the buffer so far.
  const std::vector<std::size_t>& slots() const { return slots_; }
  std::size_t streamed() const { return streamed_; }
  // The stretch's rows from position `position` on, as ranges.
  std::vector<RowRange> stretch_from(std::size_t position) const {
    std::vector<RowRange> rest;
    for (const RowRange& r : stretch_) {
      if (position >= r.size()) {
        position -= r.size();
        continue;
      }
      rest.push_back({r.begin + position, r.end});
      position = 0;
    }
    return rest;
  }

  Draw draw() {
    Draw d;
    d.slot = slots_.size() == 1 ? 0 : std::size_t(rng_.below(slots_.size()));
    d.row = slots_[d.slot];
    ++drawn_;
    if (streamed_ < total_) {
      d.kind = Draw::Kind::refilled;
      d.incoming = slots_[d.slot] = next_stream_row();
    } else if (d.slot + 1 < slots_.size()) {
      d.kind = Draw::Kind::moved;
      d.from = slots_.size() - 1;
      slots_[d.slot] = slots_.back();
      slots_.pop_back();
    } else {
      d.kind = Draw::Kind::removed;
      slots_.pop_back();
    }
    return d;
  }
  void skip(std::size_t n) {
    for (std::size_t i = 0; i < n && !done(); ++i) draw();
  }

 private:
  std::size_t next_stream_row() {
    while (range_ < stretch_.size() && offset_ == stretch_[range_].size()) {
      ++range_;
      offset_ = 0;
    }
    ++streamed_;
    return stretch_[range_].begin + offset_++;
  }

  std::vector<RowRange> stretch_;
  Rng rng_;
  std::size_t total_ = 0, drawn_ = 0, streamed_ = 0;
  std::size_t range_ = 0, offset_ = 0;  // the next stream row: stretch_[range_].begin + offset_
  std::vector<std::size_t> slots_;
};

// The seed of rank `rank`'s buffer draws in `epoch`.
inline std::uint64_t buffer_seed(std::uint64_t seed, std::uint64_t epoch, std::size_t rank) {
  return derive_seed({seed, std::uint64_t(Stream::buffer), epoch, rank});
}

}  // namespace sinapsis
