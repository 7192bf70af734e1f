// Speed of the core engine: one full sinapsis training step on three MLPs,
// against bare sgemm calls of the same shapes (and, in run.sh, PyTorch).
//
//   wide    784-1024-1024-10  relu/softmax + cce   batch 256   (GEMM-bound)
//   medium  784-256-128-10    relu/softmax + cce   batch 128
//   tiny    2-8-8-1           tanh/tanh + mse      batch 10    (Playground size)
//
// A step is what Trainer::step does minus gathering the batch rows: zero the
// gradients, forward, loss_sum, backward, Sgd::step (momentum 0.9). The batch
// cycles through a small pool of fixed random batches (seeded), so a long run
// neither memorises one batch nor drives values into subnormals (reported as
// the counter subnormal_params, expected 0).
//
// Benchmarks (select with --benchmark_filter):
//   step/<net>         the training step                       (run.sh)
//   sgemm_only/<net>   the 8 cblas_sgemm calls a step makes:   (run.sh)
//                      3 forward, 3 weight-gradient (beta = 1),
//                      2 input-gradient (the first layer has no dX)
//   paired/<net>       wide and medium: step and sgemm calls alternated,
//                      each timed per iteration; counters give the ratio (run.sh)
//   timed_step/<net>   wide and medium: the step with each piece timed inside
//                      it; counters give per-piece times (run.sh --breakdown)
//   part/<net>/<what>  one piece of the step repeated alone, for breakdowns:
//                      zero_grad, forward, loss, backward, sgd, and the
//                      sgemm calls of forward / backward alone
//                      (sgemm_forward, sgemm_backward)
//
// Always on one BLAS thread, with the fast OpenBLAS kernel (see
// core/blas_runtime.hpp). Each benchmark reports the median (and mean,
// stddev, cv) over kRepetitions repetitions of both wall-clock ("Time") and
// thread CPU time ("CPU"); run.sh compares CPU times, which other processes
// on a shared machine disturb much less.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <time.h>  // clock_gettime(CLOCK_THREAD_CPUTIME_ID)

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/architecture.hpp"
#include "core/blas_runtime.hpp"
#include "core/init.hpp"
#include "core/loss.hpp"
#include "core/model.hpp"
#include "core/network.hpp"
#include "core/optimizer.hpp"
#include "core/random.hpp"

namespace {

using namespace sinapsis;

constexpr int kRepetitions = 10;
constexpr double kMinSecondsPerRepetition = 0.2;
constexpr std::uint64_t kSeed = 12345;

struct NetSpec {
  const char* name;
  std::size_t inputs;
  std::vector<std::size_t> hidden;
  Activation hidden_activation;
  std::size_t outputs;
  Activation output_activation;
  Loss loss;
  std::size_t batch;
  std::size_t pool_batches;  // distinct fixed batches the steps cycle through
  double learning_rate;
};

const std::vector<NetSpec>& nets() {
  static const std::vector<NetSpec> specs = {
      {"wide", 784, {1024, 1024}, Activation::relu, 10, Activation::softmax,
       Loss::categorical_cross_entropy, 256, 4, 0.01},
      {"medium", 784, {256, 128}, Activation::relu, 10, Activation::softmax,
       Loss::categorical_cross_entropy, 128, 8, 0.01},
      {"tiny", 2, {8, 8}, Activation::tanh, 1, Activation::tanh, Loss::mse, 10, 50, 0.01},
  };
  return specs;
}

// Fixed random data: classification nets get inputs in [0, 1) (pixel-like)
// and uniform random one-hot labels; the tiny net gets Playground-style XOR
// points in [-5, 5]^2 with targets sign(x1 x2) = +-1, 10 % of them flipped.
void fill_data(const NetSpec& spec, Matrix<float>& x, Matrix<float>& t) {
  const std::size_t rows = spec.batch * spec.pool_batches;
  x = Matrix<float>(rows, spec.inputs);
  t = Matrix<float>(rows, spec.outputs);
  Rng rng(derive_seed({kSeed, 100}));
  for (std::size_t r = 0; r < rows; ++r) {
    if (spec.outputs == 1) {
      const double a = rng.uniform(-5, 5), b = rng.uniform(-5, 5);
      double label = a * b >= 0 ? 1 : -1;
      if (rng.uniform() < 0.1) label = -label;
      x(r, 0) = float(a);
      x(r, 1) = float(b);
      t(r, 0) = float(label);
    } else {
      for (std::size_t c = 0; c < spec.inputs; ++c) x(r, c) = float(rng.uniform());
      t(r, rng.below(spec.outputs)) = 1;
    }
  }
}

// Everything a training step touches, planned up front as the Trainer does.
class Engine {
 public:
  explicit Engine(const NetSpec& spec)
      : spec_(spec),
        model_(Architecture::mlp(spec.inputs, spec.hidden, spec.hidden_activation, spec.outputs,
                                 spec.output_activation)),
        ws_(model_.architecture(), spec.batch),
        sgd_(model_.parameters().size(), model_.weight_count(), OptimizerOptions{0.9, false, {}}) {
    initialize(model_, spec.hidden_activation == Activation::relu ? Initializer::he
                                                                   : Initializer::glorot,
               kSeed);
    fill_data(spec, x_, t_);
  }

  ConstMatrixView<float> x() const {
    return {x_.values.data() + cursor_ * spec_.batch * spec_.inputs, spec_.batch, spec_.inputs};
  }
  ConstMatrixView<float> t() const {
    return {t_.values.data() + cursor_ * spec_.batch * spec_.outputs, spec_.batch, spec_.outputs};
  }
  void next_batch() { cursor_ = (cursor_ + 1) % spec_.pool_batches; }

  // The pieces of Trainer::step, in its order.
  void zero_grad() { model_.zero_gradients(); }
  void forward_pass() { forward(model_, ws_, x()); }
  double loss() {
    return loss_sum<float>(spec_.loss, ws_.logits(spec_.batch), ws_.output(spec_.batch), t());
  }
  void backward_pass() {
    const float scale = float(1 / loss_normalizer(spec_.loss, spec_.batch, spec_.outputs));
    backward(model_, ws_, x(), t(), spec_.loss, scale, 1.0);
  }
  void sgd_step() { sgd_.step(model_.parameters(), model_.gradients(), spec_.learning_rate); }

  double step() {
    zero_grad();
    forward_pass();
    const double l = loss();
    backward_pass();
    sgd_step();
    next_batch();
    return l;
  }

  double subnormal_parameters() const {
    std::size_t n = 0;
    for (float v : model_.parameters()) n += std::fpclassify(v) == FP_SUBNORMAL;
    return double(n);
  }

 private:
  NetSpec spec_;
  Model<float> model_;
  Workspace<float> ws_;
  Optimizer<float> sgd_;
  Matrix<float> x_, t_;
  std::size_t cursor_ = 0;
};

// 2 m n k per GEMM, summed over the 8 products of a step.
double step_flops(const NetSpec& spec) {
  double flops = 0;
  std::size_t fan_in = spec.inputs;
  std::vector<std::size_t> widths = spec.hidden;
  widths.push_back(spec.outputs);
  for (std::size_t l = 0; l < widths.size(); ++l) {
    const double mnk = double(spec.batch) * double(fan_in) * double(widths[l]);
    flops += 2 * mnk * (l == 0 ? 2 : 3);  // forward, dW, and dX except layer 0
    fan_in = widths[l];
  }
  return flops;
}

void set_rate_counters(benchmark::State& state, const NetSpec& spec) {
  using benchmark::Counter;
  state.counters["steps/s"] = Counter(double(state.iterations()), Counter::kIsRate);
  state.counters["samples/s"] =
      Counter(double(state.iterations()) * double(spec.batch), Counter::kIsRate);
  state.counters["GFLOP/s"] =
      Counter(double(state.iterations()) * step_flops(spec) / 1e9, Counter::kIsRate);
}

void bench_step(benchmark::State& state, const NetSpec& spec) {
  Engine engine(spec);
  double loss = 0;
  for (int i = 0; i < 3; ++i) loss += engine.step();  // warm up caches and OpenBLAS buffers
  for (auto _ : state) {
    loss = engine.step();
    benchmark::DoNotOptimize(loss);
  }
  set_rate_counters(state, spec);
  state.counters["loss"] = loss;
  state.counters["subnormal_params"] = engine.subnormal_parameters();
}

enum class Part { zero_grad, forward, loss, backward, sgd };

void bench_part(benchmark::State& state, const NetSpec& spec, Part part) {
  Engine engine(spec);
  for (int i = 0; i < 3; ++i) engine.step();
  engine.zero_grad();
  engine.forward_pass();  // loss/backward need the forward state
  double sink = 0;
  for (auto _ : state) {
    switch (part) {
      case Part::zero_grad: engine.zero_grad(); break;
      case Part::forward: engine.forward_pass(); break;
      case Part::loss: sink += engine.loss(); break;
      case Part::backward: engine.backward_pass(); break;  // accumulates: fine for timing
      case Part::sgd: engine.sgd_step(); break;
    }
    benchmark::DoNotOptimize(sink);
    benchmark::ClobberMemory();
  }
  state.counters["steps/s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}

enum class Gemms { all, forward, backward };

// The 8 sgemm calls of one step, with exactly the shapes, transposes, leading
// dimensions and betas of core/dense.hpp, in the engine's order, on their own
// buffers of random values:
//   forward  Y_l  = 1 * A_{l-1} W_l + 1 * Y_l  (Y_l pre-filled with the bias)
//   backward dW_l = 1 * A_{l-1}^T dY_l + 1 * dW_l;  dX = dY_l W_l^T (beta 0, l > 0)
class BareGemms {
 public:
  explicit BareGemms(const NetSpec& spec) : n_(int(spec.batch)) {
    width_.push_back(int(spec.inputs));
    for (std::size_t h : spec.hidden) width_.push_back(int(h));
    width_.push_back(int(spec.outputs));
    Rng rng(derive_seed({kSeed, 200}));
    auto random_buffer = [&](std::size_t size) {
      std::vector<float> v(size);
      for (float& f : v) f = float(rng.uniform(-0.1, 0.1));
      return v;
    };
    for (int l = 0; l <= layers(); ++l) act_.push_back(random_buffer(std::size_t(n_) * width_[l]));
    for (int l = 0; l < layers(); ++l) {
      delta_.push_back(random_buffer(std::size_t(n_) * width_[l + 1]));
      w_.push_back(random_buffer(std::size_t(width_[l]) * width_[l + 1]));
      dw_.push_back(random_buffer(std::size_t(width_[l]) * width_[l + 1]));
    }
  }

  void run(Gemms which) {
    const int n = n_;
    if (which != Gemms::backward)
      for (int l = 0; l < layers(); ++l) {
        const int k = width_[l], m = width_[l + 1];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, m, k, 1.0f, act_[l].data(), k,
                    w_[l].data(), m, 1.0f, act_[l + 1].data(), m);
      }
    if (which == Gemms::forward) return;
    for (int l = layers(); l-- > 0;) {
      const int k = width_[l], m = width_[l + 1];
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, m, n, 1.0f, act_[l].data(), k,
                  delta_[l].data(), m, 1.0f, dw_[l].data(), m);
      if (l > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, k, m, 1.0f, delta_[l].data(), m,
                    w_[l].data(), m, 0.0f, delta_[l - 1].data(), k);
    }
  }

 private:
  int layers() const { return int(width_.size()) - 1; }
  int n_;
  std::vector<int> width_;
  // act_[l]: the input of layer l (act_[0] = X), [n, width[l]]; delta_[l]: dL/dY_l.
  std::vector<std::vector<float>> act_, delta_, w_, dw_;
};

void bench_sgemm_only(benchmark::State& state, const NetSpec& spec, Gemms which) {
  BareGemms gemms(spec);
  for (int i = 0; i < 3; ++i) gemms.run(which);
  for (auto _ : state) {
    gemms.run(which);
    benchmark::ClobberMemory();
  }
  if (which == Gemms::all)
    set_rate_counters(state, spec);
  else
    state.counters["steps/s"] =
        benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}

double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}
double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

// The same comparison as step/<net> vs sgemm_only/<net>, but paired: each
// iteration times one training step, then one set of bare sgemm calls, so a
// burst of load from other processes hits both alike. Counters (per
// repetition, then the median over repetitions): the median step and sgemm
// times in ms (thread CPU time and wall-clock) and their ratio.
void bench_paired(benchmark::State& state, const NetSpec& spec) {
  Engine engine(spec);
  BareGemms gemms(spec);
  for (int i = 0; i < 3; ++i) {
    engine.step();
    gemms.run(Gemms::all);
  }
  std::vector<double> step_cpu, gemm_cpu, step_wall, gemm_wall;
  for (auto _ : state) {
    const double c0 = thread_seconds(), w0 = wall_seconds();
    benchmark::DoNotOptimize(engine.step());
    const double c1 = thread_seconds(), w1 = wall_seconds();
    gemms.run(Gemms::all);
    benchmark::ClobberMemory();
    const double c2 = thread_seconds(), w2 = wall_seconds();
    step_cpu.push_back(c1 - c0);
    gemm_cpu.push_back(c2 - c1);
    step_wall.push_back(w1 - w0);
    gemm_wall.push_back(w2 - w1);
  }
  const double sc = median(step_cpu), gc = median(gemm_cpu);
  const double sw = median(step_wall), gw = median(gemm_wall);
  state.counters["step_cpu_ms"] = 1e3 * sc;
  state.counters["sgemm_cpu_ms"] = 1e3 * gc;
  state.counters["ratio_cpu"] = sc / gc;
  state.counters["step_wall_ms"] = 1e3 * sw;
  state.counters["sgemm_wall_ms"] = 1e3 * gw;
  state.counters["ratio_wall"] = sw / gw;
}

// The step again, with each piece timed (thread CPU time) inside consecutive
// steps, so the pieces see the caches a real step leaves behind (part/* times
// each piece repeated alone, with its own data hot). Counters: per-piece
// medians over iterations in ms.
void bench_timed_step(benchmark::State& state, const NetSpec& spec) {
  Engine engine(spec);
  for (int i = 0; i < 3; ++i) engine.step();
  constexpr int kPieces = 5;
  const char* names[kPieces] = {"zero_grad_ms", "forward_ms", "loss_ms", "backward_ms", "sgd_ms"};
  std::vector<double> times[kPieces];
  double sink = 0;
  for (auto _ : state) {
    double t[kPieces + 1];
    t[0] = thread_seconds();
    engine.zero_grad();
    t[1] = thread_seconds();
    engine.forward_pass();
    t[2] = thread_seconds();
    sink += engine.loss();
    t[3] = thread_seconds();
    engine.backward_pass();
    t[4] = thread_seconds();
    engine.sgd_step();
    t[5] = thread_seconds();
    engine.next_batch();
    for (int p = 0; p < kPieces; ++p) times[p].push_back(t[p + 1] - t[p]);
    benchmark::DoNotOptimize(sink);
  }
  for (int p = 0; p < kPieces; ++p) state.counters[names[p]] = 1e3 * median(times[p]);
}

// SINAPSIS_BENCH_REPETITIONS overrides kRepetitions (run.sh --repetitions).
int repetitions() {
  const char* text = std::getenv("SINAPSIS_BENCH_REPETITIONS");
  const int n = text != nullptr ? std::atoi(text) : 0;
  return n > 0 ? n : kRepetitions;
}

benchmark::internal::Benchmark* configure(benchmark::internal::Benchmark* b) {
  return b->Repetitions(repetitions())
      ->ReportAggregatesOnly(true)
      ->MinTime(kMinSecondsPerRepetition)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
}

void register_benchmarks() {
  for (const NetSpec& spec : nets()) {
    const std::string net = spec.name;
    configure(benchmark::RegisterBenchmark(("step/" + net).c_str(), bench_step, spec));
    configure(benchmark::RegisterBenchmark(("sgemm_only/" + net).c_str(), bench_sgemm_only, spec,
                                           Gemms::all));
    if (spec.batch >= 128) {  // ms-scale steps: per-iteration clock reads are negligible
      configure(benchmark::RegisterBenchmark(("paired/" + net).c_str(), bench_paired, spec))
          ->MinTime(3 * kMinSecondsPerRepetition);
      configure(benchmark::RegisterBenchmark(("timed_step/" + net).c_str(), bench_timed_step, spec));
    }
    configure(benchmark::RegisterBenchmark(("part/" + net + "/sgemm_forward").c_str(),
                                           bench_sgemm_only, spec, Gemms::forward));
    configure(benchmark::RegisterBenchmark(("part/" + net + "/sgemm_backward").c_str(),
                                           bench_sgemm_only, spec, Gemms::backward));
    const std::pair<const char*, Part> parts[] = {{"zero_grad", Part::zero_grad},
                                                  {"forward", Part::forward},
                                                  {"loss", Part::loss},
                                                  {"backward", Part::backward},
                                                  {"sgd", Part::sgd}};
    for (const auto& [what, part] : parts)
      configure(benchmark::RegisterBenchmark(("part/" + net + "/" + what).c_str(), bench_part,
                                             spec, part));
  }
}

}  // namespace

int main(int argc, char** argv) {
  sinapsis::ensure_fast_blas_kernel(argv);
  sinapsis::set_blas_threads(1);
  const sinapsis::BlasRuntime blas = sinapsis::blas_runtime();
  benchmark::AddCustomContext("blas_kernel", blas.kernel);
  benchmark::AddCustomContext("blas_threads", std::to_string(blas.threads));
  benchmark::AddCustomContext("blas_library", blas.library);
  register_benchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
