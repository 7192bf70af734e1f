#include "launch/sweep_plan.hpp"

#include <algorithm>
#include <cmath>
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

std::optional<std::uint64_t> grid_trials(const SweepGrid& g) {
  std::optional<std::uint64_t> trials = 0;  // architectures first: depth 0 has one width
  for (const std::size_t depth : g.depths) trials = checked_sum(trials, depth == 0 ? 1 : g.widths.size());
  for (const std::size_t n : {g.feature_sets.size(), g.activations.size(), g.lrs.size(), g.l1s.size(), g.l2s.size(),
                              g.keep_probs.size(), g.test_splits.size()})
    if (trials) trials = checked_product({*trials, std::max<std::uint64_t>(n, 1)});
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
  require_memory(parameters ? training_bytes(*parameters, *units, 1) : std::nullopt, subject,
                 "training its largest network (" + std::to_string(depth) + " hidden layers of " +
                     std::to_string(width) + " units)");
}

std::vector<TrialConfig> expand_grid(const SweepGrid& g) {
  const auto or_default = [](const std::vector<std::string>& v) {
    return v.empty() ? std::vector<std::string>{""} : v;
  };
  std::vector<TrialConfig> trials;
  for (const auto& features : or_default(g.feature_sets))
    for (const std::size_t depth : g.depths)
      for (const std::size_t width : depth == 0 ? std::vector<std::size_t>{0} : g.widths)
        for (const auto& activation : or_default(g.activations))
          for (const auto& lr : or_default(g.lrs))
            for (const auto& l1 : or_default(g.l1s))
              for (const auto& l2 : or_default(g.l2s))
                for (const auto& keep : or_default(g.keep_probs))
                  for (const auto& split : or_default(g.test_splits)) {
                    TrialConfig t;
                    t.id = trials.size();
                    t.depth = depth;
                    t.width = width;
                    t.activation = activation;
                    t.lr = lr;
                    t.l1 = l1;
                    t.l2 = l2;
                    t.keep_prob = keep;
                    t.test_split = split;
                    t.features = features;
                    trials.push_back(t);
                  }
  return trials;
}

Args trial_arguments(const TrialConfig& t, std::uint64_t seed) {
  std::string hidden = t.depth == 0 ? "none" : "";
  for (std::size_t i = 0; i < t.depth; ++i) hidden += (i ? "," : "") + std::to_string(t.width);
  Args args{"--hidden", hidden, "--seed", std::to_string(seed)};
  const std::pair<const char*, const std::string*> optional[] = {
      {"--activation", &t.activation}, {"--lr", &t.lr},       {"--l1", &t.l1},
      {"--l2", &t.l2},                 {"--keep-prob", &t.keep_prob}, {"--test-split", &t.test_split},
      {"--features", &t.features}};
  for (const auto& [name, value] : optional)
    if (!value->empty()) args.insert(args.end(), {name, *value});
  return args;
}

std::string trial_csv_header() {
  return "trial,features,depth,width,activation,lr,l1,l2,keep_prob,test_split,inputs,hidden_units,parameters,"
         "epochs_run,rung,status,stop_reason,best_val_loss,val_loss,val_accuracy,test_loss,test_accuracy,seconds,"
         "ranks,message";
}

std::string trial_csv_row(const TrialRecord& r) {
  const TrialConfig& c = r.config;
  std::ostringstream row;
  row << c.id << ',' << csv_safe(c.features, ' ') << ',' << c.depth << ',' << c.width << ',' << c.activation << ','
      << c.lr << ',' << c.l1 << ',' << c.l2 << ',' << c.keep_prob << ',' << c.test_split << ',' << r.inputs << ','
      << c.hidden_units() << ',' << r.parameters << ',' << r.epochs_run << ',' << r.rung << ',' << r.status << ','
      << r.stop_reason << ',' << csv_field(r.best_val_loss) << ',' << csv_field(r.val_loss) << ','
      << csv_field(r.val_accuracy) << ',' << csv_field(r.test_loss) << ',' << csv_field(r.test_accuracy) << ','
      << csv_field(r.seconds) << ',' << r.ranks << ',' << csv_safe(r.message, ';');
  return row.str();
}

TrialRecord parse_trial_row(const std::string& row, const std::string& where) {
  std::vector<std::string> f;
  std::stringstream stream(row);
  for (std::string field; std::getline(stream, field, ',');) f.push_back(field);
  if (!row.empty() && row.back() == ',') f.emplace_back();
  if (f.size() != 25) throw DataError(where + ": a trial row has " + std::to_string(f.size()) + " fields, not 25");
  try {
    TrialRecord r;
    TrialConfig& c = r.config;
    c.id = std::stoul(f[0]);
    c.features = f[1];
    for (char& ch : c.features)
      if (ch == ' ') ch = ',';
    c.depth = std::stoul(f[2]);
    c.width = std::stoul(f[3]);
    c.activation = f[4];
    c.lr = f[5];
    c.l1 = f[6];
    c.l2 = f[7];
    c.keep_prob = f[8];
    c.test_split = f[9];
    r.inputs = std::stoul(f[10]);
    r.parameters = std::stoul(f[12]);
    r.epochs_run = std::stoul(f[13]);
    r.rung = std::stoul(f[14]);
    r.status = f[15];
    r.stop_reason = f[16];
    r.best_val_loss = to_number(f[17]);
    r.val_loss = to_number(f[18]);
    r.val_accuracy = to_number(f[19]);
    r.test_loss = to_number(f[20]);
    r.test_accuracy = to_number(f[21]);
    r.seconds = to_number(f[22]);
    r.ranks = std::stoul(f[23]);
    r.message = f[24];
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
