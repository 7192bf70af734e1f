// Asynchronous successive halving (ASHA; Li et al., "A System for Massively
// Parallel Hyperparameter Tuning", 2020) as a pure decision: given what every
// trial reached so far, which job a free worker takes next.
//
// Rungs: rung k trains a trial to min_epochs * eta^k epochs (the last rung
// to max_epochs). A trial that finished rung k is promoted to rung k+1 only
// if it is among the best floor(n_k / eta) of the n_k trials that finished
// rung k so far (lower value is better), and was not promoted before.
// Promotions are looked for from the top rung down; when there is none, a
// new trial starts at rung 0. A trial that stopped on its own (early
// stopping, failure) is never promoted.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <vector>

namespace sinapsis {

struct AshaOptions {
  std::size_t min_epochs = 1;
  std::size_t max_epochs = 100;
  std::size_t reduction_factor = 3;  // eta >= 2
  bool prune = true;                 // false: every trial runs one rung of max_epochs (the full grid)

  // Epochs at the end of rung k.
  std::size_t rung_epochs(std::size_t k) const {
    if (!prune) return max_epochs;
    double epochs = double(min_epochs);
    for (std::size_t i = 0; i < k && epochs < double(max_epochs); ++i) epochs *= double(reduction_factor);
    // Compared as doubles: converting a count past 2^64 to size_t is
    // undefined (--reduction-factor 2^64-1 made top_rung() loop forever).
    return epochs >= double(max_epochs) ? max_epochs : std::size_t(epochs);
  }
  // Index of the last rung (the one that reaches max_epochs).
  std::size_t top_rung() const {
    std::size_t k = 0;
    while (rung_epochs(k) < max_epochs) ++k;
    return k;
  }
};

// What a trial has reached: value[k] for every rung k it finished.
struct TrialProgress {
  std::vector<double> rung_values;       // one per finished rung, in order
  std::vector<bool> promoted_from;       // promoted_from[k]: already sent on from rung k
  bool stopped = false;                  // early-stopped or failed: never promoted
  bool in_flight = false;                // a worker is training it now
  bool started() const { return !rung_values.empty() || in_flight; }
};

struct AshaJob {
  enum class Kind { promote, start, wait, done } kind = Kind::done;
  std::size_t trial = 0;
  std::size_t rung = 0;  // the rung to train to
};

// `trials` in the sweep's order (the next new trial is the first not
// started). Pure: no clock, no files.
inline AshaJob next_asha_job(const AshaOptions& options, const std::vector<TrialProgress>& trials) {
  const std::size_t top = options.top_rung();
  for (std::size_t k = top; k-- > 0;) {
    // Trials that finished rung k, best first (ties by trial order).
    std::vector<std::size_t> finished;
    for (std::size_t t = 0; t < trials.size(); ++t)
      if (trials[t].rung_values.size() > k && std::isfinite(trials[t].rung_values[k])) finished.push_back(t);
    std::stable_sort(finished.begin(), finished.end(), [&](std::size_t a, std::size_t b) {
      return trials[a].rung_values[k] < trials[b].rung_values[k];
    });
    const std::size_t promotable = finished.size() / std::max<std::size_t>(2, options.reduction_factor);
    for (std::size_t i = 0; i < promotable; ++i) {
      const TrialProgress& t = trials[finished[i]];
      const bool sent = t.promoted_from.size() > k && t.promoted_from[k];
      if (!sent && !t.stopped && !t.in_flight && t.rung_values.size() == k + 1)
        return {AshaJob::Kind::promote, finished[i], k + 1};
    }
  }
  for (std::size_t t = 0; t < trials.size(); ++t)
    if (!trials[t].started()) return {AshaJob::Kind::start, t, 0};
  const bool busy = std::any_of(trials.begin(), trials.end(), [](const TrialProgress& t) { return t.in_flight; });
  return {busy ? AshaJob::Kind::wait : AshaJob::Kind::done, 0, 0};
}

}  // namespace sinapsis
