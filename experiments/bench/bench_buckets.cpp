// One fused gradient allreduce after backward, against per-layer buckets,
// blocking or overlapped with backward (issue 4: "in ONE fused allreduce ...
// or in buckets overlapped with backward, if that is measured faster").
//
//   export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1   # as root only
//   mpirun -n 2 BUILD/experiments/bench_buckets [--rounds N] [--steps S]
//
// Every rank trains the medium net (784-256-128-10 relu/softmax + cce, 128
// rows per rank, momentum 0.9, 1 BLAS thread) on a fixed random batch; a
// step is zero, forward, loss, backward, gradient sum, SGD. Four ways to sum:
//   none        no sum (each rank's compute alone: the ceiling)
//   fused       MPI_Allreduce over the whole flat gradient after backward
//               (what Trainer::step_batch does)
//   buckets     after backward, one MPI_Allreduce per layer's dW and db
//   overlapped  MPI_Iallreduce of layer l's dW and db started the moment
//               backward finishes layer l (output layer first, via
//               backward()'s on_layer_done hook), each followed by an
//               MPI_Testall to push progress; MPI_Waitall before SGD
// A round runs S steps of each variant, in an order that rotates between
// rounds, each block after an MPI_Barrier; a variant's time per step is the
// block's wall time / S on the slowest rank. Printed on rank 0: the median
// over rounds of each variant's ms/step and samples/s (all ranks), and the
// ratios to fused. Exits 0 whatever the numbers (a benchmark, not a test).
#include <mpi.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/blas_runtime.hpp"
#include "core/init.hpp"
#include "core/network.hpp"
#include "core/optimizer.hpp"
#include "core/random.hpp"

namespace {

using namespace sinapsis;

constexpr std::size_t kRows = 128;
enum Variant { none, fused, buckets, overlapped, kVariants };
constexpr const char* kNames[kVariants] = {"none", "fused", "buckets", "overlapped"};

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t mid = v.size() / 2;
  return v.size() % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

void check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  std::fprintf(stderr, "bench_buckets: %s failed (code %d)\n", what, code);
  MPI_Abort(MPI_COMM_WORLD, 1);
}

class Step {
 public:
  explicit Step(int rank)
      : model_(Architecture::mlp(784, std::vector<std::size_t>{256, 128}, Activation::relu, 10, Activation::softmax)),
        ws_(model_.architecture(), kRows),
        sgd_(model_.parameters().size(), model_.weight_count(), SgdOptions{0.9, false, {}}),
        x_(kRows * 784),
        t_(kRows * 10, 0.f) {
    initialize(model_, Initializer::he, 1);  // the same on every rank, as after the broadcast
    Rng rng(derive_seed({7, std::uint64_t(rank)}));
    for (auto& v : x_) v = float(rng.uniform());
    for (std::size_t r = 0; r < kRows; ++r) t_[r * 10 + rng.below(10)] = 1.f;
    requests_.reserve(2 * model_.layer_count());
  }

  void run(Variant variant) {
    const ConstMatrixView<float> x{x_.data(), kRows, 784}, t{t_.data(), kRows, 10};
    model_.zero_gradients();
    forward(model_, ws_, x);
    loss_sum<float>(Loss::categorical_cross_entropy, ws_.logits(kRows), ws_.output(kRows), t);
    const float scale = 1.f / float(kRows);
    requests_.clear();
    if (variant == overlapped) {
      backward(model_, ws_, x, t, Loss::categorical_cross_entropy, scale, 1.0, [&](std::size_t l) {
        start(model_.weight_gradient(l).data, model_.weight_gradient(l).size());
        start(model_.bias_gradient(l).data(), model_.bias_gradient(l).size());
        check(MPI_Testall(int(requests_.size()), requests_.data(), &flag_, MPI_STATUSES_IGNORE), "MPI_Testall");
      });
      check(MPI_Waitall(int(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
    } else {
      backward(model_, ws_, x, t, Loss::categorical_cross_entropy, scale, 1.0);
      if (variant == fused) sum(model_.gradients().data(), model_.gradients().size());
      if (variant == buckets)
        for (std::size_t l = model_.layer_count(); l-- > 0;) {
          sum(model_.weight_gradient(l).data, model_.weight_gradient(l).size());
          sum(model_.bias_gradient(l).data(), model_.bias_gradient(l).size());
        }
    }
    sgd_.step(model_.parameters(), model_.gradients(), 1e-4);  // small: values stay finite
  }

 private:
  static void sum(float* data, std::size_t n) {
    check(MPI_Allreduce(MPI_IN_PLACE, data, int(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
  }
  void start(float* data, std::size_t n) {
    requests_.emplace_back();
    check(MPI_Iallreduce(MPI_IN_PLACE, data, int(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &requests_.back()),
          "MPI_Iallreduce");
  }

  Model<float> model_;
  Workspace<float> ws_;
  Sgd<float> sgd_;
  std::vector<float> x_, t_;
  std::vector<MPI_Request> requests_;
  int flag_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  ensure_fast_blas_kernel(argv);
  MPI_Init(&argc, &argv);
  int rounds = 7, steps = 300;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--steps") == 0) steps = std::atoi(argv[i + 1]);
  }
  set_blas_threads(1);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  Step step(rank);
  for (int v = 0; v < kVariants; ++v)
    for (int i = 0; i < 30; ++i) step.run(Variant(v));  // warm-up

  std::array<std::vector<double>, kVariants> per_step;
  for (int round = 0; round < rounds; ++round)
    for (int k = 0; k < kVariants; ++k) {
      const auto variant = Variant((k + round) % kVariants);
      check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
      const double t0 = now();
      for (int s = 0; s < steps; ++s) step.run(variant);
      double mine = (now() - t0) / steps, slowest = 0;
      check(MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
      per_step[variant].push_back(slowest);
    }
  if (rank == 0) {
    std::printf("bench_buckets: %d ranks, %d rounds x %d steps, medium net, %zu rows per rank, BLAS kernel %s\n",
                ranks, rounds, steps, kRows, blas_runtime().kernel.c_str());
    std::printf("%-11s %10s %12s %14s %10s\n", "variant", "ms/step", "samples/s", "min..max ms", "vs fused");
    const double fused_ms = median(per_step[fused]) * 1e3;
    for (int v = 0; v < kVariants; ++v) {
      const double ms = median(per_step[v]) * 1e3;
      const auto [lo, hi] = std::minmax_element(per_step[v].begin(), per_step[v].end());
      std::printf("%-11s %10.3f %12.0f %7.3f..%-6.3f %10.3f\n", kNames[v], ms, double(ranks * kRows) / ms * 1e3,
                  *lo * 1e3, *hi * 1e3, ms / fused_ms);
    }
  }
  MPI_Finalize();
  return 0;
}
