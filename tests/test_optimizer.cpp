// SGD update rules against hand-computed steps (PyTorch's SGD formulas,
// dampening 0), penalties on the weight block only, option checks, and the
// learning-rate schedules.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/error.hpp"
#include "core/optimizer.hpp"
#include "core/schedule.hpp"

namespace sinapsis {
namespace {

TEST(Sgd, PlainStepIsMinusLearningRateTimesGradient) {
  Sgd<double> sgd(3, 3, {});
  std::vector<double> p{1, 2, 3};
  const std::vector<double> g{0.5, -1, 2};
  sgd.step(p, g, 0.1);
  EXPECT_DOUBLE_EQ(p[0], 0.95);
  EXPECT_DOUBLE_EQ(p[1], 2.1);
  EXPECT_DOUBLE_EQ(p[2], 2.8);
}

// Two steps from p = 1 with gradients 1 then 0.5, lr 0.1, momentum 0.9:
//   v1 = 1                 v2 = 0.9 * 1 + 0.5 = 1.4
//   momentum: p1 = 1 - 0.1 * 1 = 0.9            p2 = 0.9 - 0.1 * 1.4 = 0.76
//   nesterov: p1 = 1 - 0.1 * (1 + 0.9 * 1) = 0.81
//             p2 = 0.81 - 0.1 * (0.5 + 0.9 * 1.4) = 0.634
struct TwoSteps {
  double p1, p2, v2;
};

TwoSteps two_steps(bool nesterov) {
  Sgd<double> sgd(1, 1, {.momentum = 0.9, .nesterov = nesterov, .penalty = {}});
  std::vector<double> p{1};
  sgd.step(p, std::vector<double>{1}, 0.1);
  const double p1 = p[0];
  sgd.step(p, std::vector<double>{0.5}, 0.1);
  return {p1, p[0], sgd.velocity()[0]};
}

TEST(Sgd, MomentumMatchesHandComputedSteps) {
  const TwoSteps s = two_steps(false);
  EXPECT_NEAR(s.p1, 0.9, 1e-15);
  EXPECT_NEAR(s.p2, 0.76, 1e-15);
  EXPECT_NEAR(s.v2, 1.4, 1e-15);
}

TEST(Sgd, NesterovMatchesHandComputedSteps) {
  const TwoSteps s = two_steps(true);
  EXPECT_NEAR(s.p1, 0.81, 1e-15);
  EXPECT_NEAR(s.p2, 0.634, 1e-15);
  EXPECT_NEAR(s.v2, 1.4, 1e-15);
}

TEST(Sgd, PenaltyReachesTheWeightBlockOnly) {
  // Two weights then two biases, zero loss gradient, l1 0.1 and l2 0.5:
  // d penalty / dw = 0.1 sign(w) + 0.5 w  ->  w = 2: 1.1, w = -1: -0.6.
  Sgd<double> sgd(4, 2, {.momentum = 0, .nesterov = false, .penalty = {0.1, 0.5}});
  std::vector<double> p{2, -1, 3, -4};
  sgd.step(p, std::vector<double>(4, 0.0), 0.1);
  EXPECT_DOUBLE_EQ(p[0], 2 - 0.1 * 1.1);
  EXPECT_DOUBLE_EQ(p[1], -1 + 0.1 * 0.6);
  EXPECT_EQ(p[2], 3.0);
  EXPECT_EQ(p[3], -4.0);
}

TEST(Sgd, RejectsBadOptions) {
  for (double momentum : {-0.1, 1.0, 1.5, std::numeric_limits<double>::quiet_NaN()})
    EXPECT_THROW(Sgd<double>(1, 1, {.momentum = momentum, .nesterov = false, .penalty = {}}),
                 UsageError)
        << "momentum " << momentum;
  EXPECT_THROW(Sgd<double>(1, 1, {.momentum = 0, .nesterov = true, .penalty = {}}), UsageError);
  EXPECT_THROW(Sgd<double>(1, 1, {.momentum = 0, .nesterov = false, .penalty = {-1, 0}}),
               UsageError);
  EXPECT_NO_THROW(Sgd<double>(1, 1, {.momentum = 0, .nesterov = false, .penalty = {}}));
  EXPECT_NO_THROW(Sgd<double>(1, 1, {.momentum = 0.99, .nesterov = true, .penalty = {}}));
}

TEST(LearningRateSchedule, ConstantNeverChanges) {
  const LearningRateSchedule schedule{.base = 0.03};
  EXPECT_DOUBLE_EQ(schedule.rate(0, 0), 0.03);
  EXPECT_DOUBLE_EQ(schedule.rate(57, 12345), 0.03);
}

TEST(LearningRateSchedule, StepDecayEveryNEpochs) {
  const LearningRateSchedule schedule{.base = 0.1,
                                      .kind = ScheduleKind::step_decay,
                                      .decay_factor = 0.5,
                                      .decay_every_epochs = 10};
  EXPECT_DOUBLE_EQ(schedule.rate(0, 0), 0.1);
  EXPECT_DOUBLE_EQ(schedule.rate(9, 900), 0.1);
  EXPECT_DOUBLE_EQ(schedule.rate(10, 1000), 0.05);
  EXPECT_DOUBLE_EQ(schedule.rate(25, 2500), 0.025);
}

TEST(LearningRateSchedule, LinearWarmUp) {
  const LearningRateSchedule schedule{.base = 0.2, .warmup_steps = 4};
  EXPECT_DOUBLE_EQ(schedule.rate(0, 0), 0.05);
  EXPECT_DOUBLE_EQ(schedule.rate(0, 1), 0.1);
  EXPECT_DOUBLE_EQ(schedule.rate(0, 2), 0.15);
  EXPECT_DOUBLE_EQ(schedule.rate(0, 3), 0.2);
  EXPECT_DOUBLE_EQ(schedule.rate(3, 100), 0.2);
}

}  // namespace
}  // namespace sinapsis
