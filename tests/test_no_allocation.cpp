// A training step allocates nothing: every buffer is planned at setup.
// Counts calls to the global operator new around steps of a warm trainer.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "core/init.hpp"
#include "core/trainer.hpp"

namespace {
std::atomic<std::size_t> g_allocations{0};
}

void* operator new(std::size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace sinapsis {
namespace {

// Steps of a 5-16-8-3 net with dropout and penalties, with `optimizer`:
// none allocates.
void expect_steps_allocate_nothing(const OptimizerOptions& optimizer) {
  const std::size_t n = 64;
  Dataset d;
  d.task = Task::classification;
  d.classes = 3;
  d.features = Matrix<float>(n, 5);
  for (std::size_t i = 0; i < n; ++i) {
    d.labels.push_back(std::int64_t(i % 3));
    for (std::size_t j = 0; j < 5; ++j) d.features(i, j) = float((i * 7 + j * 3) % 11) / 11.0f;
  }
  Model<float> model(Architecture::mlp(5, std::vector<std::size_t>{16, 8}, Activation::relu, 3, Activation::softmax));
  initialize(model, Initializer::he, 1);
  const auto t = encode<float>(d, Loss::categorical_cross_entropy, Activation::softmax, 3, "train");
  TrainOptions o;
  o.loss = Loss::categorical_cross_entropy;
  o.batch = 10;
  o.keep_prob = 0.8;
  o.optimizer = optimizer;
  const std::size_t at_setup = g_allocations.load();
  Trainer<float> trainer(model, t, nullptr, o);
  EXPECT_GT(g_allocations.load(), at_setup) << "the counter must see setup's allocations";
  trainer.step(0, 10, 0.1);  // warm-up: lets BLAS set up its buffers
  const std::size_t before = g_allocations.load();
  double loss = 0;
  for (std::size_t first = 0; first + 10 <= n; first += 10) loss += trainer.step(first, 10, 0.1);
  loss += trainer.step(60, 4, 0.1);  // a short last batch too
  EXPECT_EQ(g_allocations.load() - before, 0u);
  EXPECT_TRUE(std::isfinite(loss));
}

TEST(NoAllocation, TrainingStepAllocatesNothing) { expect_steps_allocate_nothing({0.9, true, {0.001, 0.01}}); }

TEST(NoAllocation, AdamAdamWAndRmspropStepsAllocateNothing) {
  for (const OptimizerKind kind : {OptimizerKind::adam, OptimizerKind::adamw, OptimizerKind::rmsprop}) {
    SCOPED_TRACE(std::string(optimizer_name(kind)));
    OptimizerOptions o;
    o.kind = kind;
    o.penalty = {0.001, 0.01};
    o.weight_decay = kind == OptimizerKind::adamw ? 0.01 : 0.0;
    o.momentum = kind == OptimizerKind::rmsprop ? 0.5 : 0.0;
    expect_steps_allocate_nothing(o);
  }
}

}  // namespace
}  // namespace sinapsis
