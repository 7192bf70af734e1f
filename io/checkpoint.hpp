// Checkpoints: RUN_DIR/checkpoint.h5 is a model file (so `sinapsis eval`
// reads it) with one more group holding the training state:
//   /checkpoint       @epochs_done, @global_step, @ranks, @arguments (the
//                     train command line, one argument per line, paths
//                     absolute), @arguments_as_given, @working_directory
//                     @early_best, @early_best_epoch, @early_wait, @early_epochs_seen
//                     @optimizer_steps (the updates applied), @plateau_best,
//                     @plateau_bad_epochs, @plateau_factor (--lr-schedule plateau)
//                     @steps_into_epoch, @epoch_loss_sum, @epoch_correct (a run
//                     stopped mid-epoch: where, and the epoch's sums so far)
//                     @metrics_rows (the run's metrics.csv rows so far, one per line:
//                     metrics.csv is written after the checkpoint, so a resume
//                     takes the rows from here)
//     optimizer_state   float32 [k * parameters]: Optimizer::state() (k 1 or 2;
//                       checkpoints of an earlier version: velocity [parameters])
//     best_parameters, good_parameters   float32 [parameters]
// Reading refuses counts that are not whole numbers >= 0, early-stopping
// epochs past epochs_done and non-finite state, naming the attribute.
// Written by rank 0 to a temporary name, flushed, then renamed: the previous
// checkpoint stays valid if writing fails or the process dies mid-write.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/trainer.hpp"
#include "io/model_file.hpp"

namespace sinapsis {

// The train command line a checkpoint continues: its arguments with paths
// made absolute (what a resume reads), and as given, with the directory
// they were given in (for people; empty when not known).
struct CommandLine {
  CommandLine(std::vector<std::string> effective = {}, std::vector<std::string> given = {},
              std::string directory = {})
      : arguments(std::move(effective)), as_given(std::move(given)), working_directory(std::move(directory)) {}
  std::vector<std::string> arguments, as_given;
  std::string working_directory;
};

struct Checkpoint {
  ModelFile model;
  Trainer<float>::State state;
  std::vector<std::string> arguments;  // of the train command
  int ranks = 1;
  std::optional<std::vector<std::string>> metric_rows;  // absent in checkpoints written before it was kept
  std::vector<std::string> arguments_as_given;  // empty in checkpoints written before they were kept
  std::string working_directory;
  // Whether the training rows were streamed (state.streamed); unknown in
  // checkpoints written before it was kept.
  std::optional<bool> data_streamed;
};

void write_checkpoint(const std::string& path, const Model<float>& model, Loss loss, const ModelInputs& inputs,
                      const Trainer<float>::State& state, const CommandLine& command, int ranks,
                      const std::vector<std::string>& metric_rows);
Checkpoint read_checkpoint(const std::string& path);

}  // namespace sinapsis
