// Helper threads start with every signal blocked (so the stop signals reach
// the main thread's handler), and the caller's own mask is left as it was.
#include <gtest/gtest.h>

#include <signal.h>

#include "core/helper_thread.hpp"

namespace sinapsis {
namespace {

bool blocked_here(int signal) {
  sigset_t current;
  pthread_sigmask(SIG_BLOCK, nullptr, &current);
  return sigismember(&current, signal) == 1;
}

TEST(HelperThread, StartsWithTheStopSignalsBlockedAndLeavesTheCallersMask) {
  ASSERT_FALSE(blocked_here(SIGTERM));
  bool term = false, usr1 = false, interrupt = false, hangup = false;
  helper_thread([&] {
    term = blocked_here(SIGTERM);
    usr1 = blocked_here(SIGUSR1);
    interrupt = blocked_here(SIGINT);
    hangup = blocked_here(SIGHUP);
  }).join();
  EXPECT_TRUE(term);
  EXPECT_TRUE(usr1);
  EXPECT_TRUE(interrupt);
  EXPECT_TRUE(hangup);
  EXPECT_FALSE(blocked_here(SIGTERM));
  EXPECT_FALSE(blocked_here(SIGUSR1));
}

}  // namespace
}  // namespace sinapsis
