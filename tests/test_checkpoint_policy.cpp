// The checkpoint decision, without MPI or files.
#include <gtest/gtest.h>

#include "core/checkpoint_policy.hpp"

namespace sinapsis {
namespace {

TEST(CheckpointPolicy, OffByDefault) {
  const CheckpointPolicy p;
  EXPECT_FALSE(p.enabled());
  for (std::size_t e = 1; e < 10; ++e) EXPECT_FALSE(p.due(e, 1e9));
}

TEST(CheckpointPolicy, EveryNEpochs) {
  const CheckpointPolicy p{3, 0};
  EXPECT_FALSE(p.due(1, 0));
  EXPECT_FALSE(p.due(2, 0));
  EXPECT_TRUE(p.due(3, 0));
  EXPECT_FALSE(p.due(4, 1e9));  // time does not count when only epochs are asked
  EXPECT_TRUE(p.due(6, 0));
}

TEST(CheckpointPolicy, EverySecondsOrEpochsWhicheverComesFirst) {
  const CheckpointPolicy p{10, 60};
  EXPECT_FALSE(p.due(1, 59.9));
  EXPECT_TRUE(p.due(2, 60));
  EXPECT_TRUE(p.due(10, 0));
}

}  // namespace
}  // namespace sinapsis
