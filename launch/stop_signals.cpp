#include "launch/stop_signals.hpp"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <iterator>

namespace sinapsis::cli {
namespace {

// The signal received, or 0: a lock-free atomic, so the handler (which may
// run between any two instructions of the main thread; helper threads block
// these signals, core/helper_thread.hpp) and the training loop share it safely.
std::atomic<int> g_received{0};
static_assert(std::atomic<int>::is_always_lock_free, "a signal handler may only touch lock-free atomics");
// The signals that ask for a clean stop, and the handlers they had before.
constexpr int kStopSignals[] = {SIGTERM, SIGUSR1, SIGINT, SIGHUP};
struct sigaction g_previous[std::size(kStopSignals)] {};
int g_owners = 0;  // nested owners (a sweep and its trials) share the outer one's flag

void on_stop_signal(int signal) {
  if (g_received.load(std::memory_order_relaxed) != 0) {  // the second one: do what the signal does by default
    ::signal(signal, SIG_DFL);
    ::raise(signal);
    return;
  }
  g_received.store(signal, std::memory_order_relaxed);
}

}  // namespace

StopSignals::StopSignals() {
  if (g_owners++ > 0) return;
  g_received.store(0);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // interrupted I/O resumes; the flag is polled between steps
  for (std::size_t i = 0; i < std::size(kStopSignals); ++i) ::sigaction(kStopSignals[i], &action, &g_previous[i]);
}

StopSignals::~StopSignals() {
  if (--g_owners > 0) return;
  for (std::size_t i = 0; i < std::size(kStopSignals); ++i) ::sigaction(kStopSignals[i], &g_previous[i], nullptr);
}

int StopSignals::received() const { return g_received.load(std::memory_order_relaxed); }

const char* StopSignals::name(int signal) {
  switch (signal) {
    case SIGTERM: return "SIGTERM";
    case SIGUSR1: return "SIGUSR1";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    default: return signal == 0 ? "" : "a signal";
  }
}

Deadline Deadline::after_minutes(double minutes, std::chrono::steady_clock::time_point start) {
  Deadline d;
  if (minutes <= 0) return d;
  const double limit = minutes * 60;
  // 5 % of the limit, at least 10 s, at most 5 min; never over half the limit.
  const double reserve = std::min({std::clamp(0.05 * limit, 10.0, 300.0), 0.5 * limit});
  const auto after = [&](double seconds) {
    return start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                       std::chrono::duration<double>(std::max(0.0, seconds)));
  };
  d.stop_at = after(limit - reserve);
  d.end_at = after(limit - reserve / 2);
  return d;
}

}  // namespace sinapsis::cli
