// sinapsis sweep: a grid of architectures (and other knobs) trained across
// the ranks of a job, in groups of --ranks-per-trial, with optional ASHA
// pruning; and `sinapsis sweep merge`, which combines slices.
//
// The shared state in SWEEP_DIR, its lock and ASHA's queue: sweep_queue.hpp.
#include <unistd.h>  // getpid

#include <algorithm>
#include <array>
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
#include "core/number_text.hpp"
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
#include "launch/sweep_queue.hpp"

namespace sinapsis::cli {
namespace {

namespace fs = std::filesystem;

struct SweepOptions {
  std::string out, depth = "1", width = "8", features;
  std::array<std::string, kKnobCount> knobs;  // as typed, "a,b,c"; "" = train's default
  std::string prune = "none", slice, target_metric = "auto";
  std::size_t ranks_per_trial = 1, reduction_factor = 3, min_epochs = 1, max_epochs = 100;
  double target_loss = -1;
  std::uint64_t seed = 1;
  bool resume = false, overwrite = false, quiet = false;

  // The checks that need neither the grid nor the job (UsageError).
  void validate() const;
};

void describe(po::options_description& o, SweepOptions& v) {
  o.add_options()
    ("out", po::value(&v.out)->required(), "sweep directory: trials.csv, summary.json and one run directory per trial")
    ("depth", po::value(&v.depth)->default_value(v.depth), "hidden layers: a range 0:6 or a list 0,1,2 (0: no hidden layer)")
    ("width", po::value(&v.width)->default_value(v.width),
     ("units per hidden layer: a range 1:8 or a list 1,2,4,8 (a grid holds at most " +
      std::to_string(kMaxGridTrials) + " trials)").c_str())
    ("features", po::value(&v.features), "input feature sets to try, separated by ';', e.g. \"x1,x2;x1,x2,x1sq,x2sq\"");
  // The other knobs: each a comma-separated list; one value is the same for every trial (default: train's).
  for (std::size_t k = 0; k < kKnobCount; ++k) o.add_options()(kKnobs[k].option, po::value(&v.knobs[k]), kKnobs[k].help);
  o.add_options()
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

void SweepOptions::validate() const {
  if (prune != "none" && prune != "asha") throw UsageError("--prune: unknown value '" + prune + "' (expected none or asha)");
  if (max_epochs < min_epochs)
    throw UsageError("--max-epochs must be >= --min-epochs, got " + std::to_string(max_epochs));
  if (target_metric != "auto" && target_metric != "val_loss" && target_metric != "test_loss")
    throw UsageError("--target-metric: unknown metric '" + target_metric + "' (expected val_loss or test_loss)");
}

// "layers, nodes per layer, inputs", as the lecture's exercise asks.
std::string network_text(const TrialRecord& r) {
  const auto count = [](std::size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  return count(r.config.depth, "layer", "layers") + ", " + count(r.config.width, "node", "nodes") + " per layer, " +
         count(r.inputs, "input", "inputs");
}

std::string number_text(double value) { return significant(value, 6); }

// One trial as summary.json names it ("best", "simplest_meeting_target").
// "knobs": the values of kKnobs the trial set (as typed), the rest being train's defaults.
nlohmann::ordered_json trial_json(const TrialRecord& r, const std::string& run_dir) {
  nlohmann::ordered_json knobs = nlohmann::ordered_json::object();
  for (const Knob& knob : kKnobs)
    if (!(r.config.*knob.value).empty()) knobs[knob.column] = r.config.*knob.value;
  return nlohmann::ordered_json{{"trial", r.config.id},
                                {"network", network_text(r)},
                                {"layers", r.config.depth},
                                {"nodes_per_layer", r.config.width},
                                {"inputs", r.inputs},
                                {"features", r.config.features},
                                {"knobs", knobs},
                                {"elements", r.elements()},
                                {"parameters", r.parameters},
                                {"val_loss", r.val_loss},
                                {"test_loss", r.test_loss},
                                {"test_accuracy", r.test_accuracy},
                                {"epochs_run", r.epochs_run},
                                {"status", r.status},
                                {"run_dir", run_dir}};
}

// trials.csv and summary.json from the records of every trial.
// Returns a few lines for the terminal: the best and the simplest trial.
// `run_dirs` says where each trial's run is (slices may live elsewhere).
// A record of the previous version lacks the knobs added since (read as
// ""): they are the grid's (which --resume checked against its records).
std::string write_results(const std::string& sweep, const std::map<std::size_t, TrialRecord>& latest,
                          const std::map<std::size_t, std::string>& run_dirs, const std::vector<TrialConfig>& grid,
                          const AshaOptions& asha, const std::string& metric, double target_loss) {
  const std::size_t grid_size = grid.size();
  std::vector<TrialRecord> rows;
  std::size_t total_epochs = 0;
  for (auto [id, r] : latest) {
    if (r.legacy && id < grid.size())
      for (const Knob& knob : kKnobs)
        if ((r.config.*knob.value).empty()) r.config.*knob.value = grid[id].*knob.value;
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
  const auto describe_trial = [&](const TrialRecord& r) { return trial_json(r, run_dirs.at(r.config.id)); };
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
    const std::string knobs = knob_text(r.config);
    lines << what << ": " << network_text(r) << (r.config.features.empty() ? "" : " (" + r.config.features + ")")
          << (knobs.empty() ? "" : "; " + knobs) << "; " << metric << " "
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
  std::string subject = option_text("depth", v.depth) + " with " + option_text("width", v.width);
  for (std::size_t k = 0; k < kKnobCount; ++k) {
    auto& values = grid.*kKnobs[k].values;
    values = split_list(v.knobs[k], ',');
    if (values.size() > 1) subject += ", " + option_text(kKnobs[k].option, v.knobs[k]);
    for (auto at = values.begin(); at != values.end(); ++at)
      if (std::find(values.begin(), at, *at) != at)
        throw UsageError(option_text(kKnobs[k].option, v.knobs[k]) + " lists '" + *at +
                         "' twice (two trials alike)");
  }
  grid.feature_sets = split_list(v.features, ';');
  if (grid.feature_sets.size() > 1) subject += ", " + option_text("features", v.features);
  check_grid_fits(grid, subject);
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
  std::cout << write_results(out, all, run_dirs, expand_grid(grid_of(v)), asha, metric, target_loss) << "merged " << all.size() << " trials from " << dirs.size() << " director" << (dirs.size() == 1 ? "y" : "ies")
            << " into " << out << "/trials.csv and " << out << "/summary.json" << std::endl;
  if (std::none_of(all.begin(), all.end(), [](const auto& r) { return r.second.status != "failed"; }))
    throw DataError("sweep merge: no trial trained: all " + std::to_string(all.size()) + " records are failures");
  return kExitSuccess;
}

// A sweep as parsed and checked, the same on every rank.
struct SweepPlan {
  SweepOptions v;
  po::options_description options{"sinapsis sweep options (other options go to every trial's train)"};
  Args effective;   // the command line after --resume and --config
  Args train_args;  // what goes to every trial's train
  Args defining;    // what sweep.args keeps: all but --slice (slices of one sweep share SWEEP_DIR), --resume, --overwrite
  Slice slice;
  std::vector<TrialConfig> grid;    // every trial
  std::vector<TrialConfig> trials;  // this job's slice, in the order the queue hands them out
  std::string metric;
  AshaOptions asha;
};

// The options (with --resume, the sweep's stored ones under those given);
// false when --help was shown.
bool parse_sweep_arguments(const Args& args, SweepPlan& plan, bool lead) {
  describe(plan.options, plan.v);
  // --resume: the sweep's own options, overridden by any given now (a first
  // pass reads --resume and --out alone).
  po::options_description first;
  bool resume = false;
  std::string out;
  first.add_options()("resume", po::bool_switch(&resume))("out", po::value(&out));
  parse_known(args, first);
  plan.effective = args;
  if (resume && !out.empty()) {
    const std::optional<Args> stored = stored_sweep_args(out);
    if (!stored) throw UsageError("--resume: " + out + " holds no sweep (no sweep.args)");
    plan.effective = merge_arguments(plan.options, *stored, args);
  }
  plan.effective = expand_config("sweep", plan.options, plan.effective, true);
  plan.options.add_options()("help,h", "show this help and exit");
  po::variables_map values;
  po::parsed_options parsed(nullptr);
  try {
    parsed = po::command_line_parser(plan.effective).options(plan.options).allow_unregistered().run();
    po::store(parsed, values);
    if (values.count("help")) {
      if (lead)
        std::cout << "usage: sinapsis sweep --data D.h5 --out SWEEP_DIR --depth 0:3 --width 1,2,4,8 [options]\n"
                  << "       sinapsis sweep merge SWEEP_DIR [SWEEP_DIR ...]\n\n"
                  << plan.options << "\nAny other option (--data, --val-split, --patience, --weight-decay, ...; "
                  << "--epochs is replaced by --max-epochs) is passed to every trial's `sinapsis train`.\n";
      return false;
    }
    po::notify(values);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  plan.train_args = po::collect_unrecognized(parsed.options, po::include_positional);
  for (const auto& [name, tokens] : option_groups(plan.options, plan.effective))
    if (name != "slice" && name != "resume" && name != "overwrite")
      plan.defining.insert(plan.defining.end(), tokens.begin(), tokens.end());
  return true;
}

// Without pruning, the queue hands out the costliest trials first (by
// weights per sample), so that no group is left with a long trial at the
// end while the others idle. ASHA keeps the grid order: its rungs compare
// trials as they come.
void order_by_cost(std::vector<TrialConfig>& trials) {
  const auto cost = [](const TrialConfig& t) {
    const double inputs = t.features.empty() ? 2.0 : double(split_list(t.features, ',').size());
    const double w = double(t.width);
    return t.depth == 0 ? inputs : inputs * w + double(t.depth - 1) * w * w + w;
  };
  std::stable_sort(trials.begin(), trials.end(),
                   [&](const TrialConfig& a, const TrialConfig& b) { return cost(a) > cost(b); });
}

// Everything checked before any rank trains (the same on every rank).
void check_sweep(SweepPlan& plan, Communicator& world) {
  const SweepOptions& v = plan.v;
  plan.grid = expand_grid(grid_of(v));
  plan.slice = parse_slice(v.slice);
  for (const auto& t : plan.grid)
    if (t.id % plan.slice.count == plan.slice.index) plan.trials.push_back(t);
  v.validate();
  if (v.prune == "none") order_by_cost(plan.trials);
  if (world.size() % int(v.ranks_per_trial) != 0)
    throw UsageError("--ranks-per-trial " + std::to_string(v.ranks_per_trial) + " must divide the job's " +
                     std::to_string(world.size()) + " ranks");
  for (const auto& a : plan.train_args)
    if (a == "--epochs" || a.rfind("--epochs=", 0) == 0 || a == "--out" || a == "--seed" || a == "--hidden" ||
        a == "--resume")
      throw UsageError("sweep: " + a + " is set per trial (use --max-epochs, --out SWEEP_DIR, --seed, --depth/--width)");
  plan.metric = resolve_metric(v.target_metric, plan.train_args);
  plan.asha = {v.min_epochs, v.max_epochs, v.reduction_factor, v.prune == "asha"};
  // Every trial's options are checked before any trains (a bad value
  // anywhere in the grid, --lr 0.1,abc, fails here, once, naming it), and
  // the data files must open.
  // ASHA trains a trial rung by rung, each to its own --epochs: a schedule
  // sized to the run's epochs would restart at every rung.
  if (plan.asha.prune)
    for (const auto& schedule : split_list(v.knobs[knob_index("lr-schedule")], ','))
      if (schedule == "cosine" || schedule == "onecycle")
        throw UsageError("--lr-schedule " + schedule + " with --prune asha: each rung trains to its own epochs, so " +
                         "the schedule would restart at every rung (use constant, step or plateau, or --prune none)");
  agree(world, [&] {
    for (const TrialConfig& trial : plan.grid) {
      Args check = plan.train_args;
      const Args per_trial = trial_arguments(trial, 1);
      check.insert(check.end(), per_trial.begin(), per_trial.end());
      check.insert(check.end(), {"--epochs", "1", "--out", (fs::path(v.out) / "trials" / "check").string(), "--overwrite"});
      try {
        check_train_arguments(check, trial.id == plan.grid.front().id);
      } catch (const UsageError& e) {  // which trial of the grid, when the knobs vary
        const std::string knobs = knob_text(trial);
        if (plan.grid.size() == 1 || knobs.empty()) throw;
        throw UsageError("trial " + std::to_string(trial.id) + " (" + knobs + "): " + e.what());
      }
    }
  });
}

// One sweep on the ranks of a job: groups of --ranks-per-trial ranks take
// jobs from the queue until it is done (or a signal stops them), then rank 0
// writes the results.
class SweepRun {
 public:
  SweepRun(const SweepPlan& plan, Communicator& world, const StopSignals& signals)
      : plan_(plan), v_(plan.v), world_(world), signals_(signals), lead_(world.rank() == 0),
        queue_(v_.out, plan.trials, plan.asha) {}

  int run() {
    open_directory();
    const bool stopped = train_trials();
    return finish(stopped);
  }

 private:
  void open_directory();
  void check_records_match_grid() const;
  bool train_trials();
  TrialRecord train_trial(const AshaJob& job, Communicator& group, bool& stopped) const;
  void print_finished();
  int finish(bool stopped);

  const SweepPlan& plan_;
  const SweepOptions& v_;
  Communicator& world_;
  const StopSignals& signals_;
  const bool lead_;
  SweepQueue queue_;
  std::set<std::pair<std::size_t, std::size_t>> printed_;  // (trial, rung) lines printed
};

// Rank 0 checks and prepares SWEEP_DIR (one rank, or it would see the
// sweep.args another rank just wrote) and holds it for the job: the whole
// of it, or its slice (slices of one sweep run side by side; the same slice
// twice, or a whole sweep beside any slice, is refused naming the holder).
// Every rank learns the outcome. Taken after the grid check, a collective:
// launch/slurm/sweep.sbatch reads the lock's holder record as "every rank
// is up".
void SweepRun::open_directory() {
  agree(world_, [&] {
    if (!lead_) return;
    queue_.open(plan_.slice, v_.slice, plan_.defining, v_.resume, v_.overwrite, [&] { check_records_match_grid(); });
  });
  if (lead_ && !v_.quiet)
    std::cout << "sinapsis sweep: " << plan_.grid.size() << " trials"
              << (plan_.slice.count > 1 ? " (slice " + v_.slice + ": " + std::to_string(plan_.trials.size()) + ")" : "")
              << ", " << world_.size() / int(v_.ranks_per_trial) << " group(s) of " << v_.ranks_per_trial
              << " rank(s), prune " << v_.prune << ", up to " << v_.max_epochs << " epochs per trial" << std::endl;
}

// A resumed sweep may add options that change its grid (--momentum 0,0.5
// where it had 0,0.9): trial ids then name other configurations, and a
// recorded trial would be reported under values it was not trained with.
// Refused, naming the first trial that differs.
void SweepRun::check_records_match_grid() const {
  const auto described = [](const TrialConfig& c) {
    std::string text = std::to_string(c.depth) + "x" + std::to_string(c.width);
    if (!c.features.empty()) text += ", features " + c.features;
    if (const std::string knobs = knob_text(c); !knobs.empty()) text += ", " + knobs;
    return text;
  };
  for (const auto& [id, record] : latest_records(v_.out)) {
    TrialConfig recorded = record.config;
    const bool known = id < plan_.grid.size();
    if (known && record.legacy)  // the previous version's records lack the newer knobs
      for (const Knob& knob : kKnobs)
        if ((recorded.*knob.value).empty()) recorded.*knob.value = plan_.grid[id].*knob.value;
    if (!known || described(recorded) != described(plan_.grid[id]))
      throw UsageError("--resume: trial " + std::to_string(id) + " of " + v_.out + " was trained as (" +
                       described(recorded) + ") but the grid now makes it " +
                       (known ? "(" + described(plan_.grid[id]) + ")" : "no trial") +
                       ": a sweep's grid cannot change at resume (start a new sweep with --out)");
  }
}

// The groups, each training one trial at a time. True if a signal stopped it.
bool SweepRun::train_trials() {
  const int group_size = int(v_.ranks_per_trial);
  queue_.set_job(world_.broadcast(lead_ ? std::to_string(::getpid()) + "-" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count()) : std::string(), 0));
  const std::unique_ptr<Communicator> group = world_.split(world_.rank() / group_size);
  bool stopped = false;
  while (!stopped) {
    const AshaJob job = queue_.take_job_together(*group, signals_.received() != 0);
    if (job.kind == AshaJob::Kind::done) break;
    if (job.kind == AshaJob::Kind::wait) {
      print_finished();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    const TrialRecord record = train_trial(job, *group, stopped);
    if (stopped) break;
    if (group->rank() == 0) queue_.record(job, record);
    print_finished();
  }
  print_finished();
  // A signal that came between two trials stopped the queue: the grid is not done.
  stopped = stopped || signals_.received() != 0;
  if (stopped && group->rank() == 0) queue_.ask_job_to_stop();
  const bool any = world_.allreduce(std::int64_t(stopped), ReduceOp::max) > 0;
  if (lead_) queue_.forget_stop();
  return any;
}

// The job's trial trained to its rung by `group`; `stopped` if a signal
// stopped it (it keeps its checkpoint).
TrialRecord SweepRun::train_trial(const AshaJob& job, Communicator& group, bool& stopped) const {
  const TrialConfig& trial = plan_.trials[job.trial];
  const std::string dir = trial_dir(v_.out, trial.id);
  const std::size_t epochs = plan_.asha.rung_epochs(job.rung);
  Args run;
  // A trial with a checkpoint (an earlier rung, or a run a signal stopped)
  // continues from it; resuming is bit-identical to not stopping.
  if (!fs::exists(dir + "/checkpoint.h5")) {
    run = plan_.train_args;
    const Args per_trial = trial_arguments(trial, derive_seed({v_.seed, trial.id}));
    run.insert(run.end(), per_trial.begin(), per_trial.end());
    run.insert(run.end(), {"--out", dir, "--overwrite"});
  } else {
    run = {"--resume", dir};
  }
  // Under ASHA a trial may be promoted later: it keeps a checkpoint of its
  // rung to continue from. Without pruning a trial runs once.
  run.insert(run.end(), {"--epochs", std::to_string(epochs)});
  if (plan_.asha.prune) run.insert(run.end(), {"--checkpoint-every", std::to_string(epochs)});
  TrialRecord record;
  record.config = trial;
  record.rung = job.rung;
  record.ranks = std::size_t(group.size());
  const auto started = std::chrono::steady_clock::now();
  try {
    const TrainOutcome o = run_training(run, group, true);
    stopped = o.status == kExitResume;
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
  return record;
}

// Rank 0 alone writes to the terminal: a line for every trial rung any
// group finished since it last looked (from the records in SWEEP_DIR).
void SweepRun::print_finished() {
  if (!lead_ || v_.quiet) return;
  for (const auto& t : plan_.trials)
    for (std::size_t k = 0;; ++k) {
      if (printed_.count({t.id, k})) continue;
      const auto r = queue_.record_of(t.id, k);
      if (!r) break;
      printed_.insert({t.id, k});
      const double loss = plan_.metric == "test_loss" ? r->test_loss : r->val_loss;
      const std::string knobs = knob_text(t);
      std::cout << "[" << timestamp() << "] trial " << t.id << " (" << t.depth << "x" << t.width
                << (t.features.empty() ? "" : ", " + t.features) << (knobs.empty() ? "" : "; " + knobs) << ") to " << plan_.asha.rung_epochs(k)
                << " epochs: "
                << (r->status == "failed" ? "failed: " + r->message : plan_.metric + " " + number_text(loss))
                << " (" << r->ranks << " rank" << (r->ranks == 1 ? "" : "s") << ")" << std::endl;
    }
}

// Every group is done (or stopped): rank 0 writes the results. A sweep (or
// slice) in which no trial trained is a failure, whatever the reason of
// each (it is in trials.csv / the records).
int SweepRun::finish(bool stopped) {
  const std::string& sweep = v_.out;
  if (stopped) {
    if (lead_)
      std::cout << "sweep stopped by a signal; unfinished trials keep their checkpoints. Continue with: "
                << "sinapsis sweep --resume --out " << sweep << std::endl;
    return kExitResume;
  }
  if (!lead_) return kExitSuccess;
  const auto records = latest_records(sweep);
  std::size_t trained = 0;
  std::string first_failure;
  for (const auto& t : plan_.trials)
    if (const auto r = records.find(t.id); r != records.end()) {
      if (r->second.status != "failed") ++trained;
      else if (first_failure.empty()) first_failure = "trial " + std::to_string(t.id) + ": " + r->second.message;
    }
  const auto fail_if_none_trained = [&] {
    if (trained == 0 && !plan_.trials.empty())
      throw AgreedFailure("no trial trained: all " + std::to_string(plan_.trials.size()) + " failed (" +
                              first_failure + "); see " + sweep + "/trials",
                          kExitFailure);
  };
  if (plan_.slice.count > 1) {
    fail_if_none_trained();
    std::cout << "slice " << v_.slice << " done: " << plan_.trials.size() << " trials in " << sweep
              << "; combine the slices with: sinapsis sweep merge " << sweep << std::endl;
    return kExitSuccess;
  }
  std::map<std::size_t, std::string> run_dirs;
  for (const auto& [id, record] : records) run_dirs[id] = trial_dir(sweep, id);
  std::cout << write_results(sweep, records, run_dirs, plan_.grid, plan_.asha, plan_.metric, v_.target_loss)
            << "wrote " << sweep << "/trials.csv and " << sweep << "/summary.json" << std::endl;
  fail_if_none_trained();
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
  SweepPlan plan;
  if (!parse_sweep_arguments(args, plan, world.rank() == 0)) return kExitSuccess;
  check_sweep(plan, world);
  return SweepRun(plan, world, signals).run();
}

}  // namespace sinapsis::cli
