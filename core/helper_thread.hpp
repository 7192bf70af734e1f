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

}  // namespace sinapsis
