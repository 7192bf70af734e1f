#include "dist/stall_watch.hpp"

#include <cstdio>

namespace sinapsis {
namespace {

std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", seconds);
  return text;
}

std::string who_is(int rank, const std::vector<std::string>& who) {
  const auto r = std::size_t(rank);
  return "rank " + std::to_string(rank) + (r < who.size() && !who[r].empty() ? " (" + who[r] + ")" : "");
}

// A member waiting in a collective is held up like us, not holding us up:
// a peer stopped in the middle of a collective lets some members finish it
// and wait in the next one (sequence + 1) while others still wait in it.
bool waits_with_us(const PeerAnswer& a, std::uint64_t comm, std::uint64_t sequence) {
  return a.answered && a.waiting && a.comm == comm && a.sequence + 1 >= sequence && a.sequence <= sequence + 1;
}

// Why `a` holds the collective up, or "" when it does not.
std::string stall_of(const PeerAnswer& a, std::uint64_t comm, std::uint64_t sequence, double timeout,
                     StallCheck check) {
  if (!a.answered) return "does not respond (stopped, or its host is down or cut off)";
  if (check == StallCheck::silence || waits_with_us(a, comm, sequence)) return "";
  const double bound = check == StallCheck::deadline ? 0 : timeout;
  if (a.seconds < bound) return "";  // alive and moving: slow, not stalled
  if (a.waiting)  // a collective no one else is in: the ranks called different collectives
    return "waits in another collective (#" + std::to_string(a.sequence) + " of communicator " +
           std::to_string(a.comm) + ", this one is #" + std::to_string(sequence) + ") for " + seconds_text(a.seconds);
  return "has been busy outside any collective for " + seconds_text(a.seconds);
}

}  // namespace

StallVerdict judge(int me, std::uint64_t comm, std::uint64_t sequence, double waited, double timeout,
                   const std::vector<PeerAnswer>& answers, const std::vector<std::string>& who, StallCheck check) {
  const bool deadline = check == StallCheck::deadline;
  StallVerdict v;
  int lowest_waiting = me;
  std::string reasons;
  for (const PeerAnswer& a : answers) {
    const std::string why = stall_of(a, comm, sequence, timeout, check);
    if (why.empty()) {
      if (waits_with_us(a, comm, sequence)) lowest_waiting = std::min(lowest_waiting, a.rank);
      continue;
    }
    v.stalled.push_back(a.rank);
    reasons += (reasons.empty() ? "" : "; ") + who_is(a.rank, who) + " " + why;
  }
  std::sort(v.stalled.begin(), v.stalled.end());
  if (v.stalled.empty()) return v;
  v.report = lowest_waiting == me;
  v.message = (deadline ? "--time-limit: the run must stop now, but " : "stalled: ") + reasons + "; " +
              who_is(me, who) + " waited " + seconds_text(waited) + " for " +
              (v.stalled.size() == 1 ? "it" : "them") + " in a collective" +
              (check == StallCheck::timeout ? " (stall timeout " + seconds_text(timeout) + ", --stall-timeout)"
               : check == StallCheck::silence
                   ? " and got no answer to a ping in " + seconds_text(StallPolicy::kSilenceGrace) +
                         " (--stall-timeout N waits N s instead)"
                   : "") +
              ". Every rank ends; the last checkpoint is kept";
  return v;
}

}  // namespace sinapsis
