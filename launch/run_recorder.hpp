// The files of a training run, RUN_DIR (run_directory.hpp says who may write
// it when): what train writes there, in what format, and in what order.
//
//   config.ini     every option, defaults included (`--config` reads it back)
//   metrics.csv    one row per finished epoch (kMetricsHeader), appended
//                  and closed at the end of the epoch (Keras' CSVLogger), so
//                  the run can be watched and plotted while it trains
//   checkpoint.h5  the model, the trainer's state, the arguments and the
//                  metrics rows so far (io/checkpoint.hpp)
//   model.h5       the model kept (io/model_file.hpp)
//   summary.json   what a person or a sweep reads (RunSummary): "status"
//                  "running" while training (rewritten after an epoch at
//                  most about once a second), then finished, stopped
//                  (resumable), diverged or failed (with "error")
//
// config.ini and metrics.csv are first written, whole, with the first
// epoch's row (a run that fails before then leaves nothing) or, for a
// resumed run, at its start: metrics.csv then holds exactly the
// checkpoint's rows, dropping those the lost part appended after it, so a
// resumed run's metrics.csv matches its checkpoint. Rows are appended whole
// (append_to_file); every other write goes through AtomicFile (or the HDF5
// writers' own temporary and rename): a reader sees a whole file or the
// previous one.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/trainer.hpp"
#include "io/checkpoint.hpp"
#include "io/model_file.hpp"
#include "launch/commands.hpp"
#include "launch/pipeline.hpp"
#include "launch/run_directory.hpp"

namespace sinapsis::cli {

// The header of metrics.csv, and how many columns it names.
inline constexpr std::string_view kMetricsHeader =
    "epoch,train_loss,val_loss,val_accuracy,penalty,learning_rate,epoch_seconds,samples_per_second,test_loss,"
    "test_accuracy,compute_seconds,comm_seconds,io_seconds,comm_hidden_seconds,bytes_per_step,skipped_steps,"
    "train_accuracy";

// One metrics.csv row (without the newline): nine significant digits, an
// empty field for what was not measured.
std::string metrics_row(const EpochMetrics& m);

// Totals over this invocation's epochs (rank 0's timings).
struct RunTotals {
  double compute = 0, comm = 0, comm_hidden = 0, io = 0, epoch = 0, samples = 0, train_seconds = 0;
  double bytes_per_step = 0;
  std::size_t skipped_steps = 0;
  void add(const EpochMetrics& m, std::size_t samples_per_epoch);
  double samples_per_second() const { return train_seconds > 0 ? samples / train_seconds : 0; }
};

// summary.json holds the kept model's confusion matrix on each held-out part
// ("kept_model": {"val_confusion": [[...]], ...}, rows the true class,
// columns the predicted one, in "class_names" order) for up to this many
// classes.
inline constexpr std::size_t kSummaryConfusionClasses = 100;

// What summary.json says of a run.
struct RunSummary {
  std::string status = "finished";  // running | finished | stopped | diverged | failed
  std::string error;                // what failed (status failed)
  std::string run_dir;
  std::vector<std::pair<std::string, std::string>> configuration;  // option, value
  int ranks = 1;
  std::vector<std::string> hosts;
  int blas_threads_per_rank = 1;
  std::string architecture, loss;
  std::size_t parameters = 0, training_samples = 0;
  TrainResult result;
  std::string stop_reason, monitor;  // stop_reason: "" while running
  EpochMetrics last;  // the last epoch run (epoch 0: none)
  std::vector<std::pair<std::string, Evaluation>> held_out;  // ("val" | "test", the kept model on it)
  std::vector<std::string> class_names;  // the data's (empty: class ids)
  RunTotals totals;
  double wall_seconds = 0;
  bool overlap = false;
  double bucket_mb = 0;
  std::string grad_precision;
  double peak_memory_mib_per_rank = 0;
};

// Writes RUN_DIR's files; rank 0 alone holds one, for the whole job.
class RunRecorder {
 public:
  // Locks `dir` (RunDirectory, with its checks); `config` is config.ini's text.
  RunRecorder(const std::string& dir, RunDirectory::Mode mode, const std::string& option, std::string config);

  std::string file(const std::string& name) const { return directory_.file(name); }

  // A resumed run continues its metrics rows: the checkpoint's, or for a
  // checkpoint that does not hold them, metrics.csv's first `epochs` rows,
  // and writes config.ini and metrics.csv with them. Rows of an earlier
  // version lack the newer columns: empty fields keep the file rectangular.
  // DataError naming metrics.csv's line.
  void continue_metrics(const Checkpoint& resumed);
  // A finished epoch's row, appended to metrics.csv (the first one writes
  // config.ini and metrics.csv whole).
  void add_epoch(const EpochMetrics& m);

  // checkpoint.h5 (and config.ini and metrics.csv, if not yet written: a
  // run stopped in its first epoch).
  void write_checkpoint(const Model<float>& model, Loss loss, const ModelInputs& inputs,
                        const Trainer<float>::State& state, const CommandLine& command, int ranks);
  // model.h5, metrics.csv, then summary.json.
  void write_final(const Model<float>& model, Loss loss, const ModelInputs& inputs, const RunSummary& summary);
  void write_summary(const RunSummary& summary);
  // Whether a "running" summary.json is due: none yet, or the last one was
  // written long enough ago (a second, and 20 times what writing it took:
  // its fsync stays a small part of the time however short epochs are).
  bool running_summary_due() const;
  // Whether summary.json now says "running" (a failure should replace it).
  bool summary_running() const { return summary_running_; }

 private:
  void write_metrics();  // config.ini and metrics.csv, whole

  RunDirectory directory_;
  std::string config_;
  std::vector<std::string> rows_;
  bool metrics_written_ = false;
  bool summary_running_ = false;
  std::chrono::steady_clock::time_point summary_written_;
  double summary_write_seconds_ = 0;
};

// ---- Reading a run back (the report) ----------------------------------------
//
// Read whole and checked: a file that is missing, cut short, holds a
// non-number where a number belongs or lacks what train writes into it is
// a DataError naming the file, the line and what is wrong.

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
  // summary.json: absent before the first epoch ends, or for a run of an
  // earlier version that has not finished (then a checkpoint.h5 must be
  // there); without either, an error.
  std::optional<std::string> summary_text;
  std::string status;  // summary.json's "status" ("finished" for one without: an earlier version's); "" without one
  std::string error;   // its "error" (status failed)
  std::optional<std::string> writer;  // the job writing the run now (its lock's holder)
  std::size_t best_epoch = 0;  // summary.json's "best": {"epoch": N, "monitor": ...}; 0: none
  std::string best_monitor;
  // summary.json's confusion matrix of the kept model: on the test part,
  // else the validation part (part empty: none).
  struct Confusion {
    std::string part;  // "test" | "val"
    std::vector<std::string> class_names;
    std::vector<std::vector<std::size_t>> counts;  // [true][predicted]
  } confusion;
  bool has_checkpoint = false;
  std::optional<ModelFile> model;  // model.h5, if the run wrote one
};
// A running run's metrics.csv may end in a row being appended: a last line
// without its newline is left out (in a run that is not running, it is an
// error: the file was cut short).
RunInputs read_run_inputs(const std::filesystem::path& run);

}  // namespace sinapsis::cli
