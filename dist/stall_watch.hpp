// The stall watchdog's decisions, pure (no MPI, no clock): unit-tested in
// tests/test_stall_watch.cpp. The watchdog itself (mpi_communicator.cpp)
// runs beside the main thread of every rank and works like this:
//
// 1. The main thread marks every blocking collective: entered (when, on
//    which communicator, its sequence number there) and left. The longest
//    interval between two collectives (a step, an epoch's evaluation) is
//    remembered: StallPolicy::timeout() scales with it.
// 2. Every watchdog answers its peers' pings at once with what its main
//    thread does: waiting in collective (communicator, sequence) for so
//    long, or busy outside any collective for so long. A stopped process
//    (SIGSTOP, a frozen node) answers nothing: its watchdog is stopped too.
// 3. When the main thread has waited in a collective longer than the
//    timeout, or a hard deadline (--time-limit) has come, the watchdog pings
//    the collective's other members and collects answers for a short grace.
//    With the automatic timeout it also pings every kSilenceSeconds of a
//    wait, to find members that answer nothing at all: a host that froze or
//    vanished from the network is then noticed in seconds, not minutes,
//    while a member that answers keeps the whole timeout.
// 4. judge() names the stalled members: no answer; busy outside any
//    collective, or waiting in a collective nobody else is in (a mismatch
//    of calls), for at least the timeout (with a deadline: for any time at
//    all). Members waiting in this collective or a neighbour of it (a peer
//    stopped mid-collective lets some finish it) are held up like us.
//    Members alive and busy for less are slow, not stalled: the wait goes
//    on and is judged again later.
// 5. If some are stalled, the lowest-numbered rank held up prints one line
//    naming them, and the job is aborted (exit
//    status 1); the others abort too after a grace, silently. Nothing is
//    written: the last checkpoint stays as it was.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace sinapsis {

// How long a rank may wait in a collective before its peers are judged.
struct StallPolicy {
  // Before training starts, reading one rank's data may legitimately keep
  // the others waiting for minutes.
  static constexpr double kSetupSeconds = 600;
  // In training: at least this, and at least kFactor times the longest
  // interval between two collectives seen (a step, an epoch's evaluation,
  // a checkpoint).
  static constexpr double kFloorSeconds = 120;
  static constexpr double kFactor = 20;

  // A member that answers no ping for a grace after this long a wait is
  // gone (stopped, its host frozen or cut off) whatever the timeout: short,
  // so that a lost host ends the job within half a minute.
  static constexpr double kSilenceSeconds = 15;
  static constexpr double kSilenceGrace = 5;

  double configured_seconds = 0;  // --stall-timeout; 0: automatic
  bool training = false;

  double timeout(double longest_interval_seconds) const {
    if (configured_seconds > 0) return configured_seconds;
    if (!training) return kSetupSeconds;
    return std::max(kFloorSeconds, kFactor * longest_interval_seconds);
  }
  // When to look for members that answer nothing: with a given timeout,
  // only at it (a user who stops a rank in a debugger sets one).
  double silence_after(double timeout_seconds) const {
    return configured_seconds > 0 ? timeout_seconds : std::min(kSilenceSeconds, timeout_seconds);
  }
  // How long to collect the peers' answers: enough for a loaded machine,
  // short against the timeout.
  static double grace(double timeout_seconds) { return std::clamp(timeout_seconds / 4, 1.0, 10.0); }
};

// What a member of the collective answered (or not).
struct PeerAnswer {
  int rank = 0;  // in the job (MPI_COMM_WORLD)
  bool answered = false;
  bool waiting = false;         // in a collective (which: comm, sequence), else busy outside any
  std::uint64_t comm = 0;       // the communicator's id (the same on every rank)
  std::uint64_t sequence = 0;   // the collective's number on that communicator
  double seconds = 0;           // waiting, or busy, for this long
};

struct StallVerdict {
  std::vector<int> stalled;  // ranks, ascending
  bool report = false;       // this rank writes the line
  std::string message;       // one line, without the "sinapsis CMD: error: " prefix
};

// Why the members were pinged.
enum class StallCheck {
  timeout,   // the wait passed the timeout: silent, long-busy and mismatched members are stalled
  silence,   // a periodic look before it: only members that answer nothing are
  deadline,  // --time-limit: the job must end now; any member not held up with us is stalled
};

// `me` waits in collective `sequence` of communicator `comm` since `waited`
// seconds; `answers` come from the collective's other members; `who[r]` says
// who rank r is ("pid 123 on host n07").
StallVerdict judge(int me, std::uint64_t comm, std::uint64_t sequence, double waited, double timeout,
                   const std::vector<PeerAnswer>& answers, const std::vector<std::string>& who, StallCheck check);

}  // namespace sinapsis
