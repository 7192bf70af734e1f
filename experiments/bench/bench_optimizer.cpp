// The optimizer's update alone, per step, for the parameters of the wide net
// of bench_engine (784-1024-1024-10: 1,863,690 values, 1,861,632 weights),
// as train runs it: float32, L2 on the weights. sgd with momentum is the
// baseline; adam, adamw and rmsprop are measured in the same run.
//
//   build/release/experiments/bench_optimizer --benchmark_repetitions=9 --benchmark_report_aggregates_only=true
//
// Issue 15 asks adam's update to cost at most 1.5x sgd-momentum's
// (BENCHMARKS.md: "The optimizer's update").
#include <benchmark/benchmark.h>

#include <vector>

#include "core/optimizer.hpp"

namespace {

using sinapsis::OptimizerKind;
using sinapsis::OptimizerOptions;

constexpr std::size_t kParameters = 784 * 1024 + 1024 + 1024 * 1024 + 1024 + 1024 * 10 + 10;
constexpr std::size_t kWeights = 784 * 1024 + 1024 * 1024 + 1024 * 10;

void update(benchmark::State& state, OptimizerKind kind) {
  OptimizerOptions o;
  o.kind = kind;
  o.penalty = {0, 1e-4};
  if (kind == OptimizerKind::sgd) o.momentum = 0.9;
  if (kind == OptimizerKind::adamw) o.weight_decay = 0.01;
  sinapsis::Optimizer<float> optimizer(kParameters, kWeights, o);
  std::vector<float> parameters(kParameters), gradients(kParameters);
  for (std::size_t i = 0; i < kParameters; ++i) {
    parameters[i] = 0.01f * float(i % 97) - 0.4f;
    gradients[i] = 1e-3f * float(i % 89) - 0.04f;
  }
  for (auto _ : state) {
    optimizer.step(parameters, gradients, 1e-3);
    benchmark::DoNotOptimize(parameters.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(kParameters * sizeof(float)));
}

BENCHMARK_CAPTURE(update, sgd_momentum, OptimizerKind::sgd)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(update, adam, OptimizerKind::adam)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(update, adamw, OptimizerKind::adamw)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(update, rmsprop, OptimizerKind::rmsprop)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
