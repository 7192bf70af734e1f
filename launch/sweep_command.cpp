// sinapsis sweep: a grid of architectures (and other knobs) trained across
// the ranks of a job, in groups of --ranks-per-trial, with optional ASHA
// pruning; and `sinapsis sweep merge`, which combines slices.
//
// The shared state lives in files under SWEEP_DIR, so the groups of one job,
// the tasks of a SLURM job array and a resumed run all see the same queue:
//   sweep.args                the sweep's options (for --resume)
//   queue.lock                fcntl lock: one worker decides at a time
//   trials/tNNNN/claimed      trial NNNN was started (created exclusively)
//   trials/tNNNN/promoted-K   it was sent on from rung K
//   trials/tNNNN/rung-K.csv   its record after rung K (one trials.csv row)
//   trials/tNNNN/             its run: model.h5, metrics.csv, summary.json, ...
//   trials.csv, summary.json  the results (written at the end, or by merge)
#include <fcntl.h>   // open, fcntl locks
#include <unistd.h>  // close

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "core/asha.hpp"
#include "core/random.hpp"
#include "io/atomic_file.hpp"
#include "io/file_lock.hpp"
#include "io/json_text.hpp"
#include "launch/agreement.hpp"
#include "launch/config_file.hpp"
#include "launch/options.hpp"
#include "launch/progress.hpp"
#include "launch/stop_signals.hpp"
#include "launch/sweep_plan.hpp"

namespace sinapsis::cli {
namespace {

namespace fs = std::filesystem;

struct SweepOptions {
  std::string out, depth = "1", width = "8", activation, lr, l1, l2, keep_prob, features, test_split;
  std::string prune = "none", slice, target_metric = "auto";
  std::size_t ranks_per_trial = 1, reduction_factor = 3, min_epochs = 1, max_epochs = 100;
  double target_loss = -1;
  std::uint64_t seed = 1;
  bool resume = false, overwrite = false, quiet = false;
};

void describe(po::options_description& o, SweepOptions& v) {
  o.add_options()
    ("out", po::value(&v.out)->required(), "sweep directory: trials.csv, summary.json and one run directory per trial")
    ("depth", po::value(&v.depth)->default_value(v.depth), "hidden layers: a range 0:6 or a list 0,1,2 (0: no hidden layer)")
    ("width", po::value(&v.width)->default_value(v.width),
     ("units per hidden layer: a range 1:8 or a list 1,2,4,8 (a grid holds at most " +
      std::to_string(kMaxGridTrials) + " trials)").c_str())
    ("activation", po::value(&v.activation), "hidden activations to try, e.g. tanh,relu (default: train's)")
    ("lr", po::value(&v.lr), "learning rates to try, e.g. 0.01,0.03,0.1")
    ("l1", po::value(&v.l1), "L1 penalties to try")
    ("l2", po::value(&v.l2), "L2 penalties to try")
    ("keep-prob", po::value(&v.keep_prob), "dropout keep probabilities to try")
    ("features", po::value(&v.features), "input feature sets to try, separated by ';', e.g. \"x1,x2;x1,x2,x1sq,x2sq\"")
    ("test-split", po::value(&v.test_split), "test fractions to try (train/test ratio), e.g. 0.1,0.5,0.9")
    ("ranks-per-trial", number(&v.ranks_per_trial, closed(1, std::numeric_limits<int>::max()))->default_value(v.ranks_per_trial),
     "ranks that train one trial together (data-parallel); the job's ranks form groups of this size")
    ("prune", po::value(&v.prune)->default_value(v.prune), "none|asha: asynchronous successive halving")
    ("reduction-factor", number(&v.reduction_factor, at_least(2))->default_value(v.reduction_factor),
     "ASHA: eta; a trial continues past a rung if in the top 1/eta (>= 2)")
    ("min-epochs", number(&v.min_epochs, at_least(1))->default_value(v.min_epochs), "ASHA: epochs of the first rung (>= 1)")
    ("max-epochs", number(&v.max_epochs, at_least(1))->default_value(v.max_epochs), "epochs of a full trial (the last rung; >= --min-epochs)")
    ("target-loss", number(&v.target_loss, at_least(0)), "report the simplest trial whose loss is below this")
    ("target-metric", po::value(&v.target_metric)->default_value(v.target_metric),
     "val_loss|test_loss: the loss --target-loss and the best trial are judged by "
     "(auto: val_loss if there is validation data, else test_loss)")
    ("seed", number(&v.seed)->default_value(v.seed), "sweep seed; trial i trains with a seed derived from (seed, i)")
    ("slice", po::value(&v.slice), "i/n: run only the trials with id % n == i (SLURM job arrays; then sweep merge)")
    ("resume", po::bool_switch(&v.resume), "continue the sweep in --out: keep finished trials, rerun unfinished ones")
    ("overwrite", po::bool_switch(&v.overwrite), "replace a sweep already in --out")
    ("quiet", po::bool_switch(&v.quiet), "print only the result");
}

std::string trial_dir(const std::string& sweep, std::size_t id) {
  char name[32];
  std::snprintf(name, sizeof name, "t%04zu", id);
  return (fs::path(sweep) / "trials" / name).string();
}

// "layers, nodes per layer, inputs", as the lecture's exercise asks.
std::string network_text(const TrialRecord& r) {
  const auto count = [](std::size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  return count(r.config.depth, "layer", "layers") + ", " + count(r.config.width, "node", "nodes") + " per layer, " +
         count(r.inputs, "input", "inputs");
}

// The options a sweep stored in SWEEP_DIR/sweep.args, one per line
// (nullopt if there is none).
std::optional<Args> stored_sweep_args(const std::string& sweep) {
  std::ifstream in((fs::path(sweep) / "sweep.args").string());
  if (!in) return std::nullopt;
  Args stored;
  for (std::string line; std::getline(in, line);) stored.push_back(line);
  return stored;
}

std::string number_text(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

// Creates `path` if it does not exist; true if this call created it.
bool create_exclusively(const std::string& path) {
  const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

// One worker at a time decides on the queue: an exclusive lock on
// SWEEP_DIR/queue.lock (works across hosts on a shared file system).
FileLock queue_lock(const std::string& sweep) {
  return FileLock((fs::path(sweep) / "queue.lock").string(), {}, "sinapsis sweep queue", FileLock::Wait::yes);
}

std::optional<TrialRecord> read_record(const std::string& file) {
  std::ifstream in(file);
  std::string header, row;
  if (!std::getline(in, header) || !std::getline(in, row)) return std::nullopt;
  return parse_trial_row(row, file);
}

void write_record(const std::string& file, const TrialRecord& record) {
  AtomicFile out(file);
  out.stream() << trial_csv_header() << '\n' << trial_csv_row(record) << '\n';
  out.commit();
}

// The record of every trial's highest rung, by id.
std::map<std::size_t, TrialRecord> latest_records(const std::string& sweep) {
  std::map<std::size_t, TrialRecord> latest;
  const fs::path trials = fs::path(sweep) / "trials";
  if (!fs::exists(trials)) return latest;
  for (const auto& dir : fs::directory_iterator(trials))
    for (std::size_t k = 0;; ++k) {
      const auto record = read_record((dir.path() / ("rung-" + std::to_string(k) + ".csv")).string());
      if (!record) break;
      latest[record->config.id] = *record;
    }
  return latest;
}

// What ASHA needs of each trial of this slice, read from the files.
std::vector<TrialProgress> progress_of(const std::string& sweep, const std::vector<TrialConfig>& trials,
                                       const AshaOptions& asha) {
  std::vector<TrialProgress> progress(trials.size());
  for (std::size_t i = 0; i < trials.size(); ++i) {
    const std::string dir = trial_dir(sweep, trials[i].id);
    TrialProgress& p = progress[i];
    for (std::size_t k = 0;; ++k) {
      const auto record = read_record(dir + "/rung-" + std::to_string(k) + ".csv");
      if (!record) break;
      p.rung_values.push_back(record->status == "failed" ? TrialRecord::kNaN : record->rank_loss());
      p.stopped = record->status == "failed" || record->stop_reason == "early_stopping" ||
                  record->epochs_run >= asha.max_epochs;
    }
    for (std::size_t k = 0; k <= asha.top_rung(); ++k)
      p.promoted_from.push_back(fs::exists(dir + "/promoted-" + std::to_string(k)));
    // Started but its latest rung not yet recorded: someone trains it.
    const std::size_t sent = std::size_t(std::count(p.promoted_from.begin(), p.promoted_from.end(), true));
    p.in_flight = fs::exists(dir + "/claimed") && p.rung_values.size() < 1 + sent;
  }
  return progress;
}

// One job for a free group, decided under the queue lock and marked in the
// files before the lock is released.
AshaJob take_job(const std::string& sweep, const std::vector<TrialConfig>& trials, const AshaOptions& asha) {
  const FileLock lock = queue_lock(sweep);
  AshaJob job = next_asha_job(asha, progress_of(sweep, trials, asha));
  if (job.kind == AshaJob::Kind::start) {
    fs::create_directories(trial_dir(sweep, trials[job.trial].id));
    if (!create_exclusively(trial_dir(sweep, trials[job.trial].id) + "/claimed"))
      throw DataError(sweep + ": trial " + std::to_string(trials[job.trial].id) + " was claimed twice");
  } else if (job.kind == AshaJob::Kind::promote) {
    create_exclusively(trial_dir(sweep, trials[job.trial].id) + "/promoted-" + std::to_string(job.rung - 1));
  }
  return job;
}

// A resumed sweep forgets the jobs the killed run left unfinished, for its
// own trials only: other slices sharing SWEEP_DIR may be running theirs.
void forget_unfinished(const std::string& sweep, const std::vector<TrialConfig>& trials) {
  for (const auto& trial : trials) {
    const fs::path dir = trial_dir(sweep, trial.id);
    if (!fs::exists(dir)) continue;
    std::size_t rungs = 0;
    while (fs::exists(dir / ("rung-" + std::to_string(rungs) + ".csv"))) ++rungs;
    if (rungs == 0) fs::remove(dir / "claimed");
    // promoted-K without rung-(K+1): that promotion did not finish.
    for (std::size_t k = rungs == 0 ? 0 : rungs - 1; k < 64; ++k) fs::remove(dir / ("promoted-" + std::to_string(k)));
  }
}

struct Slice {
  std::size_t index = 0, count = 1;
};

Slice parse_slice(const std::string& text) {
  Slice s;
  if (text.empty()) return s;
  const auto slash = text.find('/');
  // (std::stoul took "0/-1" as n = 2^64-1: one slice ran only trial 0)
  if (slash == std::string::npos || !read_number(text.substr(0, slash), at_least(0), s.index).empty() ||
      !read_number(text.substr(slash + 1), at_least(1), s.count).empty())
    throw UsageError(option_text("slice", text) + " is not i/n (whole numbers)");
  if (s.index >= s.count) throw UsageError(option_text("slice", text) + " needs 0 <= i < n");
  return s;
}

// SWEEP_DIR/.lock: slot 0 and up for a whole sweep or a merge, slot 1 + i
// for slice i (see io/file_lock.hpp).
constexpr const char* kSweepLock = ".lock";
FileLock::Range slice_range(const Slice& slice) {
  if (slice.count == 1) return {};
  return {1 + slice.index, 1};
}

// trials.csv and summary.json from the records of every trial.
// Returns a few lines for the terminal: the best and the simplest trial.
// `run_dirs` says where each trial's run is (slices may live elsewhere).
std::string write_results(const std::string& sweep, const std::map<std::size_t, TrialRecord>& latest,
                          const std::map<std::size_t, std::string>& run_dirs, std::size_t grid_size,
                          const AshaOptions& asha, const std::string& metric, double target_loss) {
  std::vector<TrialRecord> rows;
  std::size_t total_epochs = 0;
  for (auto [id, r] : latest) {
    if (r.status != "failed")
      r.status = r.stop_reason == "early_stopping" || r.epochs_run >= asha.max_epochs ? "done" : "pruned";
    total_epochs += r.epochs_run;
    rows.push_back(r);
  }
  AtomicFile csv((fs::path(sweep) / "trials.csv").string());
  csv.stream() << trial_csv_header() << '\n';
  for (const auto& r : rows) csv.stream() << trial_csv_row(r) << '\n';
  csv.commit();

  const auto loss = [&](const TrialRecord& r) { return metric == "test_loss" ? r.test_loss : r.val_loss; };
  const auto describe_trial = [&](const TrialRecord& r) {
    return nlohmann::ordered_json{{"trial", r.config.id},
                                  {"network", network_text(r)},
                                  {"layers", r.config.depth},
                                  {"nodes_per_layer", r.config.width},
                                  {"inputs", r.inputs},
                                  {"features", r.config.features},
                                  {"elements", r.elements()},
                                  {"parameters", r.parameters},
                                  {"val_loss", r.val_loss},
                                  {"test_loss", r.test_loss},
                                  {"test_accuracy", r.test_accuracy},
                                  {"epochs_run", r.epochs_run},
                                  {"status", r.status},
                                  {"run_dir", run_dirs.at(r.config.id)}};
  };
  const TrialRecord* best = nullptr;
  const TrialRecord* simplest = nullptr;
  std::size_t failed = 0, pruned = 0;
  for (const auto& r : rows) {
    failed += r.status == "failed";
    pruned += r.status == "pruned";
    if (r.status == "failed" || std::isnan(loss(r))) continue;
    if (best == nullptr || loss(r) < loss(*best)) best = &r;
    if (target_loss >= 0 && loss(r) < target_loss && (simplest == nullptr || simpler(r, *simplest, loss(r), loss(*simplest))))
      simplest = &r;
  }
  nlohmann::ordered_json summary = {
      {"sweep_dir", sweep},
      {"grid_trials", grid_size},
      {"trials_recorded", rows.size()},
      {"failed", failed},
      {"pruned", pruned},
      {"prune", asha.prune ? "asha" : "none"},
      {"total_epochs", total_epochs},
      {"metric", metric},
      {"simplest_rule", "fewest active inputs + hidden units, then fewest hidden layers, then lowest loss"},
      {"best", best ? describe_trial(*best) : nullptr}};
  if (target_loss >= 0) {
    summary["target_loss"] = target_loss;
    summary["simplest_meeting_target"] = simplest ? describe_trial(*simplest) : nullptr;
  }
  AtomicFile json((fs::path(sweep) / "summary.json").string());
  json.stream() << json_text(summary) << '\n';
  json.commit();
  std::ostringstream lines;
  const auto line = [&](const char* what, const TrialRecord& r) {
    lines << what << ": " << network_text(r) << (r.config.features.empty() ? "" : " (" + r.config.features + ")")
          << "; " << metric << " "
          << loss(r) << "; trial " << r.config.id << ", " << run_dirs.at(r.config.id) << "\n";
  };
  lines << rows.size() << " trials, " << pruned << " pruned, " << failed << " failed, " << total_epochs
        << " epochs in all\n";
  if (rows.size() < grid_size)
    lines << "warning: " << grid_size - rows.size() << " of the grid's " << grid_size
          << " trials have no record (a slice missing or unfinished?)\n";
  if (best) line("best", *best);
  if (target_loss >= 0) {
    if (simplest) line(("simplest with " + metric + " < " + number_text(target_loss)).c_str(), *simplest);
    else lines << "no trial reached " << metric << " < " << target_loss << "\n";
  }
  return lines.str();
}

SweepGrid grid_of(const SweepOptions& v) {
  SweepGrid grid;
  grid.depths = parse_count_list(v.depth, "depth", 0);
  grid.widths = parse_count_list(v.width, "width", 1);
  grid.activations = split_list(v.activation, ',');
  grid.lrs = split_list(v.lr, ',');
  grid.l1s = split_list(v.l1, ',');
  grid.l2s = split_list(v.l2, ',');
  grid.keep_probs = split_list(v.keep_prob, ',');
  grid.test_splits = split_list(v.test_split, ',');
  grid.feature_sets = split_list(v.features, ';');
  check_grid_fits(grid, option_text("depth", v.depth) + " with " + option_text("width", v.width));
  return grid;
}

std::string resolve_metric(const std::string& asked, const Args& train_args) {
  if (asked != "auto") return asked;
  for (const auto& a : train_args)
    if (a.rfind("--val-data", 0) == 0 || a.rfind("--val-split", 0) == 0) return "val_loss";
  return "test_loss";
}

struct MergeOptions {
  std::vector<std::string> dirs;
  std::string out;
  double target_loss = -1;  // < 0: the first directory's
};

void describe(po::options_description& o, MergeOptions& v) {
  o.add_options()
    ("dirs", po::value(&v.dirs)->multitoken(), "sweep directories of the slices (or one directory they share)")
    ("out", po::value(&v.out), "where trials.csv and summary.json go (default: the first directory)")
    ("target-loss", number(&v.target_loss, at_least(0)), "as in sweep (default: the first directory's)");
}

int merge_command(const Args& args) {
  po::options_description options("sinapsis sweep merge options");
  MergeOptions m;
  describe(options, m);
  po::positional_options_description positional;
  positional.add("dirs", -1);
  po::variables_map values;
  if (!parse("sweep merge", args, options, values, "SWEEP_DIR [SWEEP_DIR ...] [--out DIR]", &positional))
    return kExitSuccess;
  const std::vector<std::string>& dirs = m.dirs;
  if (dirs.empty()) throw UsageError("sweep merge: give at least one sweep directory");
  // The first directory's sweep options say how to judge (metric, target, epochs).
  const std::optional<Args> stored = stored_sweep_args(dirs.front());
  if (!stored) throw UsageError("sweep merge: " + dirs.front() + " holds no sweep (no sweep.args)");
  po::options_description sweep_options;
  SweepOptions v;
  describe(sweep_options, v);
  po::variables_map sweep_values;
  po::parsed_options parsed(nullptr);
  try {
    parsed = po::command_line_parser(*stored).options(sweep_options).allow_unregistered().run();
    po::store(parsed, sweep_values);
    po::notify(sweep_values);
  } catch (const po::error& e) {  // a damaged or hand-edited file
    throw DataError((fs::path(dirs.front()) / "sweep.args").string() + ": " + e.what());
  }
  const double target_loss = values.count("target-loss") ? m.target_loss : v.target_loss;
  const std::string metric =
      resolve_metric(v.target_metric, po::collect_unrecognized(parsed.options, po::include_positional));
  const std::size_t max_epochs = v.max_epochs;
  std::string out = m.out;
  // No slice may still be running in a directory merged, nor another merge
  // writing the output: each is locked whole for the merge.
  if (out.empty()) out = dirs.front();
  fs::create_directories(out);
  std::vector<std::unique_ptr<FileLock>> locks;
  for (const auto& dir : std::set<std::string>{dirs.begin(), dirs.end()}) {
    if (!fs::exists(dir) || fs::equivalent(dir, out)) continue;
    try {
      locks.push_back(std::make_unique<FileLock>((fs::path(dir) / kSweepLock).string(), FileLock::Range{},
                                                 "sinapsis sweep merge", FileLock::Wait::no));
    } catch (const LockHeld& e) {
      throw UsageError("sweep merge: " + dir + " is in use by " + e.holder + "; merge when it has ended");
    }
  }
  try {
    locks.push_back(std::make_unique<FileLock>((fs::path(out) / kSweepLock).string(), FileLock::Range{},
                                               "sinapsis sweep merge", FileLock::Wait::no));
  } catch (const LockHeld& e) {
    throw UsageError("sweep merge: " + out + " is in use by " + e.holder + "; merge when it has ended");
  }
  std::map<std::size_t, TrialRecord> all;
  std::map<std::size_t, std::string> run_dirs;
  for (const auto& dir : dirs)
    for (const auto& [id, record] : latest_records(dir)) {
      all[id] = record;
      run_dirs[id] = trial_dir(dir, id);
    }
  AshaOptions asha{v.min_epochs, max_epochs, v.reduction_factor, v.prune == "asha"};
  const std::size_t grid_size = expand_grid(grid_of(v)).size();
  std::cout << write_results(out, all, run_dirs, grid_size, asha, metric, target_loss) << "merged " << all.size() << " trials from " << dirs.size() << " director" << (dirs.size() == 1 ? "y" : "ies")
            << " into " << out << "/trials.csv and " << out << "/summary.json" << std::endl;
  if (std::none_of(all.begin(), all.end(), [](const auto& r) { return r.second.status != "failed"; }))
    throw DataError("sweep merge: no trial trained: all " + std::to_string(all.size()) + " records are failures");
  return kExitSuccess;
}

}  // namespace

std::vector<CommandOptions> sweep_options() {
  return {described<SweepOptions>("sweep"), described<MergeOptions>("sweep merge")};
}

int sweep_command(const Args& args, Communicator& world) {
  if (!args.empty() && args.front() == "merge") {
    if (world.rank() != 0) return kExitSuccess;
    return merge_command(Args(args.begin() + 1, args.end()));
  }
  const StopSignals signals;  // trials stop on SIGTERM/SIGUSR1 with a checkpoint; so does the sweep
  po::options_description options("sinapsis sweep options (other options go to every trial's train)");
  SweepOptions v;
  describe(options, v);
  // --resume: the sweep's own options, overridden by any given now.
  Args effective = args;
  const auto out_given = std::find(args.begin(), args.end(), "--out");
  if (std::find(args.begin(), args.end(), "--resume") != args.end() && out_given != args.end() &&
      out_given + 1 != args.end()) {
    const std::optional<Args> stored = stored_sweep_args(*(out_given + 1));
    if (!stored) throw UsageError("--resume: " + *(out_given + 1) + " holds no sweep (no sweep.args)");
    effective = merge_arguments(options, *stored, args);
  }
  effective = expand_config("sweep", options, effective, true);
  options.add_options()("help,h", "show this help and exit");
  po::variables_map values;
  po::parsed_options parsed(nullptr);
  try {
    parsed = po::command_line_parser(effective).options(options).allow_unregistered().run();
    po::store(parsed, values);
    if (values.count("help")) {
      if (world.rank() == 0)
        std::cout << "usage: sinapsis sweep --data D.h5 --out SWEEP_DIR --depth 0:3 --width 1,2,4,8 [options]\n"
                  << "       sinapsis sweep merge SWEEP_DIR [SWEEP_DIR ...]\n\n"
                  << options << "\nAny other option (--data, --val-split, --epochs is replaced by --max-epochs, "
                  << "--batch, --patience, ...) is passed to every trial's `sinapsis train`.\n";
      return kExitSuccess;
    }
    po::notify(values);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  Args train_args = po::collect_unrecognized(parsed.options, po::include_positional);

  // Everything checked before any rank trains (the same on every rank).
  const std::vector<TrialConfig> all_trials = expand_grid(grid_of(v));
  const Slice slice = parse_slice(v.slice);
  std::vector<TrialConfig> trials;
  for (const auto& t : all_trials)
    if (t.id % slice.count == slice.index) trials.push_back(t);
  if (v.prune != "none" && v.prune != "asha") throw UsageError("--prune: unknown value '" + v.prune + "' (expected none or asha)");
  if (v.max_epochs < v.min_epochs)
    throw UsageError("--max-epochs must be >= --min-epochs, got " + std::to_string(v.max_epochs));
  if (v.target_metric != "auto" && v.target_metric != "val_loss" && v.target_metric != "test_loss")
    throw UsageError("--target-metric: unknown metric '" + v.target_metric + "' (expected val_loss or test_loss)");
  // Without pruning, the queue hands out the costliest trials first (by
  // weights per sample), so that no group is left with a long trial at the
  // end while the others idle. ASHA keeps the grid order: its rungs compare
  // trials as they come.
  if (v.prune == "none") {
    const auto cost = [](const TrialConfig& t) {
      const double inputs = t.features.empty() ? 2.0 : double(split_list(t.features, ',').size());
      const double w = double(t.width);
      return t.depth == 0 ? inputs : inputs * w + double(t.depth - 1) * w * w + w;
    };
    std::stable_sort(trials.begin(), trials.end(),
                     [&](const TrialConfig& a, const TrialConfig& b) { return cost(a) > cost(b); });
  }
  const int group_size = int(v.ranks_per_trial);
  if (world.size() % group_size != 0)
    throw UsageError("--ranks-per-trial " + std::to_string(v.ranks_per_trial) + " must divide the job's " +
                     std::to_string(world.size()) + " ranks");
  for (const auto& a : train_args)
    if (a == "--epochs" || a.rfind("--epochs=", 0) == 0 || a == "--out" || a == "--seed" || a == "--hidden" ||
        a == "--resume")
      throw UsageError("sweep: " + a + " is set per trial (use --max-epochs, --out SWEEP_DIR, --seed, --depth/--width)");
  // Every trial's options are checked before any trains (a bad value
  // anywhere in the grid, --lr 0.1,abc, fails here, once, naming it), and
  // the data files must open.
  agree(world, [&] {
    for (const TrialConfig& trial : all_trials) {
      Args check = train_args;
      const Args per_trial = trial_arguments(trial, 1);
      check.insert(check.end(), per_trial.begin(), per_trial.end());
      check.insert(check.end(), {"--epochs", "1", "--out", (fs::path(v.out) / "trials" / "check").string(), "--overwrite"});
      check_train_arguments(check, trial.id == all_trials.front().id);
    }
  });
  const std::string sweep = v.out;
  const bool lead = world.rank() == 0;
  // The options that define the sweep (what sweep.args keeps): all but
  // --slice (slices of one sweep share SWEEP_DIR), --resume and --overwrite.
  Args defining;
  for (const auto& [name, tokens] : option_groups(options, effective))
    if (name != "slice" && name != "resume" && name != "overwrite") defining.insert(defining.end(), tokens.begin(), tokens.end());
  const std::string metric = resolve_metric(v.target_metric, train_args);
  const AshaOptions asha{v.min_epochs, v.max_epochs, v.reduction_factor, v.prune == "asha"};

  // Rank 0 checks and prepares SWEEP_DIR (one rank, or it would see the
  // sweep.args another rank just wrote); every rank learns the outcome.
  // Rank 0 holds SWEEP_DIR for the job: the whole of it, or its slice
  // (slices of one sweep run side by side; the same slice twice, or a
  // whole sweep beside any slice, is refused naming the holder). Taken
  // after the grid check above, a collective: launch/slurm/sweep.sbatch
  // reads the lock's holder record as "every rank is up".
  std::optional<FileLock> sweep_lock;
  agree(world, [&] {
    if (!lead) return;
    fs::create_directories(sweep);
    try {
      sweep_lock.emplace((fs::path(sweep) / kSweepLock).string(), slice_range(slice),
                         "sinapsis sweep" + (slice.count > 1 ? " --slice " + v.slice : std::string()),
                         FileLock::Wait::no);
    } catch (const LockHeld& e) {
      throw UsageError("--out: " + sweep + " is in use by " + e.holder + "; wait for it to end or choose another --out");
    }
    if (const std::optional<Args> stored = stored_sweep_args(sweep); stored && !v.resume && !v.overwrite) {
      if (slice.count == 1 || *stored != defining)
        throw UsageError("--out: " + sweep + " already holds " + (slice.count == 1 ? "a sweep" : "another sweep") +
                         "; pass --resume to continue it or --overwrite");
    }
    if (v.overwrite && !v.resume && slice.count == 1)  // all but the lock we hold
      for (const auto& entry : fs::directory_iterator(sweep))
        if (entry.path().filename() != kSweepLock) fs::remove_all(entry.path());
    fs::create_directories(fs::path(sweep) / "trials");
    if (v.resume) forget_unfinished(sweep, trials);
    AtomicFile stored((fs::path(sweep) / "sweep.args").string());
    for (const auto& a : defining) stored.stream() << a << '\n';
    stored.commit();
  });
  if (lead && !v.quiet)
    std::cout << "sinapsis sweep: " << all_trials.size() << " trials" << (slice.count > 1 ? " (slice " + v.slice + ": " + std::to_string(trials.size()) + ")" : "")
              << ", " << world.size() / group_size << " group(s) of " << group_size << " rank(s), prune " << v.prune
              << ", up to " << v.max_epochs << " epochs per trial" << std::endl;

  // The groups, each training one trial at a time.
  const std::unique_ptr<Communicator> group = world.split(world.rank() / group_size);
  const bool leader = group->rank() == 0;
  bool stopped_by_signal = false;
  std::size_t jobs_done = 0;
  // Rank 0 alone writes to the terminal: a line for every trial rung any
  // group finished since it last looked (from the records in SWEEP_DIR).
  std::set<std::pair<std::size_t, std::size_t>> printed;
  const auto print_finished = [&] {
    if (!lead || v.quiet) return;
    for (const auto& t : trials)
      for (std::size_t k = 0;; ++k) {
        if (printed.count({t.id, k})) continue;
        const auto r = read_record(trial_dir(sweep, t.id) + "/rung-" + std::to_string(k) + ".csv");
        if (!r) break;
        printed.insert({t.id, k});
        std::cout << "[" << timestamp() << "] trial " << t.id << " (" << t.depth << "x" << t.width
                  << (t.features.empty() ? "" : ", " + t.features) << ") to " << asha.rung_epochs(k) << " epochs: "
                  << (r->status == "failed" ? "failed: " + r->message
                                            : metric + " " + number_text(metric == "test_loss" ? r->test_loss : r->val_loss))
                  << " (" << r->ranks << " rank" << (r->ranks == 1 ? "" : "s") << ")" << std::endl;
      }
  };
  for (;;) {
    std::string job_text;
    if (leader) {
      AshaJob job{AshaJob::Kind::done, 0, 0};
      try {
        job = signals.received() ? AshaJob{} : take_job(sweep, trials, asha);
      } catch (const std::exception& e) {
        job_text = std::string("error ") + e.what();
      }
      if (job_text.empty())
        job_text = std::to_string(int(job.kind)) + " " + std::to_string(job.trial) + " " + std::to_string(job.rung);
    }
    job_text = group->broadcast(job_text, 0);
    if (job_text.rfind("error ", 0) == 0) throw std::runtime_error(job_text.substr(6));  // ends the job
    std::istringstream fields(job_text);
    int kind = 0;
    AshaJob job;
    fields >> kind >> job.trial >> job.rung;
    job.kind = AshaJob::Kind(kind);
    if (job.kind == AshaJob::Kind::done) break;
    if (job.kind == AshaJob::Kind::wait) {
      print_finished();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    const TrialConfig& trial = trials[job.trial];
    const std::string dir = trial_dir(sweep, trial.id);
    const std::size_t epochs = asha.rung_epochs(job.rung);
    Args run;
    // A trial with a checkpoint (an earlier rung, or a run a signal stopped)
    // continues from it; resuming is bit-identical to not stopping.
    if (!fs::exists(dir + "/checkpoint.h5")) {
      run = train_args;
      const Args per_trial = trial_arguments(trial, derive_seed({v.seed, trial.id}));
      run.insert(run.end(), per_trial.begin(), per_trial.end());
      run.insert(run.end(), {"--out", dir, "--overwrite"});
    } else {
      run = {"--resume", dir};
    }
    // Under ASHA a trial may be promoted later: it keeps a checkpoint of its
    // rung to continue from. Without pruning a trial runs once.
    run.insert(run.end(), {"--epochs", std::to_string(epochs)});
    if (asha.prune) run.insert(run.end(), {"--checkpoint-every", std::to_string(epochs)});
    TrialRecord record;
    record.config = trial;
    record.rung = job.rung;
    record.ranks = std::size_t(group->size());
    const auto started = std::chrono::steady_clock::now();
    try {
      const TrainOutcome o = run_training(run, *group, true);
      if (o.status == kExitResume) {
        stopped_by_signal = true;
        break;
      }
      record.status = "trained";
      record.stop_reason = o.stop_reason;
      record.inputs = o.inputs;
      record.parameters = o.parameters;
      record.epochs_run = o.epochs_run;
      record.best_val_loss = o.best_monitored;
      record.val_loss = o.val_loss;
      record.val_accuracy = o.val_accuracy;
      record.test_loss = o.test_loss;
      record.test_accuracy = o.test_accuracy;
    } catch (const AgreedFailure& e) {  // diverged, bad data for this trial: the sweep goes on
      record.status = "failed";
      record.message = e.what();
      record.epochs_run = epochs;
    } catch (const UsageError& e) {
      record.status = "failed";
      record.message = e.what();
    }
    record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ++jobs_done;
    if (leader) write_record(dir + "/rung-" + std::to_string(job.rung) + ".csv", record);
    print_finished();
  }
  print_finished();
  // Every group is done (or stopped): rank 0 writes the results. A signal
  // that came between two trials stopped the queue: the grid is not done.
  stopped_by_signal = stopped_by_signal || signals.received() != 0;
  const bool any_signal = world.allreduce(std::int64_t(stopped_by_signal), ReduceOp::max) > 0;
  if (any_signal) {
    if (lead)
      std::cout << "sweep stopped by a signal; unfinished trials keep their checkpoints. Continue with: "
                << "sinapsis sweep --resume --out " << sweep << std::endl;
    return kExitResume;
  }
  if (!lead) return kExitSuccess;
  const auto records = latest_records(sweep);
  // A sweep (or slice) in which no trial trained is a failure, whatever the
  // reason of each (it is in trials.csv / the records).
  std::size_t trained = 0;
  std::string first_failure;
  for (const auto& t : trials)
    if (const auto r = records.find(t.id); r != records.end()) {
      if (r->second.status != "failed") ++trained;
      else if (first_failure.empty()) first_failure = "trial " + std::to_string(t.id) + ": " + r->second.message;
    }
  const auto fail_if_none_trained = [&] {
    if (trained == 0 && !trials.empty())
      throw AgreedFailure("no trial trained: all " + std::to_string(trials.size()) + " failed (" + first_failure +
                              "); see " + sweep + "/trials",
                          kExitFailure);
  };
  if (slice.count > 1) {
    fail_if_none_trained();
    std::cout << "slice " << v.slice << " done: " << trials.size() << " trials in " << sweep
              << "; combine the slices with: sinapsis sweep merge " << sweep << std::endl;
    return kExitSuccess;
  }
  std::map<std::size_t, std::string> run_dirs;
  for (const auto& [id, record] : records) run_dirs[id] = trial_dir(sweep, id);
  std::cout << write_results(sweep, records, run_dirs, all_trials.size(), asha, metric, v.target_loss)
            << "wrote " << sweep << "/trials.csv and " << sweep << "/summary.json" << std::endl;
  fail_if_none_trained();
  return kExitSuccess;
}

}  // namespace sinapsis::cli
