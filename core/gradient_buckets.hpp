// How the gradient exchange follows backward: which blocks backward computes
// each weight gradient in, and which parts of the gradient buffer are summed
// across ranks after each block, so the sums of the last layers run while the
// first layers are still being differentiated (the overlap Horovod and
// PyTorch DDP get from their buckets, here for one flat buffer).
//
// The plan depends only on the architecture and the bucket size, never on
// timing: every rank starts the same sums in the same order, which is what
// makes the collectives match and the result bit-identical from run to run.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "core/architecture.hpp"

namespace sinapsis {

// Rows [first, end) of a weight gradient.
struct RowBlock {
  std::size_t first = 0, end = 0;
};

// The row blocks of a weight gradient with `rows` rows, `block_rows` at a
// time (0 or >= rows: one block), LAST rows first: [rows - b, rows), then
// [rows - 2b, rows - b), ..., down to [0, ...). Iterable, allocates nothing.
class WeightChunks {
 public:
  WeightChunks(std::size_t rows, std::size_t block_rows)
      : rows_(rows), block_(block_rows == 0 || block_rows > rows ? rows : block_rows) {}
  class iterator {
   public:
    iterator(std::size_t end, std::size_t block) : end_(end), block_(block) {}
    RowBlock operator*() const { return {end_ > block_ ? end_ - block_ : 0, end_}; }
    iterator& operator++() {
      end_ = end_ > block_ ? end_ - block_ : 0;
      return *this;
    }
    bool operator==(const iterator& other) const { return end_ == other.end_; }

   private:
    std::size_t end_, block_;
  };
  iterator begin() const { return {rows_, block_}; }
  iterator end() const { return {0, block_}; }

 private:
  std::size_t rows_, block_;
};

inline WeightChunks weight_chunks(std::size_t rows, std::size_t block_rows) { return {rows, block_rows}; }

// For a model laid out as in Model ([W_0 | ... | W_{L-1} | b_0 | ... |
// b_{L-1} | control]) and a bucket of about `bucket_floats` values:
//  * each layer's weight gradient is computed in blocks of about one bucket
//    (rows split evenly; a layer smaller than a bucket is one block);
//  * after each block, the part of the weight block that is final and not
//    yet being summed (a range just before the part already started, since
//    blocks come last rows first and last layer first) is started once it
//    holds at least half a bucket;
//  * after the last block (layer 0's first rows) the rest of the weight block
//    is started, then the bias block with the control slots, whose votes
//    must be in the step's last sum.
class BucketPlan {
 public:
  // A part of Model::gradients_and_control().
  struct Range {
    std::size_t offset = 0, count = 0;
    bool operator==(const Range&) const = default;
  };

  BucketPlan(const Architecture& architecture, std::size_t control_slots, std::size_t bucket_floats) {
    const auto& layers = architecture.layers;
    const std::size_t bucket = std::max<std::size_t>(bucket_floats, 1);
    std::vector<std::size_t> offsets;
    std::size_t weights = 0, biases = 0;
    for (const auto& l : layers) {
      offsets.push_back(weights);
      weights += l.fan_in * l.fan_out;
      biases += l.fan_out;
    }
    std::size_t started_from = weights;  // [started_from, weights) is being summed
    for (std::size_t l = layers.size(); l-- > 0;) {
      const std::size_t rows = layers[l].fan_in, cols = layers[l].fan_out;
      // About one bucket per block: round(values / bucket) blocks, at least one, at most one per row.
      const std::size_t blocks = std::clamp<std::size_t>((rows * cols + bucket / 2) / bucket, 1, rows);
      chunk_rows_.insert(chunk_rows_.begin(), (rows + blocks - 1) / blocks);
      for (const auto [first, end] : weight_chunks(rows, chunk_rows_.front())) {
        (void)end;
        const std::size_t ready_from = offsets[l] + first * cols;
        starts_.push_back(ranges_.size());
        const bool last = l == 0 && first == 0;
        if (started_from - ready_from >= (bucket + 1) / 2 || (last && started_from > ready_from)) {
          ranges_.push_back({ready_from, started_from - ready_from});
          started_from = ready_from;
        }
        if (last) ranges_.push_back({weights, biases + control_slots});
      }
    }
    starts_.push_back(ranges_.size());
  }

  // Rows per weight-gradient block of each layer (index = layer), for backward().
  std::span<const std::size_t> chunk_rows() const { return chunk_rows_; }
  // How many blocks backward() computes: its on_done calls per step.
  std::size_t blocks() const { return starts_.size() - 1; }
  // The ranges to start summing after backward's k-th block (0-based, in
  // backward's order), in order; often none.
  std::span<const Range> after(std::size_t k) const {
    return std::span<const Range>(ranges_).subspan(starts_[k], starts_[k + 1] - starts_[k]);
  }
  // Every range, in the order they are started: the sums of one step.
  std::span<const Range> ranges() const { return ranges_; }

 private:
  std::vector<std::size_t> chunk_rows_;
  std::vector<Range> ranges_;
  std::vector<std::size_t> starts_;  // ranges_[starts_[k], starts_[k+1]) follow block k
};

}  // namespace sinapsis
