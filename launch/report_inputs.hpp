// What `sinapsis report` reads from a sweep directory or a plan (a run
// directory: run_recorder.hpp), read whole and checked before the report
// writes anything: a file that is missing, cut
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
#include "launch/run_recorder.hpp"
#include "launch/sweep_plan.hpp"

namespace sinapsis::cli {

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
