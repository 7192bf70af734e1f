// The training loop's view of a Communicator (core/rank_group.hpp).
#pragma once

#include "core/rank_group.hpp"
#include "dist/communicator.hpp"

namespace sinapsis {

class CommunicatorGroup final : public RankGroup {
 public:
  explicit CommunicatorGroup(Communicator& comm) : comm_(comm) {}
  int rank() const override { return comm_.rank(); }
  int size() const override { return comm_.size(); }
  void sum(std::span<float> values) override { comm_.allreduce(values, ReduceOp::sum); }
  void sum(std::span<double> values) override { comm_.allreduce(values, ReduceOp::sum); }

 private:
  Communicator& comm_;
};

}  // namespace sinapsis
