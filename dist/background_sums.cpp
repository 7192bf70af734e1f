#include "dist/background_sums.hpp"

#include <sys/resource.h>  // setpriority
#include <unistd.h>        // gettid

#include <chrono>

#include "core/helper_thread.hpp"

namespace sinapsis {

BackgroundSums::BackgroundSums(Communicator& comm, ExchangeWait wait) : comm_(comm), wait_(wait), thread_(helper_thread([this] { run(); })) {
  queue_.reserve(64);
}

BackgroundSums::~BackgroundSums() {
  {
    const std::lock_guard lock(mutex_);
    stop_ = true;
  }
  work_.notify_one();
  thread_.join();
}

void BackgroundSums::push(Job job) {
  {
    const std::lock_guard lock(mutex_);
    queue_.push_back(job);
  }
  work_.notify_one();
}

void BackgroundSums::wait() {
  std::unique_lock lock(mutex_);
  done_.wait(lock, [&] { return finished_ == queue_.size(); });
  // All done: the queue starts over for the next step (keeping its capacity).
  queue_.clear();
  next_ = finished_ = 0;
  if (failure_) {
    const std::exception_ptr failure = failure_;
    failure_ = nullptr;
    std::rethrow_exception(failure);
  }
}

double BackgroundSums::busy_seconds() const {
  const std::lock_guard lock(mutex_);
  return busy_seconds_;
}

void BackgroundSums::sum(const Job& job) {
  const auto poll = wait_.polled ? wait_.poll : std::chrono::microseconds(0);
  if (job.floats) {
    comm_.sum_compressed(std::span<float>(job.floats, job.count), job.precision, poll);
  } else {
    const std::span<double> values(job.doubles, job.count);
    if (wait_.polled) comm_.allreduce_polled(values, ReduceOp::sum, wait_.poll);
    else comm_.allreduce(values, ReduceOp::sum);
  }
}

void BackgroundSums::run() {
  if (wait_.nice > 0) ::setpriority(PRIO_PROCESS, ::gettid(), wait_.nice);  // this thread only (Linux)
  std::unique_lock lock(mutex_);
  while (true) {
    work_.wait(lock, [&] { return stop_ || next_ < queue_.size(); });
    if (stop_) return;
    const Job job = queue_[next_++];
    const bool skip = failure_ != nullptr;  // after a failure the rest are not attempted
    lock.unlock();
    std::exception_ptr failure;
    const auto began = std::chrono::steady_clock::now();
    if (!skip) {
      try {
        sum(job);
      } catch (...) {
        failure = std::current_exception();
      }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    lock.lock();
    busy_seconds_ += seconds;
    if (failure && !failure_) failure_ = failure;
    if (++finished_ == queue_.size()) done_.notify_one();
  }
}

}  // namespace sinapsis
