// The ranks that train one model together, as the training loop sees them:
// who am I, how many are we, and element-wise sums across all of us. dist/
// implements it over MPI; SingleRank is one process. (core/ stays free of MPI.)
#pragma once

#include <span>

namespace sinapsis {

class RankGroup {
 public:
  virtual ~RankGroup() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // In place, on every rank: values[i] = sum over ranks of values[i].
  virtual void sum(std::span<float> values) = 0;
  virtual void sum(std::span<double> values) = 0;
};

class SingleRank final : public RankGroup {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void sum(std::span<float>) override {}
  void sum(std::span<double>) override {}
};

}  // namespace sinapsis
