// Minibatches of rows that are not held in memory (--data-in-memory off):
// the rows of this rank's stretch (core/stream_plan.hpp) are read in chunks
// through a shuffle buffer, and each batch is the next draws of the buffer.
// Memory is fixed when it is built: the buffer (its rows), one chunk and the
// two batch slots, whatever the size of the data.
//
// The rows come from a Reader, which reads ranges of rows of the data set
// (the launch layer's: files, feature transform, standardization, target
// encoding) into matrices, and throws DataError naming the file on a bad
// one. Like BatchAssembler, the next batch is assembled (and its chunks
// read) on a helper thread while the current one computes, when asked to;
// a Reader error is raised by the wait() for that batch.
//
// The batches of an epoch do not depend on where it started: start_epoch
// (epoch, draws) replays `draws` draws without data and loads the buffer's
// rows as they were then (a run resumed mid-epoch trains on the same rows as
// one that was never stopped), and they are the rows Sampler gives when the
// data is in memory with the same order (TrainOptions::RowOrder).
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "core/helper_thread.hpp"
#include "core/stream_plan.hpp"
#include "core/tensor.hpp"

namespace sinapsis {

template <class T>
class StreamedBatches {
 public:
  // Reads the rows of `ranges` (in order; their total is x.rows) into x and t.
  using Reader = std::function<void(const std::vector<RowRange>& ranges, MatrixView<T> x, MatrixView<T> t)>;

  struct Plan {
    ShuffleMode mode = ShuffleMode::global;
    std::vector<RowRange> files;  // every file's rows (global mode)
    std::vector<RowRange> part;   // this rank's part (shard, none)
    std::size_t block_rows = 1, buffer = 1, chunk_rows = 1;
    std::size_t rank = 0, ranks = 1;
    std::uint64_t seed = 1;
  };

  StreamedBatches(Reader reader, Plan plan, std::size_t inputs, std::size_t outputs, std::size_t capacity,
                  bool prefetch)
      : reader_(std::move(reader)),
        plan_(std::move(plan)),
        worker_([this](int slot) { assemble(batches_[slot]); }, prefetch) {
    // A buffer holds at most the rows of a stretch (the same every epoch).
    const std::size_t buffer = std::clamp<std::size_t>(plan_.buffer, 1, std::max<std::size_t>(rows(0), 1)),
                      chunk = std::max<std::size_t>(plan_.chunk_rows, 1);
    slots_x_ = Matrix<T>(buffer, inputs);
    slots_t_ = Matrix<T>(buffer, outputs);
    chunk_x_ = Matrix<T>(chunk, inputs);
    chunk_t_ = Matrix<T>(chunk, outputs);
    for (auto& slot : batches_) {
      slot.x = Matrix<T>(std::max<std::size_t>(capacity, 1), inputs);
      slot.t = Matrix<T>(std::max<std::size_t>(capacity, 1), outputs);
    }
  }
  StreamedBatches(const StreamedBatches&) = delete;
  StreamedBatches& operator=(const StreamedBatches&) = delete;

  // Bytes it holds (the buffer, a chunk, two batches).
  std::size_t bytes() const {
    std::size_t n = slots_x_.values.size() + slots_t_.values.size() + chunk_x_.values.size() + chunk_t_.values.size();
    for (const auto& b : batches_) n += b.x.values.size() + b.t.values.size();
    return n * sizeof(T);
  }

  // This rank's rows in an epoch.
  std::size_t rows(std::uint64_t epoch = 0) const { return rows_in(stretch(epoch)); }

  // Starts `epoch` (0-based) after its first `draws` rows: no batch may be
  // pending. Reads the buffer's rows.
  void start_epoch(std::uint64_t epoch, std::size_t draws) {
    // --shuffle none: the part in order (a buffer of one row).
    buffer_.emplace(stretch(epoch), plan_.mode == ShuffleMode::none ? 1 : plan_.buffer,
                    buffer_seed(plan_.seed, epoch, plan_.rank));
    buffer_->skip(draws);
    chunk_next_ = chunk_count_ = 0;
    load_slots();
  }

  // Starts assembling the next `n` draws into slot `slot` (0 or 1); without
  // prefetch it is done (or thrown) by the time this returns.
  void request(int slot, std::size_t n) {
    batches_[slot].wanted = n;
    worker_.start(slot);
  }

  std::pair<ConstMatrixView<T>, ConstMatrixView<T>> wait(int slot) {
    worker_.wait(slot);
    const Batch& b = batches_[slot];
    return {b.x.view().first_rows(b.count), b.t.view().first_rows(b.count)};
  }

 private:
  struct Batch {
    Matrix<T> x, t;
    std::size_t count = 0, wanted = 0;
  };

  std::vector<RowRange> stretch(std::uint64_t epoch) const {
    return epoch_stretch(plan_.mode, plan_.files, plan_.part, plan_.block_rows, plan_.rank, plan_.ranks, plan_.seed,
                         epoch);
  }

  void copy_row(const Matrix<T>& fx, const Matrix<T>& ft, std::size_t from, Matrix<T>& tx, Matrix<T>& tt,
                std::size_t to) {
    std::copy_n(fx.values.data() + from * fx.cols, fx.cols, tx.values.data() + to * tx.cols);
    std::copy_n(ft.values.data() + from * ft.cols, ft.cols, tt.values.data() + to * tt.cols);
  }

  // The slots hold the rows the buffer says they hold: read in runs of
  // consecutive rows, a chunk at a time.
  void load_slots() {
    const std::vector<std::size_t>& rows = buffer_->slots();
    std::vector<std::pair<std::size_t, std::size_t>> by_row;  // (row, slot)
    for (std::size_t s = 0; s < rows.size(); ++s) by_row.emplace_back(rows[s], s);
    std::sort(by_row.begin(), by_row.end());
    for (std::size_t first = 0; first < by_row.size();) {
      const std::size_t n = std::min(chunk_x_.rows, by_row.size() - first);
      std::vector<RowRange> ranges;
      for (std::size_t i = first; i < first + n; ++i) {
        const std::size_t row = by_row[i].first;
        if (!ranges.empty() && ranges.back().end == row) ++ranges.back().end;
        else ranges.push_back({row, row + 1});
      }
      reader_(ranges, chunk_x_.view().first_rows(n), chunk_t_.view().first_rows(n));
      for (std::size_t i = 0; i < n; ++i) copy_row(chunk_x_, chunk_t_, i, slots_x_, slots_t_, by_row[first + i].second);
      first += n;
    }
  }

  // The next row of the stretch, from the chunk (read when spent).
  std::size_t next_streamed() {
    if (chunk_next_ == chunk_count_) {
      // The buffer has taken buffer_->streamed() - 1 rows of the stretch before this one.
      std::vector<RowRange> ranges = buffer_->stretch_from(buffer_->streamed() - 1);
      std::vector<RowRange> chunk;
      std::size_t n = 0;
      for (const RowRange& r : ranges) {
        // Whole ranges (blocks) while they fit: a block read in one piece
        // inflates each of its compressed chunks once.
        if (n == chunk_x_.rows || (n > 0 && n + r.size() > chunk_x_.rows)) break;
        const std::size_t take = std::min(r.size(), chunk_x_.rows - n);
        chunk.push_back({r.begin, r.begin + take});
        n += take;
      }
      reader_(chunk, chunk_x_.view().first_rows(n), chunk_t_.view().first_rows(n));
      chunk_count_ = n;
      chunk_next_ = 0;
    }
    return chunk_next_++;
  }

  void assemble(Batch& b) {
    b.count = 0;
    for (std::size_t i = 0; i < b.wanted && !buffer_->done(); ++i) {
      const auto d = buffer_->draw();
      copy_row(slots_x_, slots_t_, d.slot, b.x, b.t, b.count++);
      if (d.kind == ShuffleBuffer::Draw::Kind::refilled) {
        const std::size_t c = next_streamed();
        copy_row(chunk_x_, chunk_t_, c, slots_x_, slots_t_, d.slot);
      } else if (d.kind == ShuffleBuffer::Draw::Kind::moved) {
        copy_row(slots_x_, slots_t_, d.from, slots_x_, slots_t_, d.slot);
      }
    }
  }

  Reader reader_;
  Plan plan_;
  std::optional<ShuffleBuffer> buffer_;
  Matrix<T> slots_x_, slots_t_, chunk_x_, chunk_t_;
  std::size_t chunk_next_ = 0, chunk_count_ = 0;  // the chunk's next row, and its rows
  Batch batches_[2];
  SlotWorker worker_;  // last: it joins before the buffers go
};

}  // namespace sinapsis
