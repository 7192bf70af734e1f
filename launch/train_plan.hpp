// What one `sinapsis train` will run, settled before it runs: the options of
// the command line, of a --config file and, with --resume RUN_DIR, the run's
// own stored options under the ones given now, each parsed once (Boost's
// parser, with number()'s checks) and checked once (validate()). The trainer
// and the optimizer trust what comes out of here.
#pragma once

#include <optional>
#include <string>

#include "core/trainer.hpp"
#include "dist/communicator.hpp"
#include "io/checkpoint.hpp"
#include "launch/options.hpp"
#include "launch/pipeline.hpp"

namespace sinapsis::cli {

// A deadline or a stall timeout becomes a steady_clock time point:
// nanoseconds in 64 bits, 292 years. 10^7 minutes (19 years) keeps any
// start plus the limit inside it.
inline constexpr double kMaxTimeLimitMinutes = 1e7;

struct TrainCommandOptions {
  DataOptions input;
  std::string out, init_model;
  std::string hidden = "8,8", activation = "tanh", output = "auto", loss = "auto";
  std::string init = "glorot", schedule = "constant", monitor = "val_loss", prefetch = "auto", progress = "auto";
  std::string overlap = "auto", grad_precision = "fp32";
  // Data larger than memory: where the training rows live and their order.
  std::string shuffle = "shard", data_in_memory = "auto", memory_budget = "auto";
  std::size_t shuffle_block = 256, shuffle_buffer = 4096;
  double bucket_mb = kDefaultBucketMb;
  double lr = 0.03, momentum = 0, l1 = 0, l2 = 0, keep_prob = 1, min_delta = 0;
  std::string optimizer = "sgd";
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, alpha = 0.99, weight_decay = 0;
  double min_lr = 0, plateau_factor = 0.1, clip_norm = 0, clip_value = 0;
  std::size_t cosine_restart = 0, plateau_patience = 10;
  double lr_decay = 0.5;
  std::size_t batch = 10, epochs = 100, patience = 0, lr_decay_every = 10, warmup_steps = 0;
  std::size_t checkpoint_every = 0;
  double checkpoint_seconds = 0;
  double time_limit_minutes = 0;
  double stall_timeout_seconds = 0;
  std::string resume;
  std::uint64_t seed = 1;
  int threads = 0;
  bool nesterov = false, no_restore_best = false, overwrite = false, quiet = false, log_all_ranks = false;
#ifdef NDEBUG
  bool check_consistency = false;
#else
  bool check_consistency = true;  // debug builds check replicas every epoch
#endif

  // Every check of the options together (the numeric ranges were checked as
  // they were parsed): UsageError naming the option and its value.
  void validate() const;
};

void describe(po::options_description& o, TrainCommandOptions& v);

// The options of train that name files or directories. The run records
// them absolute (config.ini, the checkpoint's arguments), so that --resume
// and --config RUN_DIR/config.ini work from any directory; they run as given.
inline const std::vector<std::string> kPathOptions{"data", "val-data", "test-data", "init-model", "out"};

// `path` absolute and lexically normal ("./d.h5" and "d.h5" are one path);
// "" stays "".
std::string absolute_path(const std::string& path);

struct TrainPlan {
  TrainCommandOptions options;
  po::variables_map values;           // as parsed: config.ini and summary.json list them
  Args arguments;                     // the effective command line, as a checkpoint stores it (absolute paths)
  Args given;                         // the same with the paths as given (expanded --config included)
  std::string working_directory;      // where they were given
  std::optional<Checkpoint> resumed;  // --resume RUN_DIR: the run's checkpoint.h5

  // On every rank, after the stall watch is set up: validate(), and for a
  // resumed run no change to an option that made it what it is.
  void check() const;
  // RUN_DIR/config.ini: every option, defaults included, `--config` reads it
  // back; paths absolute (kPathOptions), each after a comment with it as given.
  std::string config_text() const;
};

// Reads the plan of `train ARGS` on every rank of `comm` (a checkpoint that
// cannot be read fails on every rank alike); nullopt when --help was shown.
// Not yet checked: see TrainPlan::check().
std::optional<TrainPlan> read_train_plan(const Args& args, Communicator& comm, bool silent);

// The optimizer --optimizer and its options ask for (--weight-decay: L2 in
// the gradient, as --l2, except for adamw's decoupled decay).
OptimizerOptions optimizer_options(const TrainCommandOptions& v);

// The trainer's options for `loss`. A helper thread assembling batches only
// overlaps when it has a CPU of its own: `usable_cpus` decides --prefetch auto.
TrainOptions trainer_options(const TrainCommandOptions& v, Loss loss, int usable_cpus);

}  // namespace sinapsis::cli
