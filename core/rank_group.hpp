// The ranks that train one model together, as the training loop sees them:
// who am I, how many are we, and element-wise sums across all of us. dist/
// implements it over MPI; SingleRank is one process. (core/ stays free of MPI.)
#pragma once

#include <span>

#include "core/half.hpp"

namespace sinapsis {

class RankGroup {
 public:
  virtual ~RankGroup() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // In place, on every rank: values[i] = sum over ranks of values[i].
  virtual void sum(std::span<float> values) = 0;
  virtual void sum(std::span<double> values) = 0;

  // Sums in the background, to overlap the exchange with compute (see
  // core/gradient_buckets.hpp). start_sum() queues an in-place sum of
  // `values` and returns; queued sums run one at a time in the order they
  // were started, which must be the same on every rank. wait_sums() returns
  // once every started sum is done (and rethrows the first failure). In
  // between, the caller must not touch the values being summed nor call
  // sum(). A group without a background exchange sums at once.
  virtual void start_sum(std::span<float> values, GradPrecision precision) { sum_gradients(values, precision); }
  virtual void start_sum(std::span<double> values) { sum(values); }
  // The gradient sum: sum() with the values on the wire in `precision`
  // (fp32: exact as sum(); bf16/fp16: Communicator::sum_compressed, the
  // same bits on every rank).
  virtual void sum_gradients(std::span<float> values, GradPrecision precision) {
    (void)precision;
    sum(values);
  }
  virtual void wait_sums() {}
  // Seconds the background sums have spent exchanging so far (time a sum was
  // in progress, waiting for peers included): with the time the caller
  // waited in wait_sums(), what tells the hidden exchange from the exposed.
  virtual double background_seconds() const { return 0; }
};

class SingleRank final : public RankGroup {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void sum(std::span<float>) override {}
  void sum(std::span<double>) override {}
};

}  // namespace sinapsis
