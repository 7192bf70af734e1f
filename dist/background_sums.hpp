// Sums of gradient buckets on a thread of their own, so the exchange runs
// while backward computes the next bucket (Horovod's background thread; a
// bucket is a part of the one flat gradient buffer, see
// core/gradient_buckets.hpp).
//
// Protocol: the training thread start()s sums and later wait()s for all of
// them; the background thread takes them one at a time, in the order
// started, and makes the blocking allreduce itself (so MPI needs at least
// MPI_THREAD_SERIALIZED: only one thread calls MPI on this communicator at a
// time, since the training thread makes no call of its own between start()
// and wait()). Every rank starts the same sums in the same order, so the
// collectives match. The first failure stops the queue and is rethrown by
// wait(). Nothing is allocated per step once the queue has held a step's
// buckets.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "dist/communicator.hpp"

namespace sinapsis {

// How the background thread waits for a sum: inside a blocking allreduce
// (which spins, unless mpi_yield_when_idle), or by testing a nonblocking
// one every `poll` and sleeping in between. Blocking is the default: on 2
// emulated hosts polling cost 1.2-1.8x the blocking thread's step
// (BENCHMARKS.md, "Overlap"): Open MPI's nonblocking collectives are slower
// than its tuned blocking ones, and every wake-up preempts compute.
// `nice` > 0 lowers the thread's scheduling priority by that much (Linux
// setpriority on the thread): where it shares a core with compute, its
// spinning then yields the core to compute, and it runs when compute waits
// (measured 1-5 % faster than nice 0 in 5 of 6 configurations; on a core of
// its own it changes nothing).
struct ExchangeWait {
  bool polled = false;
  std::chrono::microseconds poll{100};
  int nice = 19;
};

class BackgroundSums {
 public:
  explicit BackgroundSums(Communicator& comm, ExchangeWait wait = {});
  ~BackgroundSums();
  BackgroundSums(const BackgroundSums&) = delete;
  BackgroundSums& operator=(const BackgroundSums&) = delete;

  void start(std::span<float> values, GradPrecision precision) {
    push({values.data(), nullptr, values.size(), precision});
  }
  void start(std::span<double> values) { push({nullptr, values.data(), values.size(), GradPrecision::fp32}); }
  // Returns when every started sum is done; rethrows the first failure.
  void wait();
  // Seconds spent inside the sums so far.
  double busy_seconds() const;

 private:
  struct Job {
    float* floats = nullptr;
    double* doubles = nullptr;
    std::size_t count = 0;
    GradPrecision precision = GradPrecision::fp32;
  };
  void push(Job job);
  void sum(const Job& job);
  void run();

  Communicator& comm_;
  ExchangeWait wait_;
  mutable std::mutex mutex_;
  std::condition_variable work_, done_;
  std::vector<Job> queue_;   // the started sums; [next_, size) still to do
  std::size_t next_ = 0;     // the next to take
  std::size_t finished_ = 0; // sums done (or skipped after a failure)
  std::exception_ptr failure_;
  double busy_seconds_ = 0;
  bool stop_ = false;
  std::thread thread_;       // last: starts once the rest is set up
};

}  // namespace sinapsis
