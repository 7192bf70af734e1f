// The threads sinapsis starts beside the training thread: batch assembly
// (core/batch_assembler.hpp), the overlapped gradient exchange
// (dist/background_sums.hpp) and the stall watchdog (dist/mpi_communicator.cpp).
//
// The rule for signals: a helper thread starts with every signal blocked, so
// the stop signals (SIGTERM, SIGUSR1, SIGINT, SIGHUP; launch/stop_signals.hpp)
// are delivered to a thread that did not block them, the main one, whose
// handler only stores the signal in a lock-free atomic that the training
// loop polls between steps. No helper is ever interrupted by a handler, and
// none needs to be async-signal-safe. (OpenBLAS's and MPI's own threads are
// not ours to start; their libraries block or tolerate signals themselves.)
#pragma once

#include <signal.h>

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace sinapsis {

// std::thread(body), started with every signal blocked; the caller's mask
// is as it was.
template <class Body>
std::thread helper_thread(Body&& body) {
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &previous);
  struct Restore {
    const sigset_t& mask;
    ~Restore() { pthread_sigmask(SIG_SETMASK, &mask, nullptr); }
  } restore{previous};
  return std::thread(std::forward<Body>(body));  // inherits the blocked mask
}

// One job at a time for either of two slots, on a helper thread (or inline):
// what batch assembly (core/batch_assembler.hpp, core/streamed_batches.hpp)
// runs a step ahead. The owner keeps each slot's inputs and outputs; start
// (slot) runs job(slot), and wait(slot) returns once it is done, rethrowing
// what it threw (inline, start() throws it). The job is fixed when built:
// starting one allocates nothing. Threads: one caller thread calls start()
// and wait(); every start is waited for before the next one. An owner
// declares its SlotWorker last, so that it joins before the slots go.
class SlotWorker {
 public:
  SlotWorker(std::function<void(int)> job, bool threaded) : job_(std::move(job)), threaded_(threaded) {
    if (threaded_) worker_ = helper_thread([this] { work(); });
  }
  SlotWorker(const SlotWorker&) = delete;
  SlotWorker& operator=(const SlotWorker&) = delete;
  ~SlotWorker() {
    if (!threaded_) return;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    worker_.join();
  }

  void start(int slot) {
    if (!threaded_) return job_(slot);
    {
      std::lock_guard lock(mutex_);
      ready_[slot] = false;
      error_[slot] = nullptr;
      pending_ = slot;
    }
    wake_.notify_all();
  }

  void wait(int slot) {
    if (!threaded_) return;
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return ready_[slot]; });
    if (error_[slot]) std::rethrow_exception(std::exchange(error_[slot], nullptr));
  }

 private:
  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || pending_ >= 0; });
      if (stopping_) return;
      const int slot = std::exchange(pending_, -1);
      lock.unlock();
      std::exception_ptr error;
      try {
        job_(slot);
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      error_[slot] = error;
      ready_[slot] = true;
      done_.notify_all();
    }
  }

  std::function<void(int)> job_;
  const bool threaded_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  int pending_ = -1;
  bool stopping_ = false;
  bool ready_[2] = {true, true};
  std::exception_ptr error_[2];
  std::thread worker_;
};

}  // namespace sinapsis
