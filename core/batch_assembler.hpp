// Gathers the rows of one minibatch (in shuffled order) into contiguous
// buffers, optionally one step ahead on a helper thread so that assembling
// batch s+1 overlaps the compute of batch s.
//
// Prefetching pays when a batch is big (Fashion-MNIST: 128 x 794 floats,
// ~4 % of an epoch when done inline) and costs more than it saves when it is
// tiny (a Playground batch is copied in well under the ~10 us a thread
// hand-off takes), so the trainer turns it on above a size threshold.
// Both buffers are allocated up front; a step allocates nothing.
//
// Threads: one thread, the trainer's, calls request() and wait(); the helper
// (started by helper_thread(), signals blocked) only gathers. The trainer
// alternates the two slots: request(slot, rows) starts filling a slot whose
// previous batch it no longer reads (its views from wait() are dead), and
// `rows` must stay alive and unchanged until wait(slot) returns. Every
// request is waited for before the next one (one batch assembles while the
// current one computes). The destructor waits for the helper to finish.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>

#include "core/helper_thread.hpp"
#include "core/tensor.hpp"

namespace sinapsis {

template <class T>
class BatchAssembler {
 public:
  // Rows come from features [N, d] and targets [N, k]; batches hold up to
  // `capacity` rows.
  BatchAssembler(const Matrix<T>& features, const Matrix<T>& targets, std::size_t capacity, bool prefetch)
      : features_(features), targets_(targets), worker_([this](int slot) { gather(slots_[slot]); }, prefetch) {
    for (auto& slot : slots_) {
      slot.x = Matrix<T>(std::max<std::size_t>(capacity, 1), features.cols);
      slot.t = Matrix<T>(std::max<std::size_t>(capacity, 1), targets.cols);
    }
  }
  BatchAssembler(const BatchAssembler&) = delete;
  BatchAssembler& operator=(const BatchAssembler&) = delete;

  // Starts gathering rows rows[0..n) into slot `slot` (0 or 1). Without
  // prefetch it is done by the time this returns.
  void request(int slot, std::span<const std::size_t> rows) {
    slots_[slot].rows = rows;
    worker_.start(slot);
  }

  // Waits until slot `slot` holds its batch; returns views of its rows.
  std::pair<ConstMatrixView<T>, ConstMatrixView<T>> wait(int slot) {
    worker_.wait(slot);
    const Slot& s = slots_[slot];
    return {s.x.view().first_rows(s.count), s.t.view().first_rows(s.count)};
  }

 private:
  struct Slot {
    Matrix<T> x, t;
    std::span<const std::size_t> rows;
    std::size_t count = 0;
  };

  void gather(Slot& s) {
    const std::size_t d = features_.cols, k = targets_.cols;
    for (std::size_t r = 0; r < s.rows.size(); ++r) {
      std::copy_n(features_.values.data() + s.rows[r] * d, d, s.x.values.data() + r * d);
      std::copy_n(targets_.values.data() + s.rows[r] * k, k, s.t.values.data() + r * k);
    }
    s.count = s.rows.size();
  }

  const Matrix<T>& features_;
  const Matrix<T>& targets_;
  Slot slots_[2];
  SlotWorker worker_;  // last: it joins before the slots go
};

}  // namespace sinapsis
