// sinapsis train: one process, one model, from a data file to RUN_DIR with
// model.h5 and metrics.csv.
#include <sys/resource.h>  // getrusage: peak resident memory
#include <unistd.h>        // isatty

#include <algorithm>
#include <string_view>
#include <array>
#include <charconv>
#include <fstream>
#include <cmath>
#include <cstdio>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <span>

#include "core/blas_runtime.hpp"
#include "core/init.hpp"
#include "core/trainer.hpp"
#include "io/atomic_file.hpp"
#include "io/checkpoint.hpp"
#include "io/data_file.hpp"
#include "io/json_text.hpp"
#include "io/model_file.hpp"
#include "launch/options.hpp"
#include "dist/communicator_group.hpp"
#include "launch/agreement.hpp"
#include "launch/build_commit.hpp"
#include "launch/config_file.hpp"
#include "launch/host_layout.hpp"
#include "launch/memory_check.hpp"
#include "launch/pipeline.hpp"
#include "launch/progress.hpp"
#include "launch/run_directory.hpp"
#include "launch/stop_signals.hpp"

namespace sinapsis::cli {
namespace {

// The header of metrics.csv (write_metrics_row writes its rows), and how many columns it names.
constexpr std::string_view kMetricsHeader =
    "epoch,train_loss,val_loss,val_accuracy,penalty,learning_rate,epoch_seconds,samples_per_second,test_loss,"
    "test_accuracy,compute_seconds,comm_seconds,io_seconds,comm_hidden_seconds,bytes_per_step,skipped_steps";
constexpr std::size_t kMetricsColumns = std::size_t(std::count(kMetricsHeader.begin(), kMetricsHeader.end(), ',')) + 1;

struct TrainCommandOptions {
  DataOptions input;
  std::string out, init_model;
  std::string hidden = "8,8", activation = "tanh", output = "auto", loss = "auto";
  std::string init = "glorot", schedule = "constant", monitor = "val_loss", prefetch = "auto", progress = "auto";
  std::string overlap = "auto", grad_precision = "fp32";
  double bucket_mb = kDefaultBucketMb;
  double lr = 0.03, momentum = 0, l1 = 0, l2 = 0, keep_prob = 1, min_delta = 0;
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
};

// A deadline or a stall timeout becomes a steady_clock time point:
// nanoseconds in 64 bits, 292 years. 10^7 minutes (19 years) keeps any
// start plus the limit inside it.
constexpr double kMaxTimeLimitMinutes = 1e7;

void describe(po::options_description& o, TrainCommandOptions& v) {
  o.add_options()
    ("data", po::value(&v.input.data)->required(), "training data: an HDF5 file (/features, /labels), a shard directory or a glob")
    ("val-data", po::value(&v.input.val_data), "validation data, evaluated after every epoch (early stopping watches it)")
    ("test-data", po::value(&v.input.test_data), "test data, evaluated after every epoch (reported only)")
    ("val-split", number(&v.input.val_split, closed_open(0, 1))->default_value(0), "fraction of --data held out for validation (seeded, stratified)")
    ("test-split", number(&v.input.test_split, closed_open(0, 1))->default_value(0), "fraction of --data held out for testing; the Playground's train ratio R% is --test-split 1-R/100")
    ("features", po::value(&v.input.features)->default_value(""), "input features from 2-D points: any of x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2 (default: the data's columns)")
    ("standardize", po::value(&v.input.standardize)->default_value("auto"), "auto|on|off: scale inputs to mean 0, std 1 with the training data's statistics (auto: on, except for Playground data)")
    ("out", po::value(&v.out)->required(), "run directory for model.h5 and metrics.csv")
    ("overwrite", po::bool_switch(&v.overwrite), "replace a run already in --out")
    ("hidden", po::value(&v.hidden)->default_value(v.hidden), "hidden layer widths, e.g. 8,8 ('none' for no hidden layer)")
    ("activation", po::value(&v.activation)->default_value(v.activation), "hidden units: linear|sigmoid|tanh|relu")
    ("output", po::value(&v.output)->default_value(v.output), "output units: linear|sigmoid|tanh|softmax (auto: softmax for cce, sigmoid for bce, linear for mse)")
    ("loss", po::value(&v.loss)->default_value(v.loss), "mse|bce|cce (auto: cce for class labels, mse for real targets)")
    ("init", po::value(&v.init)->default_value(v.init), "weight initializer: glorot|he|playground")
    ("init-model", po::value(&v.init_model), "start from the weights of this model file instead")
    ("lr", number(&v.lr, above(0))->default_value(v.lr, "0.03"), "learning rate (> 0)")
    ("lr-schedule", po::value(&v.schedule)->default_value(v.schedule), "constant|step (multiply by --lr-decay every --lr-decay-every epochs)")
    ("lr-decay", number(&v.lr_decay, open_closed(0, 1))->default_value(v.lr_decay), "step schedule factor, in (0, 1]")
    ("lr-decay-every", number(&v.lr_decay_every, at_least(1))->default_value(v.lr_decay_every), "step schedule period, epochs (>= 1)")
    ("warmup-steps", number(&v.warmup_steps)->default_value(v.warmup_steps), "linear learning-rate warm-up over this many steps (0: none)")
    ("momentum", number(&v.momentum, closed_open(0, 1))->default_value(v.momentum), "SGD momentum, in [0, 1)")
    ("nesterov", po::bool_switch(&v.nesterov), "use Nesterov momentum")
    ("batch", number(&v.batch, at_least(1))->default_value(v.batch),
     "samples per SGD step, across all ranks (>= 1; a batch larger than the training data is the whole data: "
     "full-batch gradient descent)")
    ("epochs", number(&v.epochs, at_least(1))->default_value(v.epochs), "maximum passes over the training data (>= 1)")
    ("l1", number(&v.l1, at_least(0))->default_value(v.l1), "L1 penalty on weights: l1 * sum|w| (>= 0)")
    ("l2", number(&v.l2, at_least(0))->default_value(v.l2), "L2 penalty on weights: l2 * 0.5 * sum w^2 (>= 0)")
    ("keep-prob", number(&v.keep_prob, open_closed(0, 1))->default_value(v.keep_prob), "dropout: probability of KEEPING a hidden unit, in (0, 1]")
    ("patience", number(&v.patience)->default_value(v.patience), "early stopping: epochs without improvement before stopping (0: off)")
    ("min-delta", number(&v.min_delta, at_least(0))->default_value(v.min_delta), "early stopping: smallest change that counts as improvement (>= 0)")
    ("monitor", po::value(&v.monitor)->default_value(v.monitor), "early stopping metric: val_loss|val_accuracy|train_loss")
    ("no-restore-best", po::bool_switch(&v.no_restore_best), "keep the last weights, not the best, when early stopping")
    ("seed", number(&v.seed)->default_value(v.seed), "seed for initialization, shuffling and dropout")
    ("threads", number(&v.threads, at_least(0))->default_value(v.threads), "BLAS threads per rank (0: this host's cores / the ranks on it)")
    ("prefetch", po::value(&v.prefetch)->default_value(v.prefetch), "assemble the next batch on a helper thread during compute: auto|on|off (auto: for batches of 32768+ values)")
    ("overlap", po::value(&v.overlap)->default_value(v.overlap),
     "sum gradients in buckets on a background thread while backward runs: auto|on|off (auto: on when the ranks "
     "span more than one host and each rank may run on more cores than its BLAS threads, so the exchange thread "
     "has a core of its own; otherwise one fused sum after backward, measured faster there)")
    ("bucket-mb", number(&v.bucket_mb, closed(0.01, 1024))->default_value(v.bucket_mb),
     "with --overlap: megabytes (2^20 bytes) of gradient per bucket")
    ("grad-precision", po::value(&v.grad_precision)->default_value(v.grad_precision),
     "fp32|bf16|fp16: gradients cross the network as 16-bit values (half the bytes), summed in fp32 and "
     "identical on every rank; fp16 scales the loss and skips steps that overflow (counted in metrics.csv)")
    ("quiet", po::bool_switch(&v.quiet), "print only the final summary")
    ("progress", po::value(&v.progress)->default_value(v.progress),
     "bar|plain|auto: a redrawn progress bar, or timestamped lines for logs (auto: bar on a terminal, "
     "plain under mpirun/srun, whose ranks see a pseudo-terminal even when the job's output goes to a file)")
    ("log-all-ranks", po::bool_switch(&v.log_all_ranks),
     "every rank prints its epoch lines (with its own compute/comm/io seconds), prefixed by its rank")
    ("checkpoint-every", number(&v.checkpoint_every)->default_value(0), "write RUN_DIR/checkpoint.h5 every this many epochs (0: never)")
    ("checkpoint-seconds", number(&v.checkpoint_seconds, at_least(0))->default_value(0), "also write it when this many seconds passed since the last one (0: never)")
    ("time-limit", number(&v.time_limit_minutes, closed(0, kMaxTimeLimitMinutes))->default_value(0),
     "minutes this run may take: checkpoint and stop (exit status 75, resume me) before then (0: no limit)")
    ("stall-timeout", number(&v.stall_timeout_seconds, closed(0, kMaxTimeLimitMinutes * 60))->default_value(0),
     "seconds a rank may wait for the others at a collective before the ranks that keep it waiting are named and "
     "the job ends (exit status 1; the last checkpoint is kept). 0: automatic, 600 while reading data, then the "
     "larger of 120 and 20 times the longest step or epoch-end seen")
    ("resume", po::value(&v.resume), "continue the run in this RUN_DIR from its checkpoint.h5, with its options (options given here override them)")
    ("check-consistency", po::value(&v.check_consistency)->default_value(v.check_consistency)->implicit_value(true),
     "compare a hash of the parameters across ranks after every epoch; a mismatch is an error (on in debug builds)");
}

// --hidden with one input and one output (the least any data gives) must
// count in 64 bits and fit in memory; make_model() checks the real network.
void check_hidden_fits(const std::string& hidden) {
  const std::vector<std::size_t> widths = parse_size_list(hidden, "hidden");
  try {
    require_training_memory(Architecture::mlp(1, widths, Activation::linear, 1, Activation::linear), 1,
                            option_text("hidden", hidden));
  } catch (const ModelError& e) {  // the count overflows
    throw UsageError(option_text("hidden", hidden) + " is too large: " + e.what());
  }
}

void validate(const TrainCommandOptions& v) {
  // The numeric options' ranges were checked as they were parsed (number()).
  validate(v.input);
  if (v.schedule != "constant" && v.schedule != "step")
    throw UsageError("--lr-schedule: unknown schedule '" + v.schedule + "' (expected constant or step)");
  if (v.nesterov && v.momentum == 0) throw UsageError("--nesterov needs --momentum > 0");
  const Activation hidden = parse_activation(v.activation, "--activation");
  if (!is_hidden_activation(hidden))
    throw UsageError("--activation: " + v.activation + " is an output unit, not a hidden one");
  if (hidden == Activation::step)
    throw UsageError("--activation: step units cannot be trained (derivative zero almost everywhere); use sigmoid, tanh or relu");
  if (v.output != "auto") {
    const Activation out = parse_activation(v.output, "--output");
    if (out == Activation::step)
      throw UsageError("--output: step units cannot be trained; use sigmoid, tanh or linear");
  }
  if (v.loss != "auto") parse_loss(v.loss, "--loss");
  if (v.progress != "auto" && v.progress != "bar" && v.progress != "plain")
    throw UsageError("--progress: unknown value '" + v.progress + "' (expected auto, bar or plain)");
  if (v.prefetch != "auto" && v.prefetch != "on" && v.prefetch != "off")
    throw UsageError("--prefetch: unknown value '" + v.prefetch + "' (expected auto, on or off)");
  parse_grad_precision(v.grad_precision, "--grad-precision");
  if (v.overlap != "auto" && v.overlap != "on" && v.overlap != "off")
    throw UsageError("--overlap: unknown value '" + v.overlap + "' (expected auto, on or off)");
  parse_initializer(v.init, "--init");
  parse_monitor(v.monitor, "--monitor");
  check_hidden_fits(v.hidden);
  namespace fs = std::filesystem;
  if (fs::exists(v.out) && !fs::is_directory(v.out))
    throw UsageError("--out: " + v.out + " exists and is not a directory");
  // RUN_DIR must be creatable: its nearest existing ancestor a writable directory.
  fs::path existing = fs::absolute(v.out);
  while (!existing.empty() && !fs::exists(existing) && existing != existing.parent_path()) existing = existing.parent_path();
  if (!fs::is_directory(existing))
    throw UsageError("--out: " + v.out + " cannot be created: " + existing.string() + " is not a directory");
  if (::access(existing.c_str(), W_OK) != 0)
    throw UsageError("--out: " + v.out + " cannot be written: no write permission in " + existing.string());
  // (Whether RUN_DIR already holds a run is checked once it is locked: RunDirectory.)
}

Activation default_output(Loss loss) {
  switch (loss) {
    case Loss::categorical_cross_entropy: return Activation::softmax;
    case Loss::binary_cross_entropy: return Activation::sigmoid;
    case Loss::mse: return Activation::linear;
  }
  return Activation::linear;
}

std::string csv_number(double value) {
  if (std::isnan(value)) return "";
  std::ostringstream text;
  text << std::setprecision(9) << value;
  return text.str();
}

// The classes a model's output layer tells apart (0: none, it regresses):
// one unit per class under softmax, two classes for one sigmoid unit.
std::size_t class_count(const Architecture& a) {
  if (a.output_activation() == Activation::softmax) return a.outputs();
  if (a.output_activation() == Activation::sigmoid && a.outputs() == 1) return 2;
  return 0;
}

// The model to train: from --init-model, or a new one of the asked shape
// (its parameters are set afterwards, on rank 0, and broadcast).
Model<float> make_model(const TrainCommandOptions& v, std::optional<ModelFile>& start, const Dataset& train,
                        Loss loss) {
  if (start) return std::move(start->model);
  const Activation output = v.output == "auto" ? default_output(loss) : parse_activation(v.output, "--output");
  Architecture arch = Architecture::mlp(train.dimension(), parse_size_list(v.hidden, "hidden"),
                                        parse_activation(v.activation, "--activation"), output_units(train, loss),
                                        output);
  require_training_memory(arch, Trainer<float>::workspace_rows(v.batch, train.size()), option_text("hidden", v.hidden));
  return Model<float>(std::move(arch));
}

// The value of --resume in args, if any.
std::optional<std::string> resume_dir(const Args& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--resume" && i + 1 < args.size()) return args[i + 1];
    if (args[i].rfind("--resume=", 0) == 0) return args[i].substr(9);
  }
  return std::nullopt;
}

// The metrics rows of epochs 1..epochs of an earlier part of this run, from
// its metrics.csv (for checkpoints that do not hold them). Each row must
// start with its epoch number, 1 up.
std::vector<std::string> earlier_metrics(const std::string& path, std::size_t epochs) {
  std::vector<std::string> rows;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  for (std::size_t number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const std::string field = line.substr(0, line.find(','));
    std::size_t epoch = 0;
    const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), epoch);
    if (error != std::errc() || end != field.data() + field.size() || epoch != rows.size() + 1)
      throw DataError(path + ": line " + std::to_string(number) + " is not the row of epoch " +
                      std::to_string(rows.size() + 1) + " ('" + line.substr(0, 40) + "')");
    if (epoch <= epochs) rows.push_back(line);
  }
  return rows;
}

// FNV-1a over the parameters' bytes: equal on every rank iff the replicas are.
std::uint64_t parameter_hash(std::span<const float> values) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  const auto* bytes = reinterpret_cast<const unsigned char*>(values.data());
  for (std::size_t i = 0; i < values.size_bytes(); ++i) hash = (hash ^ bytes[i]) * 0x100000001b3ull;
  return hash;
}

// Test hook for the fault tests: SINAPSIS_INJECT_FAULT=RANK:EPOCH makes that
// rank throw after that epoch, mid-training, as an I/O error or a bug would.
// Returns the epoch for this rank (0: none).
std::size_t injected_fault_epoch(int rank) {
  const char* spec = std::getenv("SINAPSIS_INJECT_FAULT");
  if (spec == nullptr) return 0;
  int fault_rank = -1;
  std::size_t epoch = 0;
  if (std::sscanf(spec, "%d:%zu", &fault_rank, &epoch) != 2)
    throw UsageError(std::string("SINAPSIS_INJECT_FAULT: expected RANK:EPOCH, got '") + spec + "'");
  return fault_rank == rank ? epoch : 0;
}

// Totals over this invocation's epochs (rank 0's timings).
struct RunTotals {
  double compute = 0, comm = 0, comm_hidden = 0, io = 0, epoch = 0, samples = 0, train_seconds = 0;
  double bytes_per_step = 0;
  std::size_t skipped_steps = 0;
  void add(const EpochMetrics& m, std::size_t samples_per_epoch) {
    compute += m.compute_seconds;
    comm += m.comm_seconds;
    comm_hidden += m.comm_hidden_seconds;
    bytes_per_step = m.bytes_per_step;
    skipped_steps += m.skipped_steps;
    io += m.io_seconds;
    epoch += m.epoch_seconds;
    if (m.partial || !(m.samples_per_second > 0)) return;
    samples += double(samples_per_epoch);
    train_seconds += double(samples_per_epoch) / m.samples_per_second;
  }
  double samples_per_second() const { return train_seconds > 0 ? samples / train_seconds : 0; }
};

nlohmann::ordered_json epoch_json(const EpochMetrics& m) {
  return {{"epoch", m.epoch},
          {"train_loss", m.train_loss},
          {"val_loss", m.val_loss},
          {"val_accuracy", m.val_accuracy},
          {"test_loss", m.test_loss},
          {"test_accuracy", m.test_accuracy},
          {"penalty", m.penalty},
          {"learning_rate", m.learning_rate}};
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One metrics.csv row (without the newline).
void write_metrics_row(std::ostream& out, const EpochMetrics& m) {
  out << m.epoch << ',' << csv_number(m.train_loss) << ',' << csv_number(m.val_loss) << ','
      << csv_number(m.val_accuracy) << ',' << csv_number(m.penalty) << ',' << csv_number(m.learning_rate) << ','
      << csv_number(m.epoch_seconds) << ',' << csv_number(m.samples_per_second) << ',' << csv_number(m.test_loss)
      << ',' << csv_number(m.test_accuracy) << ',' << csv_number(m.compute_seconds) << ','
      << csv_number(m.comm_seconds) << ',' << csv_number(m.io_seconds) << ',' << csv_number(m.comm_hidden_seconds)
      << ',' << csv_number(m.bytes_per_step) << ',' << m.skipped_steps;
}

// The options a resumed run may change: how long it runs, how it checkpoints
// and reports, how it uses the machine. Everything else made the run what it
// is; changing it would make the checkpoint's run and the recorded
// configuration two different things.
bool may_change_on_resume(const std::string& name) {
  static const std::set<std::string> changeable{
      "epochs",   "time-limit", "checkpoint-every", "checkpoint-seconds", "threads",  "prefetch", "overlap", "bucket-mb",
      "quiet",    "progress",   "log-all-ranks",    "check-consistency",  "stall-timeout", "resume",
      "out",      "config",     "overwrite"};
  return changeable.count(name) > 0;
}

// Refuses a resume that changes an option the run cannot change (UsageError
// naming the option, the run's value and the given one).
void check_resume_changes(const Args& stored, const po::variables_map& now, const std::string& run_dir) {
  po::options_description options("sinapsis train options");
  TrainCommandOptions ignored;
  describe(options, ignored);
  po::variables_map before;
  parse("train", stored, options, before, "");
  const auto then_values = option_values(before, {});
  for (const auto& [name, value] : option_values(now, {})) {
    if (may_change_on_resume(name)) continue;
    const auto then = std::find_if(then_values.begin(), then_values.end(), [&](const auto& p) { return p.first == name; });
    const std::string was = then == then_values.end() ? "(not set)" : then->second;
    if (was != value)
      throw UsageError("--" + name + " cannot change when resuming " + run_dir + " (the run has " + was +
                       ", given " + value + "); start a new run with --out instead");
  }
}

}  // namespace

int train_command(const Args& args, Communicator& comm) { return run_training(args, comm).status; }

std::vector<CommandOptions> train_options() { return {described<TrainCommandOptions>("train")}; }

void check_train_arguments(const Args& args, bool open_data) {
  po::options_description options("sinapsis train options");
  TrainCommandOptions v;
  describe(options, v);
  po::variables_map values;
  if (!parse("train", args, options, values, "")) return;
  validate(v);
  if (!open_data) return;
  for (const std::string* spec : {&v.input.data, &v.input.val_data, &v.input.test_data})
    if (!spec->empty()) open_data_source(*spec);
}

TrainOutcome run_training(const Args& args, Communicator& comm, bool silent) {
  TrainOutcome outcome;
  const auto started = std::chrono::steady_clock::now();
  const StopSignals signals;  // SIGTERM / SIGUSR1: checkpoint after the current step, exit kExitResume
  po::options_description options("sinapsis train options");
  TrainCommandOptions v;
  describe(options, v);
  // --resume RUN_DIR: the checkpoint's own options, overridden by any given.
  std::optional<Checkpoint> resumed;
  Args effective = args;
  if (const auto dir = resume_dir(args)) {
    agree(comm, [&] { resumed = read_checkpoint((std::filesystem::path(*dir) / "checkpoint.h5").string()); });
    // (--out is the directory resumed; --overwrite was for the start of the run)
    effective = merge_arguments(options, resumed->arguments, args, {"out", "overwrite"});
    effective.insert(effective.end(), {"--out", *dir});
  }
  // The options of --config FILE, as if given (the checkpoint stores these).
  effective = expand_config("train", options, effective);
  po::variables_map values;
  if (!parse("train", effective, options, values, "--data TRAIN.h5 --out RUN_DIR [options]")) return outcome;
  if (silent) v.quiet = true;
  const bool lead = comm.rank() == 0;  // rank 0 alone prints and writes files
  // The time limit counts from the start, and holds from the start: a rank
  // held up by a stalled peer ends the job at deadline.end_at.
  const Deadline deadline = Deadline::after_minutes(v.time_limit_minutes, started);
  StallOptions stalls;
  stalls.timeout_seconds = v.stall_timeout_seconds;
  stalls.hard_deadline = deadline.end_at;
  stalls.error_prefix = "sinapsis train: error: ";
  comm.watch_stalls(stalls);  // the setup phase: reading data may keep ranks waiting long
  agree(comm, [&] {
    if (resumed && v.overwrite) throw UsageError("--overwrite and --resume: choose one");
    if (resumed) check_resume_changes(resumed->arguments, values, v.out);
    validate(v);
  });
  // Rank 0 writes RUN_DIR: it locks it for the whole job before anything
  // else can fail or write (a second job on it is refused here). The lock's
  // holder record is written after the agreement above, which every rank
  // joined: launch/slurm/*.sbatch read it as "every rank is up" (past
  // MPI_Init, its signal handlers installed) before passing on a signal.
  // Keep the lock after a collective.
  std::optional<RunDirectory> run_directory;
  agree(comm, [&] {
    if (!lead) return;
    const auto mode = resumed       ? RunDirectory::Mode::resume
                      : v.overwrite ? RunDirectory::Mode::overwrite
                                    : RunDirectory::Mode::fresh;
    run_directory.emplace(v.out, mode, resumed ? "--resume" : "--out", "sinapsis train");
  });
  // BLAS threads per rank: this host's cores shared by its ranks, unless --threads.
  const HostLayout layout = host_layout(comm);
  set_blas_threads(resolve_threads(v.threads, layout));
  // The overlapped exchange can only pay where the sum crosses a network and
  // its thread has a core of its own: on one host shared memory is fast and
  // one fused call is cheaper, and a thread sharing the compute core slowed
  // the step down on emulated hosts of one core (BENCHMARKS.md, "Overlap").
  const bool spare_core = usable_cpus() > resolve_threads(v.threads, layout);
  const bool overlap = v.overlap == "on" || (v.overlap == "auto" && layout.hosts().size() > 1 && spare_core);
  CommunicatorGroup group(comm, overlap);

  // Everything that can fail on one rank (its part of the data, shapes)
  // happens before training, inside agree(), and all ranks agree on the
  // outcome. Collectives happen only between those phases.
  DataOptions input = v.input;
  input.seed = v.seed;
  input.class_labels = v.loss == "bce" || v.loss == "cce";
  PreparedData data;
  std::optional<ModelFile> start;
  agree(comm, [&] {
    if (!v.init_model.empty()) {
      start.emplace(read_model_file(v.init_model));
      start->model.architecture().check_trainable();
    }
    // A model to continue fixes the class count: the training labels must
    // fit it (checked as they are read, naming file and row).
    const ModelFile* fixed = start ? &*start : resumed ? &resumed->model : nullptr;
    if (fixed) {
      input.classes = class_count(fixed->model.architecture());
      input.classes_from = "the model " + (start ? v.init_model : v.out + "/checkpoint.h5");
    }
    data = read_training_data(input, std::size_t(comm.rank()), std::size_t(comm.size()));
  });
  finish_training_data(data, input, comm, resumed ? &resumed->model.standardizer : nullptr);
  if (resumed) start.emplace(std::move(resumed->model));

  std::optional<Model<float>> model;
  Loss loss = Loss::mse;
  std::optional<EncodedData<float>> train_data, val_data, test_data;
  TrainOptions t;
  agree(comm, [&] {
    loss = v.loss != "auto"                         ? parse_loss(v.loss, "--loss")
           : start && start->has_loss               ? start->loss
           : data.train.task == Task::classification ? Loss::categorical_cross_entropy
                                                     : Loss::mse;
    model.emplace(make_model(v, start, data.train, loss));
    const Architecture& arch = model->architecture();
    check_loss_output(loss, arch.output_activation());
    if (arch.inputs() != data.train.dimension())
      throw ModelError("model takes " + std::to_string(arch.inputs()) + " inputs but " + v.input.data + " has " +
                       std::to_string(data.train.dimension()) + " features");
    // The encoded data takes the features over: a rank holds its part once.
    const auto encode_part = [&](Dataset& part, const std::string& file) {
      return encode_moving(std::move(part), loss, arch.output_activation(), arch.outputs(),
                           file.empty() ? v.input.data : file);
    };
    train_data = encode_part(data.train, v.input.data);
    if (data.val) val_data = encode_part(*data.val, v.input.val_data);
    if (data.test) test_data = encode_part(*data.test, v.input.test_data);
    t.loss = loss;
    t.batch = v.batch;
    t.epochs = v.epochs;
    t.schedule = {v.lr, v.schedule == "step" ? ScheduleKind::step_decay : ScheduleKind::constant, v.lr_decay,
                  v.lr_decay_every, v.warmup_steps};
    t.sgd = {v.momentum, v.nesterov, {v.l1, v.l2}};
    t.keep_prob = v.keep_prob;
    t.early_stopping = {v.patience, v.min_delta, !v.no_restore_best};
    t.checkpoints = {v.checkpoint_every, v.checkpoint_seconds};
    t.monitor = parse_monitor(v.monitor, "--monitor");
    t.seed = v.seed;
    // A helper thread only overlaps when it has a CPU of its own: under
    // mpirun each rank is bound to one core, where it would preempt compute.
    t.prefetch = v.prefetch == "on"    ? TrainOptions::Prefetch::on
                 : v.prefetch == "off" ? TrainOptions::Prefetch::off
                 : usable_cpus() < 2   ? TrainOptions::Prefetch::off
                                       : TrainOptions::Prefetch::automatic;
    t.grad_precision = parse_grad_precision(v.grad_precision, "--grad-precision");
    if (overlap) t.bucket_floats = std::max<std::size_t>(1, std::size_t(v.bucket_mb * 1024 * 1024 / sizeof(float)));
  });
  {
    const Architecture& a = model->architecture();
    std::ostringstream mine;
    mine << "model " << a.describe() << " with " << a.parameter_count() << " parameters; data D=" << train_data->features.cols
         << " classes=" << data.train.classes << " task=" << (data.train.task == Task::classification ? "classification" : "regression")
         << " features=" << data.features.text() << "; loss " << loss_name(loss) << " batch " << t.batch << " epochs "
         << t.epochs << " lr " << t.schedule.base << " momentum " << t.sgd.momentum << " l1 " << t.sgd.penalty.l1
         << " l2 " << t.sgd.penalty.l2 << " keep_prob " << t.keep_prob << " patience " << t.early_stopping.patience_epochs
         << " seed " << t.seed;
    // The model, the data schema and the options that shape the computation.
    require_same_on_every_rank(comm, "before training", mine.str());
  }
  // The encoded data is what training reads: free what is left of the raw.
  for (Dataset* part : {&data.train, data.val ? &*data.val : nullptr, data.test ? &*data.test : nullptr})
    if (part) *part = Dataset{};
  // Every rank starts from rank 0's parameters.
  if (!start && lead) initialize(*model, parse_initializer(v.init, "--init"), v.seed);
  // (a resumed run takes its parameters from the checkpoint, like --init-model)
  comm.broadcast(model->parameters(), 0);
  std::optional<Trainer<float>> trainer;
  // The trainer's constructor meets the other ranks (it sums the row counts):
  // it runs outside agree() on every rank; its checks fail alike everywhere.
  try {
    trainer.emplace(*model, *train_data, val_data ? &*val_data : nullptr, t, test_data ? &*test_data : nullptr,
                    &group);
  } catch (const UsageError& e) {  // the same on every rank: its checks see agreed values
    throw AgreedFailure(e.what(), kExitUsage);
  } catch (const std::exception& e) {
    throw AgreedFailure(e.what(), kExitFailure);
  }
  if (resumed) {
    // A partial epoch stopped before its last step; with the same ranks the
    // epoch has the same steps (with others, restore() clips).
    if (resumed->ranks == comm.size() && resumed->state.steps_into_epoch >= trainer->steps_per_epoch())
      throw AgreedFailure(v.out + "/checkpoint.h5: /checkpoint attribute steps_into_epoch is " +
                              std::to_string(resumed->state.steps_into_epoch) + ", past the " +
                              std::to_string(trainer->steps_per_epoch()) + " steps of an epoch",
                          kExitFailure);
    trainer->restore(resumed->state);
  }
  stalls.training = true;
  comm.watch_stalls(stalls);
  trainer->watch_stop_request([&] {
    if (signals.received() != 0) return StopRequest::asked;
    return deadline.passed(std::chrono::steady_clock::now()) ? StopRequest::deadline : StopRequest::none;
  });
  const Architecture& arch = model->architecture();

  // Rank 0 keeps the metrics rows and writes metrics.csv whole, with every
  // checkpoint and at the end; a resumed run starts from the rows it had.
  const std::string run_dir = v.out;
  const auto in_run = [&](const char* name) { return (std::filesystem::path(run_dir) / name).string(); };
  std::vector<std::string> metric_rows;
  agree(comm, [&] {
    if (resumed && lead)
      metric_rows = resumed->metric_rows ? *resumed->metric_rows
                                         : earlier_metrics(in_run("metrics.csv"), resumed->state.epochs_done);
    // Rows of a run begun by an earlier version lack the newer columns
    // (comm_hidden_seconds, bytes_per_step): empty fields keep the file rectangular.
    for (auto& row : metric_rows)
      for (auto fields = std::size_t(std::count(row.begin(), row.end(), ',')) + 1; fields < kMetricsColumns; ++fields)
        row += ',';
  });
  const std::string config = config_text("train", values, {"resume", "overwrite"});
  const auto write_metrics = [&] {  // and config.ini beside it
    run_directory->before_writing();
    AtomicFile config_file(in_run("config.ini"));
    config_file.stream() << config;
    config_file.commit();
    AtomicFile file(in_run("metrics.csv"));
    file.stream() << kMetricsHeader << '\n';
    for (const auto& row : metric_rows) file.stream() << row << '\n';
    file.commit();
  };
  const auto total = std::size_t(comm.allreduce(double(train_data->size()), ReduceOp::sum));
  if (lead && !v.quiet)
    std::cout << "sinapsis train: " << arch.describe() << ", " << arch.parameter_count() << " parameters, loss "
              << loss_name(loss) << ", " << total << " training samples on " << comm.size() << " rank(s)"
              << std::endl;
  // Rank 0 prints progress (every rank with --log-all-ranks).
  std::optional<Progress> progress;
  if (!v.quiet && (lead || v.log_all_ranks)) {
    Progress::Options p;
    p.terminal = !v.log_all_ranks && (v.progress == "bar" || (v.progress == "auto" && ::isatty(STDOUT_FILENO) &&
                                                               !under_mpi_launcher()));
    if (v.log_all_ranks) p.prefix = "[rank " + std::to_string(comm.rank()) + "] ";
    p.show_timing = v.log_all_ranks;
    progress.emplace(std::cout, p, trainer->epochs_done(), v.epochs, val_data.has_value(), test_data.has_value());
    trainer->watch_steps([&](std::size_t epoch, std::size_t step, std::size_t steps, std::size_t samples) {
      progress->step(epoch, step, steps, samples, Progress::Clock::now());
    });
  }
  EpochMetrics last;
  RunTotals run_totals;
  const std::size_t fault_epoch = injected_fault_epoch(comm.rank());
  const TrainResult result = trainer->run([&](const EpochMetrics& m) {
    last = m;
    if (m.epoch == fault_epoch)
      throw std::runtime_error("injected fault after epoch " + std::to_string(m.epoch) + " (SINAPSIS_INJECT_FAULT)");
    if (v.check_consistency && comm.size() > 1) {
      const std::uint64_t hash = parameter_hash(model->parameters());
      if (comm.allreduce(hash, ReduceOp::min) != comm.allreduce(hash, ReduceOp::max))
        throw AgreedFailure("replicas differ after epoch " + std::to_string(m.epoch) +
                                " (--check-consistency): the ranks no longer hold the same parameters",
                            kExitFailure);
    }
    if (progress) progress->epoch(m, Progress::Clock::now());
    if (lead) run_totals.add(m, total);
    if (lead && !m.partial) {  // a partial epoch continues on resume; its row comes then
      std::ostringstream row;
      write_metrics_row(row, m);
      metric_rows.push_back(row.str());
    }
    // The coordinator never asks for a checkpoint of a diverged epoch: the
    // last checkpoint keeps finite weights. The checkpoint first, holding
    // the metrics rows, then metrics.csv: a failure between the two leaves
    // metrics.csv behind the checkpoint, never ahead, and a resume takes
    // the rows from the checkpoint. A write that fails on rank 0 ends the
    // run the same way on every rank (a trial of a sweep fails alone).
    if (m.checkpoint)
      agree(comm, [&] {
        if (!lead) return;
        run_directory->before_writing();
        write_checkpoint(in_run("checkpoint.h5"), *model, loss, data.features.text(), data.standardizer,
                         trainer->state(), effective, comm.size(), metric_rows);
        write_metrics();
      });
  });

  if (progress) progress->finish();
  // Peak resident memory of the largest rank (the data is rank-local, so it
  // shrinks with more ranks).
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto peak_kib = comm.allreduce(std::int64_t(usage.ru_maxrss), ReduceOp::max);
  // RUN_DIR/summary.json (rank 0): what a person or a sweep reads afterwards.
  const auto write_summary = [&](const std::string& stop_reason,
                                 const std::vector<std::pair<std::string, Evaluation>>& held_out) {
    nlohmann::ordered_json options_json = nlohmann::ordered_json::object();
    for (const auto& [name, value] : option_values(values, {"resume"})) options_json[name] = value;
    nlohmann::ordered_json kept = nlohmann::ordered_json::object();
    for (const auto& [name, e] : held_out) {
      kept[name + "_loss"] = e.loss;
      kept[name + "_accuracy"] = e.accuracy;
    }
    nlohmann::ordered_json summary = {
        {"sinapsis", SINAPSIS_VERSION},
        {"commit", kBuildCommit},
        {"run_dir", run_dir},
        {"configuration", options_json},
        {"ranks", comm.size()},
        {"hosts", layout.hosts()},
        {"blas_threads_per_rank", resolve_threads(v.threads, layout)},
        {"model",
         {{"architecture", arch.describe()}, {"parameters", arch.parameter_count()}, {"loss", loss_name(loss)}}},
        {"training_samples", total},
        {"epochs_run", result.epochs_run},
        {"stop_reason", stop_reason},
        {"final_epoch", last.epoch > 0 && !last.partial ? epoch_json(last) : nlohmann::ordered_json::object()},
        {"best",
         {{"epoch", result.best_epoch},
          {"monitor", val_data ? v.monitor : std::string("train_loss")},
          {"value", result.best_monitored}}},
        {"kept_model", kept},
        {"wall_seconds", seconds_since(started)},
        {"samples_per_second", run_totals.samples_per_second()},
        {"time_seconds",
         {{"compute", run_totals.compute},
          {"communication", run_totals.comm},
          {"communication_hidden", run_totals.comm_hidden},
          {"io", run_totals.io},
          {"evaluation_and_other", run_totals.epoch - run_totals.compute - run_totals.comm - run_totals.io}}},
        {"exchange",
         {{"overlap", overlap && group.background()},
          {"bucket_mb", overlap ? v.bucket_mb : 0.0},
          {"bytes_per_step", run_totals.bytes_per_step},
          {"grad_precision", v.grad_precision},
          {"skipped_steps", run_totals.skipped_steps}}},
        {"peak_memory_mib_per_rank", double(peak_kib) / 1024}};
    if (result.reason == StopReason::diverged)
      summary["diverged"] = {{"epoch", result.diverged_epoch}, {"step", result.diverged_step}};
    run_directory->before_writing();
    AtomicFile file(in_run("summary.json"));
    file.stream() << json_text(summary) << "\n";
    file.commit();
  };

  if (result.reason == StopReason::requested) {
    // Every rank got here after the same step; rank 0 wrote the checkpoint.
    // Every rank agreed on the kind; the signal's name is known where it came.
    const bool asked = result.request == StopRequest::asked;
    const std::string stop_reason = asked ? "signal" : "time_limit";
    agree(comm, [&] {
      if (lead) write_summary(stop_reason, {});
    });
    if (lead) {
      const std::string why = !asked                    ? "--time-limit"
                              : signals.received() != 0 ? StopSignals::name(signals.received())
                                                        : "a signal to another rank";
      if (!silent)
        std::cout << "stopped by " << why << (last.partial ? " in epoch " : " at the end of epoch ") << last.epoch
                << (last.partial ? ", after step " + std::to_string(last.steps_done) : std::string())
                << "; wrote " << in_run("checkpoint.h5")
                << "\nresume with: sinapsis train --resume " << run_dir << std::endl;
    }
    outcome.status = kExitResume;
    outcome.stop_reason = stop_reason;
    return outcome;
  }
  // The model as kept, on the held-out parts (summed over the ranks).
  std::vector<std::pair<std::string, Evaluation>> held_out;
  Workspace<float> ws(arch, 1024);
  for (const auto& [name, part] : {std::pair{"val", &val_data}, std::pair{"test", &test_data}}) {
    if (!*part) continue;
    EvaluationSums sums = evaluation_sums(*model, ws, **part, loss);
    std::array<double, 3> totals{sums.loss, sums.correct, sums.samples};
    comm.allreduce(std::span<double>(totals), ReduceOp::sum);
    held_out.emplace_back(name, finish_evaluation({totals[0], totals[1], totals[2]}, loss, arch.outputs(),
                                                  !(*part)->class_ids.empty()));
  }
  agree(comm, [&] {
    if (!lead) return;
    run_directory->before_writing();
    write_model_file(in_run("model.h5"), *model, loss, data.features.text(), data.standardizer);
    write_metrics();
    write_summary(std::string(stop_reason_name(result.reason)), held_out);
  });
  if (result.reason == StopReason::diverged)
    throw AgreedFailure("training diverged: NaN or Inf in the loss or gradients in epoch " +
                            std::to_string(result.diverged_epoch) + ", step " + std::to_string(result.diverged_step) +
                            "; " + v.out + "/model.h5 holds the weights of the last finite epoch (" +
                            std::to_string(result.diverged_epoch - 1) + "). Lower --lr?",
                        kExitFailure);
  outcome.stop_reason = stop_reason_name(result.reason);
  outcome.epochs_run = result.epochs_run;
  outcome.parameters = arch.parameter_count();
  outcome.inputs = arch.inputs();
  outcome.architecture = arch.describe();
  outcome.best_epoch = result.best_epoch;
  outcome.best_monitored = result.best_monitored;
  for (const auto& [name, e] : held_out) {
    (name == "val" ? outcome.val_loss : outcome.test_loss) = e.loss;
    (name == "val" ? outcome.val_accuracy : outcome.test_accuracy) = e.accuracy;
  }
  outcome.seconds = seconds_since(started);
  if (!lead || silent) return outcome;
  std::cout << "stopped: " << stop_reason_name(result.reason) << " after " << result.epochs_run << " epochs";
  if (last.epoch > 0)
    std::cout << "; last train_loss " << last.train_loss;
  else  // resumed at or past --epochs: nothing left to train
    std::cout << " (the checkpoint was already at epoch " << result.epochs_run << "; nothing left to train)";
  if (result.best_epoch > 0 && t.early_stopping.patience_epochs > 0 && t.early_stopping.restore_best)
    std::cout << "; kept the weights of epoch " << result.best_epoch;
  for (const auto& [name, e] : held_out) {
    std::cout << "\n" << name << "_loss " << e.loss;
    if (!std::isnan(e.accuracy)) std::cout << "  " << name << "_accuracy " << e.accuracy;
  }
  std::cout << "\npeak memory per rank: " << peak_kib / 1024 << " MiB";
  std::cout << "\nwrote " << v.out << "/model.h5, metrics.csv, summary.json and config.ini" << std::endl;
  return outcome;
}

}  // namespace sinapsis::cli
