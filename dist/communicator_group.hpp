// The training loop's view of a Communicator (core/rank_group.hpp).
#pragma once

#include <memory>

#include "core/rank_group.hpp"
#include "dist/background_sums.hpp"
#include "dist/communicator.hpp"

namespace sinapsis {

class CommunicatorGroup final : public RankGroup {
 public:
  // With `background`, start_sum() runs sums on a thread of their own (when
  // there is more than one rank and MPI allows it; otherwise they run at
  // once, as without).
  explicit CommunicatorGroup(Communicator& comm, bool background = false, ExchangeWait wait = {})
      : comm_(comm) {
    if (background && comm.size() > 1 && comm.background_calls_allowed())
      background_ = std::make_unique<BackgroundSums>(comm, wait);
  }
  int rank() const override { return comm_.rank(); }
  int size() const override { return comm_.size(); }
  void sum(std::span<float> values) override { comm_.allreduce(values, ReduceOp::sum); }
  void sum(std::span<double> values) override { comm_.allreduce(values, ReduceOp::sum); }
  void start_sum(std::span<float> values, GradPrecision precision) override {
    background_ ? background_->start(values, precision) : sum_gradients(values, precision);
  }
  void sum_gradients(std::span<float> values, GradPrecision precision) override {
    comm_.sum_compressed(values, precision);
  }
  void start_sum(std::span<double> values) override { background_ ? background_->start(values) : sum(values); }
  void wait_sums() override {
    if (background_) background_->wait();
  }
  double background_seconds() const override { return background_ ? background_->busy_seconds() : 0; }
  // Are start_sum()'s sums run in the background?
  bool background() const { return background_ != nullptr; }

 private:
  Communicator& comm_;
  std::unique_ptr<BackgroundSums> background_;
};

}  // namespace sinapsis
