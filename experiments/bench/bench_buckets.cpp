// The gradient exchange inside the training step, fused or overlapped with
// backward (issue 12: "choose the mechanism by measurement").
//
//   export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1   # as root only
//   mpirun -n 2 BUILD/experiments/bench_buckets [--net medium|wide] [--rows R]
//          [--bucket-mb M] [--poll-us P] [--rounds N] [--steps S]
//
// Every rank trains the medium (784-256-128-10) or wide (784-1024-1024-10)
// relu/softmax + cce net on a fixed random batch of R rows (default 128,
// momentum 0.9, 1 BLAS thread); a step is zero, forward, loss, backward,
// gradient sum, SGD. Variants:
//   compute  no sum: each rank's compute alone
//   comm     the fused sum alone, no compute: the exchange's own time
//   fused    MPI_Allreduce over the whole flat gradient after backward
//            (the trainer with --overlap off)
//   thread   buckets of M MB (BucketPlan) started from backward's hook and
//            summed by blocking MPI_Allreduce calls on a background thread
//            (dist/background_sums.hpp, ExchangeWait{polled = false})
//   nice     thread, with the background thread at nice 19 (ExchangeWait::nice)
//   poll     the same thread, each bucket an MPI_Iallreduce it tests every
//            P microseconds (--poll-us, default 100), sleeping in between
//            (ExchangeWait{polled = true}: the trainer's --overlap on)
//   nbc      the same buckets as MPI_Iallreduce, progressed by MPI_Testall
//            from backward's hook, MPI_Waitall before SGD (the alternative:
//            nonblocking collectives, no thread)
// A round runs S steps of each variant, in an order that rotates between
// rounds, each block after an MPI_Barrier; a variant's time per step is the
// block's wall time / S on the slowest rank. Printed on rank 0: the median
// over rounds of each variant's ms/step and samples/s (all ranks), the
// ratios to fused, and each overlapped variant against max(compute, comm).
// Exits 0 whatever the numbers (a benchmark, not a test).
#include <mpi.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "core/blas_runtime.hpp"
#include "core/gradient_buckets.hpp"
#include "core/init.hpp"
#include "core/network.hpp"
#include "core/optimizer.hpp"
#include "core/random.hpp"
#include "dist/communicator_group.hpp"

namespace {

using namespace sinapsis;

enum Variant { compute, comm, fused, thread, nice, poll, nbc, kVariants };
constexpr const char* kNames[kVariants] = {"compute", "comm", "fused", "thread", "nice", "poll", "nbc"};

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
  Step(int rank, const std::vector<std::size_t>& hidden, std::size_t rows, std::size_t bucket_floats,
       CommunicatorGroup& blocking, CommunicatorGroup& niced, CommunicatorGroup& polled)
      : model_(Architecture::mlp(784, hidden, Activation::relu, 10, Activation::softmax)),
        ws_(model_.architecture(), rows),
        sgd_(model_.parameters().size(), model_.weight_count(), OptimizerOptions{0.9, false, {}}),
        plan_(model_.architecture(), Model<float>::kControlSlots, bucket_floats),
        blocking_(blocking),
        niced_(niced),
        polled_(polled),
        rows_(rows),
        x_(rows * 784),
        t_(rows * 10, 0.f) {
    initialize(model_, Initializer::he, 1);  // the same on every rank, as after the broadcast
    Rng rng(derive_seed({7, std::uint64_t(rank)}));
    for (auto& v : x_) v = float(rng.uniform());
    for (std::size_t r = 0; r < rows; ++r) t_[r * 10 + rng.below(10)] = 1.f;
    requests_.reserve(plan_.ranges().size());
  }

  std::size_t buckets() const { return plan_.ranges().size(); }
  std::size_t bytes() { return model_.gradients_and_control().size() * sizeof(float); }

  void run(Variant variant) {
    const std::span<float> all = model_.gradients_and_control();
    if (variant == comm) {
      sum(all.data(), all.size());
      return;
    }
    const ConstMatrixView<float> x{x_.data(), rows_, 784}, t{t_.data(), rows_, 10};
    model_.zero_gradients();
    forward(model_, ws_, x);
    loss_sum<float>(Loss::categorical_cross_entropy, ws_.logits(rows_), ws_.output(rows_), t);
    const float scale = 1.f / float(rows_);
    std::size_t block = 0;
    requests_.clear();
    if (variant == thread || variant == nice || variant == poll) {
      CommunicatorGroup& group = variant == thread ? blocking_ : variant == nice ? niced_ : polled_;
      backward(model_, ws_, x, t, Loss::categorical_cross_entropy, scale, 1.0, plan_.chunk_rows(),
               [&](std::size_t, std::size_t) {
                 for (const auto& r : plan_.after(block++)) group.start_sum(all.subspan(r.offset, r.count), GradPrecision::fp32);
               });
      group.wait_sums();
    } else if (variant == nbc) {
      backward(model_, ws_, x, t, Loss::categorical_cross_entropy, scale, 1.0, plan_.chunk_rows(),
               [&](std::size_t, std::size_t) {
                 for (const auto& r : plan_.after(block++)) start(all.data() + r.offset, r.count);
                 check(MPI_Testall(int(requests_.size()), requests_.data(), &flag_, MPI_STATUSES_IGNORE),
                       "MPI_Testall");
               });
      check(MPI_Waitall(int(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
    } else {
      backward(model_, ws_, x, t, Loss::categorical_cross_entropy, scale, 1.0);
      if (variant == fused) sum(all.data(), all.size());
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
  Optimizer<float> sgd_;
  BucketPlan plan_;
  CommunicatorGroup& blocking_;
  CommunicatorGroup& niced_;
  CommunicatorGroup& polled_;
  std::size_t rows_;
  std::vector<float> x_, t_;
  std::vector<MPI_Request> requests_;
  int flag_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  ensure_fast_blas_kernel(argv);
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int rounds = 7, steps = 300;
  std::size_t rows = 128;
  double bucket_mb = 1;
  int poll_us = 100;
  std::string net = "medium";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--steps") == 0) steps = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--rows") == 0) rows = std::size_t(std::atol(argv[i + 1]));
    if (std::strcmp(argv[i], "--bucket-mb") == 0) bucket_mb = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--poll-us") == 0) poll_us = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--net") == 0) net = argv[i + 1];
  }
  const std::vector<std::size_t> hidden =
      net == "wide" ? std::vector<std::size_t>{1024, 1024} : std::vector<std::size_t>{256, 128};
  set_blas_threads(1);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  {
    const auto communicator = make_communicator();
    CommunicatorGroup group(*communicator, true, {false, {}, 0});
    CommunicatorGroup niced(*communicator, true, {false, {}, 19});
    CommunicatorGroup polled(*communicator, true, {true, std::chrono::microseconds(poll_us), 0});
    Step step(rank, hidden, rows, std::size_t(bucket_mb * 1024 * 1024 / sizeof(float)), group, niced, polled);
    for (int v = 0; v < kVariants; ++v)
      for (int i = 0; i < 20; ++i) step.run(Variant(v));  // warm-up

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
      std::printf("bench_buckets: %d ranks, %d rounds x %d steps, %s net, %zu rows per rank, %.3g MB buckets (%zu), "
                  "%zu gradient bytes, poll %d us, thread level %d, background %s, BLAS kernel %s\n",
                  ranks, rounds, steps, net.c_str(), rows, bucket_mb, step.buckets(), step.bytes(), poll_us, provided,
                  group.background() ? "yes" : "no", blas_runtime().kernel.c_str());
      std::printf("%-9s %10s %12s %16s %9s %14s\n", "variant", "ms/step", "samples/s", "min..max ms", "vs fused",
                  "vs max(cp,cm)");
      const double fused_ms = median(per_step[fused]) * 1e3;
      const double bound_ms = std::max(median(per_step[compute]), median(per_step[comm])) * 1e3;
      for (int v = 0; v < kVariants; ++v) {
        const double ms = median(per_step[v]) * 1e3;
        const auto [lo, hi] = std::minmax_element(per_step[v].begin(), per_step[v].end());
        std::printf("%-9s %10.3f %12.0f %7.3f..%-8.3f %9.3f %14.3f\n", kNames[v], ms,
                    v == comm ? 0.0 : double(ranks * rows) / ms * 1e3, *lo * 1e3, *hi * 1e3, ms / fused_ms,
                    ms / bound_ms);
      }
    }
  }
  MPI_Finalize();
  return 0;
}
