// What `sinapsis report` reads from a run or a sweep directory, read whole
// and checked before the report writes anything: a file that is missing, cut
// short, holds a non-number where a number belongs or lacks what sinapsis
// writes into it is a DataError naming the file, the line and what is wrong.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/model_file.hpp"
#include "launch/pipeline.hpp"
#include "launch/sweep_plan.hpp"

namespace sinapsis::cli {

// RUN_DIR/metrics.csv: a header of column names, then one row per epoch.
struct MetricsTable {
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;  // rows[i][c]: NaN where nothing was measured (an empty field)

  // The values of column `name`, one per row; empty if there is no such column.
  std::vector<double> column(const std::string& name) const;
};

// Parses metrics.csv's text. The header must name `epoch` and `train_loss`;
// every row has the header's number of fields, each empty or a number;
// epochs are whole numbers that increase; the file ends with a newline
// (a last line without one was cut short).
MetricsTable parse_metrics_csv(std::string_view text, const std::string& source);

// What the report uses of RUN_DIR/config.ini (a [train] section as train
// writes it), read as `--config` reads it, by Boost.Program_options.
struct RunConfig {
  DataOptions data;  // data, test-data, val-split, test-split, seed
  std::size_t patience = 0;
  bool restore_best = true;
};
RunConfig parse_run_config(const std::string& text, const std::string& source);

struct RunInputs {
  MetricsTable metrics;
  std::string metrics_source;
  RunConfig config;
  std::string config_text;
  // summary.json: absent while the run has not finished (a checkpoint.h5
  // without one: in progress or preempted); without either, an error.
  std::optional<std::string> summary_text;
  std::size_t best_epoch = 0;  // summary.json's "best": {"epoch": N, "monitor": ...}; 0: none
  std::string best_monitor;
  bool has_checkpoint = false;
  std::optional<ModelFile> model;  // model.h5, if the run wrote one
};
RunInputs read_run_inputs(const std::filesystem::path& run);

struct SweepInputs {
  std::vector<TrialRecord> trials;  // trials.csv
  std::string summary_text;
  bool by_test = false;             // summary.json "metric": "test_loss" (else "val_loss")
  double target_loss = -1;          // "target_loss"; -1: none
  std::optional<std::size_t> simplest;  // "simplest_meeting_target": {"trial": N}
  std::optional<std::string> args_text;  // sweep.args (a merged sweep's --out has none)
};
SweepInputs read_sweep_inputs(const std::filesystem::path& sweep);

// A plan `sinapsis plan --out FILE` wrote, as CSV or JSON (told apart by its
// first character): per rank count, in increasing order.
struct PlanInputs {
  std::vector<double> ranks, efficiency, samples_per_second;
  std::string text;  // the file as written, shown on the page
};
PlanInputs read_plan_inputs(const std::filesystem::path& file);

}  // namespace sinapsis::cli
