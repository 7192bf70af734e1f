#include "launch/train_plan.hpp"

#include <unistd.h>  // access

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/half.hpp"
#include "core/number_text.hpp"
#include "core/init.hpp"
#include "launch/agreement.hpp"
#include "launch/config_file.hpp"
#include "launch/memory_check.hpp"

namespace sinapsis::cli {
namespace {

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

// The options a resumed run may change: how long it runs, how it checkpoints
// and reports, how it uses the machine. Everything else made the run what it
// is; changing it would make the checkpoint's run and the recorded
// configuration two different things.
bool may_change_on_resume(const std::string& name) {
  static const std::set<std::string> changeable{
      "epochs",   "time-limit", "checkpoint-every", "checkpoint-seconds", "threads",  "prefetch", "overlap", "bucket-mb",
      "quiet",    "progress",   "log-all-ranks",    "check-consistency",  "stall-timeout", "resume",
      "out",      "config",     "overwrite",        "data-in-memory",     "memory-budget"};
  return changeable.count(name) > 0;
}

bool is_path_option(const std::string& name) {
  return std::find(kPathOptions.begin(), kPathOptions.end(), name) != kPathOptions.end();
}

// `args` with the values of kPathOptions made absolute.
Args with_absolute_paths(const po::options_description& options, const Args& args) {
  Args out;
  for (auto [name, tokens] : option_groups(options, args)) {
    if (is_path_option(name)) {
      if (tokens.size() == 2) tokens[1] = absolute_path(tokens[1]);
      else tokens[0] = "--" + name + "=" + absolute_path(tokens[0].substr(tokens[0].find('=') + 1));
    }
    out.insert(out.end(), tokens.begin(), tokens.end());
  }
  return out;
}

// Refuses a resume that changes an option the run cannot change (UsageError
// naming the option, the run's value and the given one). Paths compare as
// absolute paths (a run of an earlier version stored them as given).
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
    if (is_path_option(name) && then != then_values.end() && absolute_path(was) == absolute_path(value)) continue;
    if (was != value)
      throw UsageError("--" + name + " cannot change when resuming " + run_dir + " (the run has " + was +
                       ", given " + value + "); start a new run with --out instead");
  }
}

// --resume RUN_DIR, if given: a first pass over the command line that reads
// it alone (every other option passed over), as the second pass would.
std::optional<std::string> resume_dir(const Args& args) {
  po::options_description resume;
  std::string dir;
  resume.add_options()("resume", po::value(&dir));
  return parse_known(args, resume).count("resume") ? std::optional(dir) : std::nullopt;
}

// --out beside --resume DIR: the run stays where it is.
void check_resumed_out(const Args& tokens, const std::string& dir) {
  const std::string out = tokens.size() == 2 ? tokens[1] : tokens[0].substr(tokens[0].find('=') + 1);
  std::error_code error;
  if (!std::filesystem::equivalent(out, dir, error))
    throw UsageError("--out " + out + " with --resume " + dir + ": a resumed run stays in its directory; drop --out");
}

}  // namespace

std::string absolute_path(const std::string& path) {
  if (path.empty()) return path;
  return std::filesystem::absolute(path).lexically_normal().string();
}

void describe(po::options_description& o, TrainCommandOptions& v) {
  // In groups, so that --help (and the man page) stays readable.
  po::options_description data("Data");
  data.add_options()
    ("data", po::value(&v.input.data)->required(), "training data: an HDF5 file (/features, /labels), a shard directory or a glob")
    ("val-data", po::value(&v.input.val_data), "validation data, evaluated after every epoch (early stopping watches it)")
    ("test-data", po::value(&v.input.test_data), "test data, evaluated after every epoch (reported only)")
    ("val-split", number(&v.input.val_split, closed_open(0, 1))->default_value(0), "fraction of --data held out for validation (seeded, stratified)")
    ("test-split", number(&v.input.test_split, closed_open(0, 1))->default_value(0), "fraction of --data held out for testing; the Playground's train ratio R% is --test-split 1-R/100")
    ("features", po::value(&v.input.features)->default_value(""), "input features from 2-D points: any of x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2 (default: the data's columns)")
    ("standardize", po::value(&v.input.standardize)->default_value("auto"), "auto|on|off: scale inputs to mean 0, std 1 with the training data's statistics (auto: on, except for Playground data)")
    ("shuffle", po::value(&v.shuffle)->default_value(v.shuffle), "global|shard|none: global reshuffles the whole data set across the ranks every epoch (blocks of --shuffle-block rows, then a buffer of --shuffle-buffer rows per rank); shard: each rank shuffles its own part; none: its part in order")
    ("shuffle-block", number(&v.shuffle_block, at_least(1))->default_value(v.shuffle_block), "rows read together, the unit --shuffle global permutes across ranks")
    ("shuffle-buffer", number(&v.shuffle_buffer, at_least(1))->default_value(v.shuffle_buffer), "rows each rank draws its batches from at random, when the data is streamed or --shuffle global")
    ("data-in-memory", po::value(&v.data_in_memory)->default_value(v.data_in_memory), "auto|on|off: hold the training rows in memory, or stream them from the files (auto: stream when the rows a rank holds would not fit --memory-budget)")
    ("memory-budget", po::value(&v.memory_budget)->default_value(v.memory_budget), "memory a rank may give the training data, e.g. 256MB or 2GB (auto: half this host's memory shared by its ranks)");
  po::options_description model("Model");
  model.add_options()
    ("hidden", po::value(&v.hidden)->default_value(v.hidden), "hidden layer widths, e.g. 8,8 ('none' for no hidden layer)")
    ("activation", po::value(&v.activation)->default_value(v.activation), "hidden units: linear|sigmoid|tanh|relu")
    ("output", po::value(&v.output)->default_value(v.output), "output units: linear|sigmoid|tanh|softmax (auto: softmax for cce, sigmoid for bce, linear for mse)")
    ("loss", po::value(&v.loss)->default_value(v.loss), "mse|bce|cce (auto: cce for class labels, mse for real targets)")
    ("init", po::value(&v.init)->default_value(v.init), "weight initializer: glorot|he|playground")
    ("init-model", po::value(&v.init_model), "start from the weights of this model file instead");
  po::options_description optimization("Optimization");
  optimization.add_options()
    ("optimizer", po::value(&v.optimizer)->default_value(v.optimizer),
     "sgd|adam|adamw|rmsprop, as PyTorch 1.13 defines them (README: Optimizers)")
    ("lr", number(&v.lr, above(0))->default_value(v.lr, "0.03"), "learning rate (> 0)")
    ("momentum", number(&v.momentum, closed_open(0, 1))->default_value(v.momentum), "sgd and rmsprop momentum, in [0, 1)")
    ("nesterov", po::bool_switch(&v.nesterov), "sgd: use Nesterov momentum")
    ("beta1", number(&v.beta1, closed_open(0, 1))->default_value(v.beta1), "adam, adamw: decay of the gradient's running mean, in [0, 1)")
    ("beta2", number(&v.beta2, closed_open(0, 1))->default_value(v.beta2, "0.999"), "adam, adamw: decay of the squared gradient's running mean, in [0, 1)")
    ("eps", number(&v.eps, above(0))->default_value(v.eps, "1e-08"), "adam, adamw, rmsprop: added to the root of the squared gradient's mean (> 0)")
    ("alpha", number(&v.alpha, closed_open(0, 1))->default_value(v.alpha), "rmsprop: decay of the squared gradient's running mean, in [0, 1)")
    ("weight-decay", number(&v.weight_decay, at_least(0))->default_value(v.weight_decay),
     "weights only: adamw's decoupled decay (w *= 1 - lr * weight-decay each step); for sgd, adam and rmsprop "
     "L2 in the gradient, added to --l2 (>= 0)")
    ("batch", number(&v.batch, at_least(1))->default_value(v.batch),
     "samples per SGD step, across all ranks (>= 1; a batch larger than the training data is the whole data: "
     "full-batch gradient descent)")
    ("epochs", number(&v.epochs, at_least(1))->default_value(v.epochs), "maximum passes over the training data (>= 1)")
    ("lr-schedule", po::value(&v.schedule)->default_value(v.schedule),
     "constant|step|cosine|onecycle|plateau: step multiplies by --lr-decay every --lr-decay-every epochs; cosine "
     "anneals per epoch from --lr to --min-lr over --epochs (or every --cosine-restart epochs); onecycle rises "
     "from --lr/25 to --lr over the first 30% of the steps, then anneals to --lr/25e4; plateau multiplies by "
     "--plateau-factor after --plateau-patience epochs without improvement of --monitor (README: Learning-rate "
     "schedules)")
    ("lr-decay", number(&v.lr_decay, open_closed(0, 1))->default_value(v.lr_decay), "step schedule factor, in (0, 1]")
    ("lr-decay-every", number(&v.lr_decay_every, at_least(1))->default_value(v.lr_decay_every), "step schedule period, epochs (>= 1)")
    ("min-lr", number(&v.min_lr, at_least(0))->default_value(v.min_lr), "cosine's last rate, plateau's lowest (>= 0)")
    ("cosine-restart", number(&v.cosine_restart)->default_value(v.cosine_restart), "cosine: restart every this many epochs (0: anneal once over --epochs)")
    ("plateau-patience", number(&v.plateau_patience)->default_value(v.plateau_patience), "plateau: epochs without improvement before lowering the rate")
    ("plateau-factor", number(&v.plateau_factor, open_open(0, 1))->default_value(v.plateau_factor), "plateau: multiply the rate by this, in (0, 1)")
    ("warmup-steps", number(&v.warmup_steps)->default_value(v.warmup_steps), "linear learning-rate warm-up over this many steps (0: none)")
    ("clip-norm", number(&v.clip_norm, at_least(0))->default_value(v.clip_norm), "scale the summed gradient to this L2 norm when it is longer (0: off)")
    ("clip-value", number(&v.clip_value, at_least(0))->default_value(v.clip_value), "clamp each summed gradient value to [-v, v] (0: off)");
  po::options_description regularization("Regularization and early stopping");
  regularization.add_options()
    ("l1", number(&v.l1, at_least(0))->default_value(v.l1), "L1 penalty on weights: l1 * sum|w| (>= 0)")
    ("l2", number(&v.l2, at_least(0))->default_value(v.l2), "L2 penalty on weights: l2 * 0.5 * sum w^2 (>= 0)")
    ("keep-prob", number(&v.keep_prob, open_closed(0, 1))->default_value(v.keep_prob), "dropout: probability of KEEPING a hidden unit, in (0, 1]")
    ("patience", number(&v.patience)->default_value(v.patience), "early stopping: epochs without improvement before stopping (0: off)")
    ("min-delta", number(&v.min_delta, at_least(0))->default_value(v.min_delta), "early stopping: smallest change that counts as improvement (>= 0)")
    ("monitor", po::value(&v.monitor)->default_value(v.monitor), "early stopping metric: val_loss|val_accuracy|train_loss")
    ("no-restore-best", po::bool_switch(&v.no_restore_best), "keep the last weights, not the best, when early stopping");
  po::options_description run("Run control");
  run.add_options()
    ("out", po::value(&v.out)->required(), "run directory for model.h5 and metrics.csv")
    ("overwrite", po::bool_switch(&v.overwrite), "replace a run already in --out")
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
  o.add(data).add(model).add(optimization).add(regularization).add(run);
}

void TrainCommandOptions::validate() const {
  const TrainCommandOptions& v = *this;
  // The numeric options' ranges were checked as they were parsed (number()).
  v.input.validate();
  parse_schedule(v.schedule, "--lr-schedule");
  if (!(v.min_lr < v.lr))
    throw UsageError("--min-lr " + significant(v.min_lr, 9) + " must be below --lr " + significant(v.lr, 9));
  Optimizer<float>::check(optimizer_options(v));
  const Activation hidden_units = parse_activation(v.activation, "--activation");
  if (!is_hidden_activation(hidden_units))
    throw UsageError("--activation: " + v.activation + " is an output unit, not a hidden one");
  if (hidden_units == Activation::step)
    throw UsageError("--activation: step units cannot be trained (derivative zero almost everywhere); use sigmoid, tanh or relu");
  if (v.output != "auto") {
    const Activation output_units = parse_activation(v.output, "--output");
    if (output_units == Activation::step)
      throw UsageError("--output: step units cannot be trained; use sigmoid, tanh or linear");
  }
  if (v.loss != "auto") parse_loss(v.loss, "--loss");
  if (v.progress != "auto" && v.progress != "bar" && v.progress != "plain")
    throw UsageError("--progress: unknown value '" + v.progress + "' (expected auto, bar or plain)");
  parse_shuffle_mode(v.shuffle, "--shuffle");
  if (v.data_in_memory != "auto" && v.data_in_memory != "on" && v.data_in_memory != "off")
    throw UsageError("--data-in-memory: unknown value '" + v.data_in_memory + "' (expected auto, on or off)");
  if (v.memory_budget != "auto" && !parse_byte_size(v.memory_budget))
    throw UsageError(option_text("memory-budget", v.memory_budget) + " is not a size such as 256MB or 2GB");
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

void TrainPlan::check() const {
  if (resumed && options.overwrite) throw UsageError("--overwrite and --resume: choose one");
  if (resumed) check_resume_changes(resumed->arguments, values, options.out);
  options.validate();
}

std::string TrainPlan::config_text() const {
  std::vector<std::pair<std::string, std::string>> absolute;
  for (const auto& [name, value] : option_values(values, {}))
    if (is_path_option(name)) absolute.emplace_back(name, absolute_path(value));
  return cli::config_text("train", values, {"resume", "overwrite"}, absolute);
}

std::optional<TrainPlan> read_train_plan(const Args& args, Communicator& comm, bool silent) {
  TrainPlan plan;
  po::options_description options("sinapsis train options");
  describe(options, plan.options);
  // --resume RUN_DIR: the checkpoint's own options, overridden by any given.
  plan.arguments = args;
  if (const auto dir = resume_dir(args)) {
    agree(comm, [&] { plan.resumed = read_checkpoint((std::filesystem::path(*dir) / "checkpoint.h5").string()); });
    // The options of a --config file given now count as given (they
    // override the run's, as the command line's do). --out is the directory
    // resumed; --overwrite was for the start of the run.
    Args given;
    for (const auto& [name, tokens] : option_groups(options, expand_config("train", options, args))) {
      if (name == "out") check_resumed_out(tokens, *dir);
      else given.insert(given.end(), tokens.begin(), tokens.end());
    }
    plan.arguments = merge_arguments(options, plan.resumed->arguments, given, {"out", "overwrite"});
    plan.arguments.insert(plan.arguments.end(), {"--out", *dir});
  }
  // The options of --config FILE, as if given (the checkpoint stores these).
  plan.arguments = expand_config("train", options, plan.arguments);
  if (!parse("train", plan.arguments, options, plan.values, "--data TRAIN.h5 --out RUN_DIR [options]"))
    return std::nullopt;
  plan.given = plan.arguments;
  plan.working_directory = std::filesystem::current_path().string();
  plan.arguments = with_absolute_paths(options, plan.arguments);
  if (silent) plan.options.quiet = true;
  return plan;
}

OptimizerOptions optimizer_options(const TrainCommandOptions& v) {
  OptimizerOptions o;
  o.kind = parse_optimizer(v.optimizer, "--optimizer");
  o.momentum = v.momentum;
  o.nesterov = v.nesterov;
  o.penalty = {v.l1, v.l2};
  o.beta1 = v.beta1;
  o.beta2 = v.beta2;
  o.eps = v.eps;
  o.alpha = v.alpha;
  if (o.kind == OptimizerKind::adamw) o.weight_decay = v.weight_decay;
  else o.penalty.l2 += v.weight_decay;
  return o;
}

TrainOptions trainer_options(const TrainCommandOptions& v, Loss loss, int usable_cpus) {
  TrainOptions t;
  t.loss = loss;
  t.batch = v.batch;
  t.epochs = v.epochs;
  t.schedule = {v.lr, parse_schedule(v.schedule, "--lr-schedule"), v.lr_decay, v.lr_decay_every, v.warmup_steps};
  t.schedule.min = v.min_lr;
  t.schedule.restart_epochs = v.cosine_restart;
  t.plateau_factor = v.plateau_factor;
  t.plateau_patience = v.plateau_patience;
  t.clip_norm = v.clip_norm;
  t.clip_value = v.clip_value;
  t.optimizer = optimizer_options(v);
  t.keep_prob = v.keep_prob;
  t.early_stopping = {v.patience, v.min_delta, !v.no_restore_best};
  t.checkpoints = {v.checkpoint_every, v.checkpoint_seconds};
  t.monitor = parse_monitor(v.monitor, "--monitor");
  t.seed = v.seed;
  // Under mpirun each rank is bound to one core, where a helper thread
  // would preempt compute.
  t.prefetch = v.prefetch == "on"    ? TrainOptions::Prefetch::on
               : v.prefetch == "off" ? TrainOptions::Prefetch::off
               : usable_cpus < 2     ? TrainOptions::Prefetch::off
                                     : TrainOptions::Prefetch::automatic;
  t.grad_precision = parse_grad_precision(v.grad_precision, "--grad-precision");
  t.order.shuffle = parse_shuffle_mode(v.shuffle, "--shuffle");
  t.order.block_rows = v.shuffle_block;
  t.order.buffer = v.shuffle_buffer;
  return t;
}

}  // namespace sinapsis::cli
