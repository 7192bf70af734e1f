// The grid of a sweep and the records of its trials, with no I/O: parsing
// the grid options, expanding them into trials in a fixed order (a trial's
// id is its place in that order, so ids are the same for every slice and
// every resume), the train arguments of a trial, its CSV row, and the
// ordering that picks the simplest network.
//
// "Simplest" follows the lecture: the fewest elements — active input
// features plus hidden units — then the fewest hidden layers, then the
// lowest loss.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "launch/commands.hpp"

namespace sinapsis::cli {

struct SweepGrid {
  std::vector<std::size_t> depths{1};      // hidden layers (0 allowed)
  std::vector<std::size_t> widths{8};      // units per hidden layer
  std::vector<std::string> activations;    // empty: train's default
  std::vector<std::string> lrs, l1s, l2s, keep_probs, test_splits;  // as typed; empty: train's default
  std::vector<std::string> feature_sets;   // "x1,x2"; empty: the data's columns
};

struct TrialConfig {
  std::size_t id = 0;
  std::size_t depth = 0, width = 0;  // width 0 when depth is 0
  std::string activation, lr, l1, l2, keep_prob, test_split, features;  // "" = train's default
  std::size_t hidden_units() const { return depth * width; }
};

// A sweep's queue reads every trial's records for each job it hands out, so
// its overhead grows with the square of the grid (a grid of 10^6 trials
// spends most of a minute on each job). Larger grids are refused: they are
// typos ("--depth 0:1000000"), and they would crawl rather than finish.
inline constexpr std::uint64_t kMaxGridTrials = 100000;

// "0:6" -> 0..6, "1,2,4" -> {1, 2, 4}. Throws UsageError naming `option`
// (also for a range of more than kMaxGridTrials values).
std::vector<std::size_t> parse_count_list(const std::string& text, const std::string& option, std::size_t minimum);
// "a;b;c" (feature sets) or "a,b,c" (values) -> items, without empty ones.
std::vector<std::string> split_list(const std::string& text, char separator);

// Trials in the grid; nothing if the count does not fit 64 bits.
std::optional<std::uint64_t> grid_trials(const SweepGrid& grid);
// Throws UsageError naming `subject` (the --depth and --width options) when
// the grid has more than kMaxGridTrials trials, or training its largest
// network would need more memory than this host has.
void check_grid_fits(const SweepGrid& grid, const std::string& subject);

// The trials of a grid that check_grid_fits() accepted.
std::vector<TrialConfig> expand_grid(const SweepGrid& grid);

// The `train` arguments of a trial (appended to the sweep's pass-through
// training options).
Args trial_arguments(const TrialConfig& trial, std::uint64_t seed);

// One trial's record: what trials.csv holds per row.
struct TrialRecord {
  TrialConfig config;
  std::size_t inputs = 0, parameters = 0, epochs_run = 0, rung = 0, ranks = 1;
  std::string status;       // trials.csv: done | pruned | failed (a rung file: trained | failed)
  std::string stop_reason;  // max_epochs | early_stopping | ...
  double best_val_loss = kNaN, val_loss = kNaN, val_accuracy = kNaN, test_loss = kNaN, test_accuracy = kNaN;
  double seconds = 0;
  std::string message;      // why it failed
  static constexpr double kNaN = TrainOutcome::kNaN;

  std::size_t elements() const { return inputs + config.hidden_units(); }
  // The loss a sweep ranks by: validation if measured, else test.
  double rank_loss() const { return std::isnan(val_loss) ? test_loss : val_loss; }
};

std::string trial_csv_header();
std::string trial_csv_row(const TrialRecord& record);
// Throws DataError naming `where` for a malformed row.
TrialRecord parse_trial_row(const std::string& row, const std::string& where);

// Simpler first: fewer elements, then fewer layers, then lower `loss`.
bool simpler(const TrialRecord& a, const TrialRecord& b, double loss_a, double loss_b);

}  // namespace sinapsis::cli
