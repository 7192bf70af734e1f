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
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <string>
#include <vector>

#include "launch/commands.hpp"

namespace sinapsis::cli {

struct SweepGrid {
  std::vector<std::size_t> depths{1};      // hidden layers (0 allowed)
  std::vector<std::size_t> widths{8};      // units per hidden layer
  std::vector<std::string> feature_sets;   // "x1,x2"; empty: the data's columns
  // The knobs (kKnobs), as typed; empty: train's default.
  std::vector<std::string> activations, optimizers, lr_schedules, lrs, batches, momenta, l1s, l2s, keep_probs,
      test_splits;
};

struct TrialConfig {
  std::size_t id = 0;
  std::size_t depth = 0, width = 0;  // width 0 when depth is 0
  std::string features;              // "" = the data's columns
  // The knobs (kKnobs), as typed; "" = train's default.
  std::string activation, optimizer, lr_schedule, lr, batch, momentum, l1, l2, keep_prob, test_split;
  std::size_t hidden_units() const { return depth * width; }
};

// A train option a sweep ranges over beside depth, width and features: its
// name (the sweep's option and train's), its trials.csv column, and where
// the grid and a trial keep it. The grid's order: features, depth, width,
// then the knobs in this order (the first varies slowest).
struct Knob {
  const char* option;  // "lr-schedule"
  const char* column;  // "lr_schedule"
  const char* help;
  std::vector<std::string> SweepGrid::*values;
  std::string TrialConfig::*value;
};
inline constexpr Knob kKnobs[] = {
    {"activation", "activation", "hidden activations to try, e.g. tanh,relu", &SweepGrid::activations,
     &TrialConfig::activation},
    {"optimizer", "optimizer", "optimizers to try, e.g. sgd,adam (--momentum applies to the sgd and rmsprop trials)",
     &SweepGrid::optimizers, &TrialConfig::optimizer},
    {"lr-schedule", "lr_schedule", "learning-rate schedules to try, e.g. constant,cosine", &SweepGrid::lr_schedules,
     &TrialConfig::lr_schedule},
    {"lr", "lr", "learning rates to try, e.g. 0.01,0.03,0.1", &SweepGrid::lrs, &TrialConfig::lr},
    {"batch", "batch", "batch sizes to try, e.g. 16,64,256", &SweepGrid::batches, &TrialConfig::batch},
    {"momentum", "momentum", "momenta to try, e.g. 0,0.9 (sgd and rmsprop trials; the others take none)",
     &SweepGrid::momenta, &TrialConfig::momentum},
    {"l1", "l1", "L1 penalties to try", &SweepGrid::l1s, &TrialConfig::l1},
    {"l2", "l2", "L2 penalties to try", &SweepGrid::l2s, &TrialConfig::l2},
    {"keep-prob", "keep_prob", "dropout keep probabilities to try", &SweepGrid::keep_probs, &TrialConfig::keep_prob},
    {"test-split", "test_split", "test fractions to try (train/test ratio), e.g. 0.1,0.5,0.9",
     &SweepGrid::test_splits, &TrialConfig::test_split},
};
inline constexpr std::size_t kKnobCount = std::size(kKnobs);
// The place of the knob whose option is `option` in kKnobs.
constexpr std::size_t knob_index(std::string_view option) {
  for (std::size_t k = 0; k < kKnobCount; ++k)
    if (kKnobs[k].option == option) return k;
  throw std::logic_error("no knob " + std::string(option));
}

// Whether a trial with `optimizer` ("" = train's, sgd) takes --momentum:
// a grid varies momentum only for those that do (adam's is --beta1).
bool takes_momentum(const std::string& optimizer);

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
// network would need more memory than this host has; and naming --momentum
// when it is swept but no optimizer of the grid takes it.
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
  bool legacy = false;      // read from an earlier version's row: the knobs added since read as ""
  static constexpr double kNaN = TrainOutcome::kNaN;

  std::size_t elements() const { return inputs + config.hidden_units(); }
  // The loss a sweep ranks by: validation if measured, else test.
  double rank_loss() const { return std::isnan(val_loss) ? test_loss : val_loss; }
};

std::string trial_csv_header();
std::string trial_csv_row(const TrialRecord& record);
// The columns of a trials.csv (or rung file) header, in any order: this
// version's, or the previous one's (without the optimizer, lr_schedule,
// batch and momentum columns, which then read as ""). Throws DataError
// naming `where` and the column for any other header.
std::vector<std::string> trial_csv_columns(const std::string& header, const std::string& where);
// Throws DataError naming `where` for a malformed row.
TrialRecord parse_trial_row(const std::vector<std::string>& columns, const std::string& row, const std::string& where);

// The knob values of a trial that are set, as "optimizer adam, lr 0.01"
// ("" if none is).
std::string knob_text(const TrialConfig& trial);

// Simpler first: fewer elements, then fewer layers, then lower `loss`.
bool simpler(const TrialRecord& a, const TrialRecord& b, double loss_a, double loss_b);

}  // namespace sinapsis::cli
