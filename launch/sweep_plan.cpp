#include "launch/sweep_plan.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/number_text.hpp"
#include "launch/memory_check.hpp"
#include "launch/options.hpp"

namespace sinapsis::cli {
namespace {

double to_number(const std::string& text) {
  return text.empty() ? TrialRecord::kNaN : std::stod(text);
}

// Commas and newlines would break the row: features go space-separated,
// messages lose them.
std::string csv_safe(std::string text, char comma_becomes) {
  for (char& c : text) {
    if (c == ',') c = comma_becomes;
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

}  // namespace

std::vector<std::string> split_list(const std::string& text, char separator) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, separator);) {
    const auto first = item.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    items.push_back(item.substr(first, item.find_last_not_of(' ') - first + 1));
  }
  return items;
}

std::vector<std::size_t> parse_count_list(const std::string& text, const std::string& option, std::size_t minimum) {
  const auto bad = [&] {
    return UsageError(option_text(option, text) + " is not a list (1,2,4) or a range (0:6) of whole numbers >= " +
                      std::to_string(minimum));
  };
  const auto integer = [&](const std::string& item) {
    std::size_t value = 0;
    if (!read_number(item, at_least(double(minimum)), value).empty()) throw bad();
    return value;
  };
  std::vector<std::size_t> values;
  if (const auto colon = text.find(':'); colon != std::string::npos) {
    const std::size_t from = integer(text.substr(0, colon)), to = integer(text.substr(colon + 1));
    if (to < from) throw bad();
    if (to - from >= kMaxGridTrials)  // (to - from + 1 would wrap for 0:18446744073709551615)
      throw UsageError(option_text(option, text) + " is a range of more than the " + std::to_string(kMaxGridTrials) +
                       " trials a sweep's grid may hold");
    for (std::size_t v = from;; ++v) {  // to may be the largest size_t: no v <= to
      values.push_back(v);
      if (v == to) break;
    }
    return values;
  }
  for (const auto& item : split_list(text, ',')) values.push_back(integer(item));
  if (values.empty()) throw bad();
  return values;
}

bool takes_momentum(const std::string& optimizer) {
  return optimizer.empty() || optimizer == "sgd" || optimizer == "rmsprop";
}

namespace {

std::vector<std::string> or_default(const std::vector<std::string>& values) {
  return values.empty() ? std::vector<std::string>{""} : values;
}

}  // namespace

std::optional<std::uint64_t> grid_trials(const SweepGrid& g) {
  std::optional<std::uint64_t> trials = 0;  // architectures first: depth 0 has one width
  for (const std::size_t depth : g.depths) trials = checked_sum(trials, depth == 0 ? 1 : g.widths.size());
  if (trials) trials = checked_product({*trials, std::max<std::uint64_t>(g.feature_sets.size(), 1)});
  // Momentum is swept for the optimizers that take it, once for the others.
  std::optional<std::uint64_t> optimizers_and_momenta = 0;
  for (const auto& optimizer : or_default(g.optimizers))
    optimizers_and_momenta =
        checked_sum(optimizers_and_momenta, takes_momentum(optimizer) ? std::max<std::size_t>(g.momenta.size(), 1) : 1);
  if (trials && optimizers_and_momenta) trials = checked_product({*trials, *optimizers_and_momenta});
  else trials.reset();
  for (const Knob& knob : kKnobs)
    if (trials && knob.values != &SweepGrid::optimizers && knob.values != &SweepGrid::momenta)
      trials = checked_product({*trials, std::max<std::uint64_t>((g.*knob.values).size(), 1)});
  return trials;
}

void check_grid_fits(const SweepGrid& g, const std::string& subject) {
  if (const auto trials = grid_trials(g); !trials || *trials > kMaxGridTrials)
    throw UsageError(subject + " make a grid of " + (trials ? std::to_string(*trials) : "more than 2^64") +
                     " trials, more than the " + std::to_string(kMaxGridTrials) + " a sweep's grid may hold");
  // The largest network, with one input and one output (the least any data
  // gives), counted without building its layers: depth can be 10^5.
  const std::uint64_t depth = *std::max_element(g.depths.begin(), g.depths.end());
  const std::uint64_t width = depth == 0 ? 0 : *std::max_element(g.widths.begin(), g.widths.end());
  const auto units = checked_sum(checked_product({depth, width}), 1);
  const auto weights =
      depth == 0 ? 1 : checked_sum(checked_product({2, width}), checked_product({depth - 1, width, width}));
  const auto parameters = checked_sum(weights, units);
  if (!g.momenta.empty()) {
    const auto optimizers = or_default(g.optimizers);
    if (std::none_of(optimizers.begin(), optimizers.end(), takes_momentum)) {
    std::string names;
    for (const auto& optimizer : optimizers) names += (names.empty() ? "" : ",") + optimizer;
    throw UsageError("--momentum is swept but no optimizer of the grid (" + names +
                     ") takes it: sgd's and rmsprop's do; adam's is --beta1");
    }
  }
  require_memory(parameters ? training_bytes(*parameters, *units, 1) : std::nullopt, subject,
                 "training its largest network (" + std::to_string(depth) + " hidden layers of " +
                     std::to_string(width) + " units)");
}

namespace {

// The trials for knobs k.. of `trial` (whose earlier knobs are set).
void expand_knobs(const SweepGrid& g, std::size_t k, TrialConfig& trial, std::vector<TrialConfig>& trials) {
  if (k == kKnobCount) {
    trial.id = trials.size();
    trials.push_back(trial);
    return;
  }
  const Knob& knob = kKnobs[k];
  const bool applies = knob.value != &TrialConfig::momentum || takes_momentum(trial.optimizer);
  for (const auto& value : applies ? or_default(g.*knob.values) : std::vector<std::string>{""}) {
    trial.*knob.value = value;
    expand_knobs(g, k + 1, trial, trials);
  }
}

}  // namespace

std::vector<TrialConfig> expand_grid(const SweepGrid& g) {
  std::vector<TrialConfig> trials;
  for (const auto& features : or_default(g.feature_sets))
    for (const std::size_t depth : g.depths)
      for (const std::size_t width : depth == 0 ? std::vector<std::size_t>{0} : g.widths) {
        TrialConfig t;
        t.features = features;
        t.depth = depth;
        t.width = width;
        expand_knobs(g, 0, t, trials);
      }
  return trials;
}

Args trial_arguments(const TrialConfig& t, std::uint64_t seed) {
  std::string hidden = t.depth == 0 ? "none" : "";
  for (std::size_t i = 0; i < t.depth; ++i) hidden += (i ? "," : "") + std::to_string(t.width);
  Args args{"--hidden", hidden, "--seed", std::to_string(seed)};
  for (const Knob& knob : kKnobs)
    if (!(t.*knob.value).empty()) args.insert(args.end(), {std::string("--") + knob.option, t.*knob.value});
  if (!t.features.empty()) args.insert(args.end(), {"--features", t.features});
  return args;
}

std::string knob_text(const TrialConfig& t) {
  std::string text;
  for (const Knob& knob : kKnobs)
    if (!(t.*knob.value).empty()) text += (text.empty() ? "" : ", ") + std::string(knob.column) + " " + t.*knob.value;
  return text;
}

namespace {

// trials.csv's columns around the knobs'.
constexpr const char* kColumnsBefore[] = {"trial", "features", "depth", "width"};
constexpr const char* kColumnsAfter[] = {"inputs", "hidden_units", "parameters", "epochs_run", "rung", "status",
                                         "stop_reason", "best_val_loss", "val_loss", "val_accuracy", "test_loss",
                                         "test_accuracy", "seconds", "ranks", "message"};

std::vector<std::string> split_fields(const std::string& row) {
  std::vector<std::string> f;
  std::stringstream stream(row);
  for (std::string field; std::getline(stream, field, ',');) f.push_back(field);
  if (!row.empty() && row.back() == ',') f.emplace_back();
  return f;
}

}  // namespace

std::string trial_csv_header() {
  std::string header;
  for (const char* column : kColumnsBefore) header += std::string(column) + ",";
  for (const Knob& knob : kKnobs) header += std::string(knob.column) + ",";
  for (const char* column : kColumnsAfter) header += std::string(column) + ",";
  header.pop_back();
  return header;
}

std::string trial_csv_row(const TrialRecord& r) {
  const TrialConfig& c = r.config;
  std::ostringstream row;
  row << c.id << ',' << csv_safe(c.features, ' ') << ',' << c.depth << ',' << c.width << ',';
  for (const Knob& knob : kKnobs) row << csv_safe(c.*knob.value, ' ') << ',';
  row << r.inputs << ',' << c.hidden_units() << ',' << r.parameters << ',' << r.epochs_run << ',' << r.rung << ','
      << r.status << ',' << r.stop_reason << ',' << csv_field(r.best_val_loss) << ',' << csv_field(r.val_loss) << ','
      << csv_field(r.val_accuracy) << ',' << csv_field(r.test_loss) << ',' << csv_field(r.test_accuracy) << ','
      << csv_field(r.seconds) << ',' << r.ranks << ',' << csv_safe(r.message, ';');
  return row.str();
}

std::vector<std::string> trial_csv_columns(const std::string& header, const std::string& where) {
  const std::vector<std::string> columns = split_fields(header);
  const auto refuse = [&](const std::string& what) {
    return DataError(where + ": not a header sinapsis sweep writes: " + what + " (expected '" + trial_csv_header() +
                     "')");
  };
  // This version's columns, and the previous version's: without the knobs added since.
  std::set<std::string> current(std::begin(kColumnsBefore), std::end(kColumnsBefore)), seen;
  current.insert(std::begin(kColumnsAfter), std::end(kColumnsAfter));
  for (const Knob& knob : kKnobs) current.insert(knob.column);
  std::set<std::string> previous = current;
  for (const char* added : {"optimizer", "lr_schedule", "batch", "momentum"}) previous.erase(added);
  for (const auto& column : columns) {
    if (!current.count(column)) throw refuse("unknown column '" + column + "'");
    if (!seen.insert(column).second) throw refuse("column '" + column + "' twice");
  }
  if (seen != current && seen != previous)
    for (const auto& column : seen.size() < previous.size() ? previous : current)
      if (!seen.count(column)) throw refuse("no column '" + column + "'");
  return columns;
}

TrialRecord parse_trial_row(const std::vector<std::string>& columns, const std::string& row, const std::string& where) {
  const std::vector<std::string> fields = split_fields(row);
  if (fields.size() != columns.size())
    throw DataError(where + ": a trial row has " + std::to_string(fields.size()) + " fields, not " +
                    std::to_string(columns.size()));
  std::map<std::string, std::string> f;
  for (std::size_t i = 0; i < columns.size(); ++i) f[columns[i]] = fields[i];
  try {
    TrialRecord r;
    TrialConfig& c = r.config;
    c.id = std::stoul(f.at("trial"));
    c.features = f.at("features");
    for (char& ch : c.features)
      if (ch == ' ') ch = ',';
    c.depth = std::stoul(f.at("depth"));
    c.width = std::stoul(f.at("width"));
    for (const Knob& knob : kKnobs) {
      r.legacy = r.legacy || !f.count(knob.column);
      c.*knob.value = f[knob.column];  // absent in the previous version's: ""
    }
    r.inputs = std::stoul(f.at("inputs"));
    r.parameters = std::stoul(f.at("parameters"));
    r.epochs_run = std::stoul(f.at("epochs_run"));
    r.rung = std::stoul(f.at("rung"));
    r.status = f.at("status");
    r.stop_reason = f.at("stop_reason");
    r.best_val_loss = to_number(f.at("best_val_loss"));
    r.val_loss = to_number(f.at("val_loss"));
    r.val_accuracy = to_number(f.at("val_accuracy"));
    r.test_loss = to_number(f.at("test_loss"));
    r.test_accuracy = to_number(f.at("test_accuracy"));
    r.seconds = to_number(f.at("seconds"));
    r.ranks = std::stoul(f.at("ranks"));
    r.message = f.at("message");
    return r;
  } catch (const std::exception&) {
    throw DataError(where + ": malformed trial row '" + row + "'");
  }
}

bool simpler(const TrialRecord& a, const TrialRecord& b, double loss_a, double loss_b) {
  if (a.elements() != b.elements()) return a.elements() < b.elements();
  if (a.config.depth != b.config.depth) return a.config.depth < b.config.depth;
  if (loss_a != loss_b) return loss_a < loss_b;
  return a.config.id < b.config.id;
}

}  // namespace sinapsis::cli
