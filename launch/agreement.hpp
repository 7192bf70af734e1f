// How a failure on some ranks becomes the same clean failure on every rank.
//
// Work that every rank does between two collectives (reading its part of
// the data, checking options and shapes) runs inside agree(): the ranks then
// exchange what happened, and if the work threw on any rank, EVERY rank
// throws the same AgreedFailure (the lowest failing rank's message, naming
// that rank when there are several). main() prints it once, on rank 0, and
// every rank exits with its status: no rank is left waiting in a collective.
// A failure outside agree() on one rank cannot be met by the others; main()
// prints it from that rank and aborts the job.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>

#include "core/error.hpp"
#include "dist/communicator.hpp"
#include "launch/commands.hpp"

namespace sinapsis::cli {

struct AgreedFailure : std::runtime_error {
  AgreedFailure(const std::string& message, int exit_status) : std::runtime_error(message), status(exit_status) {}
  int status;
};

template <class Phase>
void agree(Communicator& comm, Phase&& phase) {
  std::string failure;  // "<status><message>", empty when fine
  try {
    phase();
  } catch (const AgreedFailure&) {
    throw;
  } catch (const UsageError& e) {
    failure = "2" + std::string(e.what());
  } catch (const std::exception& e) {
    failure = "1" + std::string(e.what());
  }
  if (comm.size() == 1) {
    if (!failure.empty()) throw AgreedFailure(failure.substr(1), failure[0] - '0');
    return;
  }
  const auto all = comm.allgather(failure);
  for (std::size_t r = 0; r < all.size(); ++r) {
    if (all[r].empty()) continue;
    // Identical failures on every rank (a bad option) need no rank name.
    bool everywhere = true;
    for (const auto& other : all) everywhere = everywhere && other == all[r];
    const std::string where = everywhere ? "" : "rank " + std::to_string(r) + ": ";
    throw AgreedFailure(where + all[r].substr(1), all[r][0] - '0');
  }
}

// Every rank's `mine` must be the same (a schema, a configuration): one
// allgather; a difference throws AgreedFailure on every rank naming rank 0's
// value and the first rank's that differs. `what` says when ("before
// training").
inline void require_same_on_every_rank(Communicator& comm, const std::string& what, const std::string& mine) {
  if (comm.size() == 1) return;
  const auto all = comm.allgather(mine);
  for (std::size_t r = 1; r < all.size(); ++r)
    if (all[r] != all[0])
      throw AgreedFailure("ranks disagree " + what + ": rank 0 has {" + all[0] + "}, rank " + std::to_string(r) +
                              " has {" + all[r] + "}",
                          kExitFailure);
}

}  // namespace sinapsis::cli
