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
  Optimizer<double> sgd(3, 3, {});
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
  Optimizer<double> sgd(1, 1, {.momentum = 0.9, .nesterov = nesterov, .penalty = {}});
  std::vector<double> p{1};
  sgd.step(p, std::vector<double>{1}, 0.1);
  const double p1 = p[0];
  sgd.step(p, std::vector<double>{0.5}, 0.1);
  return {p1, p[0], sgd.state()[0]};
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
  Optimizer<double> sgd(4, 2, {.momentum = 0, .nesterov = false, .penalty = {0.1, 0.5}});
  std::vector<double> p{2, -1, 3, -4};
  sgd.step(p, std::vector<double>(4, 0.0), 0.1);
  EXPECT_DOUBLE_EQ(p[0], 2 - 0.1 * 1.1);
  EXPECT_DOUBLE_EQ(p[1], -1 + 0.1 * 0.6);
  EXPECT_EQ(p[2], 3.0);
  EXPECT_EQ(p[3], -4.0);
}

TEST(Sgd, RejectsBadOptions) {
  for (double momentum : {-0.1, 1.0, 1.5, std::numeric_limits<double>::quiet_NaN()})
    EXPECT_THROW(Optimizer<double>(1, 1, {.momentum = momentum, .nesterov = false, .penalty = {}}),
                 UsageError)
        << "momentum " << momentum;
  EXPECT_THROW(Optimizer<double>(1, 1, {.momentum = 0, .nesterov = true, .penalty = {}}), UsageError);
  EXPECT_THROW(Optimizer<double>(1, 1, {.momentum = 0, .nesterov = false, .penalty = {-1, 0}}),
               UsageError);
  EXPECT_NO_THROW(Optimizer<double>(1, 1, {.momentum = 0, .nesterov = false, .penalty = {}}));
  EXPECT_NO_THROW(Optimizer<double>(1, 1, {.momentum = 0.99, .nesterov = true, .penalty = {}}));
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

TEST(Schedule, CosineAnnealsPerEpochAndRestarts) {
  LearningRateSchedule s;
  s.base = 0.1;
  s.min = 0.001;
  s.kind = ScheduleKind::cosine;
  s.epochs = 10;
  EXPECT_DOUBLE_EQ(s.rate(0, 0), 0.1);
  EXPECT_NEAR(s.rate(5, 123), 0.001 + 0.099 / 2, 1e-15);  // half way: the mean
  EXPECT_NEAR(s.rate(10, 0), 0.001, 1e-15);               // the end, and after it
  EXPECT_NEAR(s.rate(12, 0), 0.001, 1e-15);
  s.restart_epochs = 4;  // CosineAnnealingWarmRestarts(T_0 = 4)
  EXPECT_DOUBLE_EQ(s.rate(4, 0), 0.1);
  EXPECT_NEAR(s.rate(6, 0), s.rate(2, 0), 1e-15);
  EXPECT_NEAR(s.rate(2, 0), 0.001 + 0.099 / 2, 1e-15);
}

TEST(Schedule, OneCycleRisesThenAnnealsOverThePlannedSteps) {
  LearningRateSchedule s;
  s.base = 1;
  s.kind = ScheduleKind::onecycle;
  s.epochs = 10;
  s.steps_per_epoch = 10;  // 100 steps: up over steps 0..29, down over 29..99
  EXPECT_NEAR(s.rate(0, 0), 0.04, 1e-15);   // base / 25
  EXPECT_NEAR(s.rate(2, 29), 1, 1e-15);
  EXPECT_NEAR(s.rate(6, 64), 4e-6 + (1 - 4e-6) / 2, 1e-12);  // half way down
  EXPECT_NEAR(s.rate(9, 99), 4e-6, 1e-15);  // base / 25 / 1e4
}

TEST(Schedule, WarmUpComposesWithAnySchedule) {
  LearningRateSchedule s;
  s.base = 0.1;
  s.kind = ScheduleKind::cosine;
  s.epochs = 10;
  s.warmup_steps = 4;
  EXPECT_NEAR(s.rate(5, 1), (0.05) * 0.5, 1e-15);
  EXPECT_NEAR(s.rate(5, 10), 0.05, 1e-15);
  s.kind = ScheduleKind::plateau;
  EXPECT_NEAR(s.rate(0, 0, 0.5), 0.05 * 0.25, 1e-15);
}

TEST(Schedule, PlateauLowersAfterPatienceEpochsWithoutARelativeImprovement) {
  PlateauTracker p;
  p.patience = 2;
  p.reduce_by = 0.5;
  // ReduceLROnPlateau(mode min, threshold 1e-4 rel): 1.0 is best; 0.99995 is
  // no improvement (within 1e-4 of it); after a third such epoch the factor halves.
  EXPECT_FALSE(p.observe(1.0));
  EXPECT_FALSE(p.observe(0.99995));
  EXPECT_FALSE(p.observe(1.2));
  EXPECT_TRUE(p.observe(std::numeric_limits<double>::quiet_NaN()));  // a NaN is never better
  EXPECT_DOUBLE_EQ(p.state.factor, 0.5);
  EXPECT_EQ(p.state.bad_epochs, 0u);
  EXPECT_FALSE(p.observe(0.9));  // better: the count starts again
  EXPECT_DOUBLE_EQ(p.state.best, 0.9);
  // An accuracy is maximized.
  PlateauTracker a;
  a.maximize = true;
  a.patience = 0;
  EXPECT_FALSE(a.observe(0.5));
  EXPECT_TRUE(a.observe(0.5));
  EXPECT_FALSE(a.observe(0.6));
  // A floor: plateau never goes below min.
  LearningRateSchedule s;
  s.base = 0.1;
  s.min = 0.01;
  s.kind = ScheduleKind::plateau;
  EXPECT_DOUBLE_EQ(s.rate(0, 0, 1e-6), 0.01);
}

TEST(Optimizer, AdamFirstStepMovesEachWeightByTheRateAgainstItsGradientsSign) {
  // t = 1: m = (1-b1) g, s = (1-b2) g^2, so m / (1-b1) / (sqrt(s / (1-b2)) + eps) = g / (|g| + eps).
  OptimizerOptions o;
  o.kind = OptimizerKind::adam;
  o.eps = 1e-12;
  Optimizer<double> adam(3, 3, o);
  std::vector<double> p{1, 2, 3};
  adam.step(p, std::vector<double>{0.5, -4, 1e-3}, 0.01);
  EXPECT_NEAR(p[0], 0.99, 1e-12);
  EXPECT_NEAR(p[1], 2.01, 1e-12);
  EXPECT_NEAR(p[2], 2.99, 1e-9);
  EXPECT_EQ(adam.steps(), 1u);
  EXPECT_EQ(adam.state().size(), 6u) << "m and s";
  // AdamW decays the weights first (biases not): 2 weights, 1 bias.
  o.kind = OptimizerKind::adamw;
  o.weight_decay = 0.5;
  Optimizer<double> adamw(3, 2, o);
  std::vector<double> q{1, 1, 1};
  adamw.step(q, std::vector<double>{0, 0, 0}, 0.1);  // no gradient: only the decay moves them
  EXPECT_NEAR(q[0], 0.95, 1e-15);
  EXPECT_NEAR(q[1], 0.95, 1e-15);
  EXPECT_DOUBLE_EQ(q[2], 1);
}

TEST(Optimizer, RmspropMatchesHandComputedSteps) {
  // alpha 0.9, eps 0: s1 = 0.1 * 4 = 0.4, p1 = 1 - 0.1 * 2 / sqrt(0.4);
  // s2 = 0.9 * 0.4 + 0.1 * 1 = 0.46, p2 = p1 - 0.1 * 1 / sqrt(0.46).
  OptimizerOptions o;
  o.kind = OptimizerKind::rmsprop;
  o.alpha = 0.9;
  o.eps = 1e-300;
  Optimizer<double> r(1, 1, o);
  std::vector<double> p{1};
  r.step(p, std::vector<double>{2}, 0.1);
  const double p1 = 1 - 0.1 * 2 / std::sqrt(0.4);
  EXPECT_NEAR(p[0], p1, 1e-14);
  r.step(p, std::vector<double>{1}, 0.1);
  EXPECT_NEAR(p[0], p1 - 0.1 / std::sqrt(0.46), 1e-14);
  // With momentum 0.5: b1 = 2 / sqrt(0.4), b2 = 0.5 b1 + 1 / sqrt(0.46).
  o.momentum = 0.5;
  Optimizer<double> m(1, 1, o);
  std::vector<double> q{1};
  m.step(q, std::vector<double>{2}, 0.1);
  m.step(q, std::vector<double>{1}, 0.1);
  const double b1 = 2 / std::sqrt(0.4), b2 = 0.5 * b1 + 1 / std::sqrt(0.46);
  EXPECT_NEAR(q[0], 1 - 0.1 * b1 - 0.1 * b2, 1e-14);
}

TEST(Optimizer, RefusesOptionsThatDoNotGoTogether) {
  const auto refused = [](OptimizerOptions o) {
    try {
      Optimizer<float>::check(o);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  OptimizerOptions o;
  o.kind = OptimizerKind::adam;
  o.momentum = 0.9;
  EXPECT_EQ(refused(o), "--momentum is sgd's and rmsprop's; adam's is --beta1");
  o = {};
  o.kind = OptimizerKind::rmsprop;
  o.momentum = 0.5;
  o.nesterov = true;
  EXPECT_EQ(refused(o), "--nesterov is sgd's momentum, not rmsprop's");
  o = {};
  o.beta2 = 1;
  EXPECT_NE(refused(o).find("--beta1 and --beta2 must be in [0, 1)"), std::string::npos);
  o = {};
  o.eps = 0;
  EXPECT_NE(refused(o).find("--eps must be > 0"), std::string::npos);
  EXPECT_THROW(parse_optimizer("adm", "--optimizer"), UsageError);
  EXPECT_EQ(parse_optimizer("adamw", "--optimizer"), OptimizerKind::adamw);
}

}  // namespace
}  // namespace sinapsis
