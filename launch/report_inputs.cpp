#include "launch/report_inputs.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <system_error>

#include "core/error.hpp"
#include "io/json_text.hpp"
#include "launch/options.hpp"

namespace sinapsis::cli {
namespace {

namespace fs = std::filesystem;

// More than any report needs (a million epochs of metrics are ~150 MB): a
// bigger file is refused rather than read into memory.
constexpr std::uintmax_t kMaxInputBytes = std::uintmax_t(1) << 30;

bool present(const fs::path& file) {
  std::error_code error;
  return fs::exists(file, error);
}

std::string read_whole(const fs::path& file) {
  std::error_code error;
  if (!fs::exists(file, error)) throw DataError(file.string() + ": missing");
  if (!fs::is_regular_file(file, error)) throw DataError(file.string() + ": not a regular file");
  if (const auto bytes = fs::file_size(file, error); !error && bytes > kMaxInputBytes)
    throw DataError(file.string() + ": " + std::to_string(bytes) + " bytes, more than a report reads (" +
                    std::to_string(kMaxInputBytes) + ")");
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) throw DataError(file.string() + ": cannot be read");
  return text.str();
}

// Calls each(line number, line) for every line of a file sinapsis wrote
// whole: not empty, ending with a newline, no empty line inside. A '\r'
// before the newline is dropped.
void for_each_line(std::string_view text, const std::string& source,
                   const std::function<void(std::size_t, std::string_view)>& each) {
  if (text.empty()) throw DataError(source + ": the file is empty");
  std::size_t number = 1;
  for (std::size_t start = 0; start < text.size(); ++number) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos)
      throw DataError(source + " line " + std::to_string(number) + ": cut short (the file does not end with a newline)");
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) throw DataError(source + " line " + std::to_string(number) + ": empty");
    each(number, line);
    start = end + 1;
  }
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  for (std::size_t start = 0;;) {
    const std::size_t comma = line.find(',', start);
    fields.push_back(line.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

using nlohmann::ordered_json;

// "FILE line N": where `value` of `json` starts, for messages.
std::string where(const JsonDocument& json, const ordered_json& value) {
  return json.source() + " line " + std::to_string(json.line(value));
}

// A whole JSON number, as summaries write counts and epochs.
std::size_t whole_number(const JsonDocument& json, const ordered_json& value, const std::string& key) {
  const double number = value.get<double>();
  if (!(number >= 0 && number <= 9007199254740992.0 && number == std::floor(number)))
    throw DataError(where(json, value) + ": \"" + key + "\" must be a whole number >= 0, got " + std::to_string(number));
  return std::size_t(number);
}

// The member `key` of `object` if it is what `is` checks (`what`: "a
// number", ...); nullptr if absent or null; DataError if it holds something else.
const ordered_json* member(const JsonDocument& json, const ordered_json& object, const std::string& key,
                           JsonTypeCheck is, const char* what) {
  const auto value = object.find(key);
  if (value == object.end() || value->is_null()) return nullptr;
  if (!((*value).*is)()) throw DataError(where(json, *value) + ": \"" + key + "\" must be " + what);
  return &*value;
}

void require_object(const JsonDocument& json) {
  if (!json.value().is_object()) throw DataError(json.source() + " line 1: not a JSON object");
}

}  // namespace

std::vector<double> MetricsTable::column(const std::string& name) const {
  std::vector<double> values;
  for (std::size_t c = 0; c < columns.size(); ++c)
    if (columns[c] == name)
      for (const auto& row : rows) values.push_back(row[c]);
  return values;
}

MetricsTable parse_metrics_csv(std::string_view text, const std::string& source) {
  MetricsTable table;
  std::size_t epoch_column = 0;
  for_each_line(text, source, [&](std::size_t number, std::string_view line) {
    const auto fields = split_fields(line);
    const std::string where = source + " line " + std::to_string(number) + ": ";
    if (number == 1) {
      for (const auto& name : fields) {
        if (name.empty()) throw DataError(where + "the header has an empty column name");
        for (const auto& seen : table.columns)
          if (seen == name) throw DataError(where + "the header names column " + seen + " twice");
        table.columns.emplace_back(name);
      }
      for (const char* needed : {"epoch", "train_loss"})
        if (std::find(table.columns.begin(), table.columns.end(), needed) == table.columns.end())
          throw DataError(where + "the header has no " + needed + " column (got '" + std::string(line) + "')");
      epoch_column = std::size_t(std::find(table.columns.begin(), table.columns.end(), "epoch") - table.columns.begin());
      return;
    }
    if (fields.size() != table.columns.size())
      throw DataError(where + std::to_string(fields.size()) + " fields, but the header has " +
                      std::to_string(table.columns.size()));
    std::vector<double> row(fields.size(), std::numeric_limits<double>::quiet_NaN());
    for (std::size_t c = 0; c < fields.size(); ++c) {
      if (fields[c].empty()) continue;
      const auto [end, error] = std::from_chars(fields[c].data(), fields[c].data() + fields[c].size(), row[c]);
      if (error != std::errc() || end != fields[c].data() + fields[c].size())
        throw DataError(where + table.columns[c] + " '" + std::string(fields[c]) + "' is not a number");
    }
    const double epoch = row[epoch_column];
    const double previous = table.rows.empty() ? 0 : table.rows.back()[epoch_column];
    if (!(epoch >= 1 && epoch == std::floor(epoch) && epoch < 1e15))
      throw DataError(where + "epoch '" + std::string(fields[epoch_column]) + "' is not a whole number >= 1");
    if (epoch <= previous)
      throw DataError(where + "epoch " + std::string(fields[epoch_column]) + " after epoch " +
                      std::to_string(std::size_t(previous)) + " (epochs must increase)");
    table.rows.push_back(std::move(row));
  });
  return table;
}

RunConfig parse_run_config(const std::string& text, const std::string& source) {
  RunConfig config;
  bool no_restore_best = false;
  po::options_description options;
  options.add_options()
    ("train.data", po::value(&config.data.data))
    ("train.test-data", po::value(&config.data.test_data))
    ("train.val-split", po::value(&config.data.val_split))
    ("train.test-split", po::value(&config.data.test_split))
    ("train.seed", po::value(&config.data.seed))
    ("train.patience", po::value(&config.patience))
    ("train.no-restore-best", po::value(&no_restore_best));
  po::variables_map values;
  try {
    std::istringstream in(text);
    po::store(po::parse_config_file(in, options, true), values);  // other keys: not the report's business
    po::notify(values);
  } catch (const po::error& e) {
    throw DataError(source + ": " + e.what());
  }
  if (!values.count("train.data"))
    throw DataError(source + ": no 'data = ...' under [train] (not a config.ini that sinapsis train wrote)");
  config.restore_best = !no_restore_best;
  try {
    config.data.validate();
  } catch (const UsageError& e) {
    throw DataError(source + ": " + e.what());
  }
  return config;
}

RunInputs read_run_inputs(const fs::path& run) {
  RunInputs in;
  in.metrics_source = (run / "metrics.csv").string();
  in.metrics = parse_metrics_csv(read_whole(run / "metrics.csv"), in.metrics_source);
  in.config_text = read_whole(run / "config.ini");
  in.config = parse_run_config(in.config_text, (run / "config.ini").string());
  in.has_checkpoint = present(run / "checkpoint.h5");
  const fs::path summary = run / "summary.json";
  if (present(summary)) {
    in.summary_text = read_whole(summary);
    const JsonDocument json = read_json(*in.summary_text, summary.string());
    require_object(json);
    if (const ordered_json* best = member(json, json.value(), "best", &ordered_json::is_object, "an object")) {
      if (const ordered_json* epoch = member(json, *best, "epoch", &ordered_json::is_number, "a number"))
        in.best_epoch = whole_number(json, *epoch, "epoch");
      if (const ordered_json* monitor = member(json, *best, "monitor", &ordered_json::is_string, "a string"))
        in.best_monitor = monitor->get<std::string>();
    }
  } else if (!in.has_checkpoint) {
    throw DataError(summary.string() + ": missing, and there is no checkpoint.h5 (the run neither finished nor "
                                       "stopped at a checkpoint)");
  }
  if (present(run / "model.h5")) in.model = read_model_file((run / "model.h5").string());
  return in;
}

SweepInputs read_sweep_inputs(const fs::path& sweep) {
  SweepInputs in;
  const std::string csv = (sweep / "trials.csv").string();
  for_each_line(read_whole(csv), csv, [&](std::size_t number, std::string_view line) {
    const std::string where = csv + " line " + std::to_string(number);
    if (number == 1) {
      if (line != trial_csv_header())
        throw DataError(where + ": not the header sinapsis sweep writes ('" + trial_csv_header() + "')");
      return;
    }
    in.trials.push_back(parse_trial_row(std::string(line), where));
  });
  const fs::path summary = sweep / "summary.json";
  in.summary_text = read_whole(summary);
  const JsonDocument json = read_json(in.summary_text, summary.string());
  require_object(json);
  const ordered_json* metric = member(json, json.value(), "metric", &ordered_json::is_string, "a string");
  if (metric == nullptr || (*metric != "val_loss" && *metric != "test_loss"))
    throw DataError((metric ? where(json, *metric) : summary.string() + " line 1") +
                    ": \"metric\" must be \"val_loss\" or \"test_loss\"");
  in.by_test = *metric == "test_loss";
  if (const ordered_json* target = member(json, json.value(), "target_loss", &ordered_json::is_number, "a number"))
    in.target_loss = target->get<double>();
  if (const ordered_json* simplest =
          member(json, json.value(), "simplest_meeting_target", &ordered_json::is_object, "an object")) {
    const ordered_json* trial = member(json, *simplest, "trial", &ordered_json::is_number, "a number");
    if (trial == nullptr) throw DataError(where(json, *simplest) + ": \"simplest_meeting_target\" has no \"trial\"");
    in.simplest = whole_number(json, *trial, "trial");
  }
  if (present(sweep / "sweep.args")) in.args_text = read_whole(sweep / "sweep.args");
  return in;
}

namespace {

// A plan row's values, checked: ranks whole, >= 1 and increasing;
// efficiency and samples/s finite and >= 0.
void add_plan_row(PlanInputs& plan, double ranks, double efficiency, double samples_per_second,
                  const std::string& where) {
  if (!(ranks >= 1 && ranks == std::floor(ranks) && ranks < 1e15))
    throw DataError(where + "ranks " + std::to_string(ranks) + " is not a whole number >= 1");
  if (!plan.ranks.empty() && ranks <= plan.ranks.back())
    throw DataError(where + "ranks " + std::to_string(std::size_t(ranks)) + " after " +
                    std::to_string(std::size_t(plan.ranks.back())) + " (rank counts must increase)");
  if (!(efficiency >= 0 && std::isfinite(efficiency)) || !(samples_per_second >= 0 && std::isfinite(samples_per_second)))
    throw DataError(where + "efficiency and samples_per_second must be finite numbers >= 0");
  plan.ranks.push_back(ranks);
  plan.efficiency.push_back(efficiency);
  plan.samples_per_second.push_back(samples_per_second);
}

void parse_plan_csv(PlanInputs& plan, const std::string& source) {
  std::vector<std::string> columns;
  std::size_t ranks = 0, efficiency = 0, rate = 0;
  for_each_line(plan.text, source, [&](std::size_t number, std::string_view line) {
    const auto fields = split_fields(line);
    const std::string where = source + " line " + std::to_string(number) + ": ";
    if (number == 1) {
      columns.assign(fields.begin(), fields.end());
      const auto index = [&](const char* name) {
        const auto found = std::find(columns.begin(), columns.end(), name);
        if (found == columns.end())
          throw DataError(where + "the header has no " + name + " column (not a plan of sinapsis plan --format csv)");
        return std::size_t(found - columns.begin());
      };
      ranks = index("ranks"), efficiency = index("efficiency"), rate = index("samples_per_second");
      return;
    }
    if (fields.size() != columns.size())
      throw DataError(where + std::to_string(fields.size()) + " fields, but the header has " +
                      std::to_string(columns.size()));
    const auto value = [&](std::size_t c) {
      double parsed = 0;
      const auto [end, error] = std::from_chars(fields[c].data(), fields[c].data() + fields[c].size(), parsed);
      if (fields[c].empty() || error != std::errc() || end != fields[c].data() + fields[c].size())
        throw DataError(where + columns[c] + " '" + std::string(fields[c]) + "' is not a number");
      return parsed;
    };
    add_plan_row(plan, value(ranks), value(efficiency), value(rate), where);
  });
  if (plan.ranks.empty()) throw DataError(source + ": the plan has no rows");
}

void parse_plan_json(PlanInputs& plan, const std::string& source) {
  const JsonDocument json = read_json(plan.text, source);
  const ordered_json& plan_json = json.value();
  if (!plan_json.is_object() || !plan_json.contains("format") || plan_json["format"] != "sinapsis-plan")
    throw DataError(source + " line 1: not a plan of sinapsis plan --format json (no \"format\": \"sinapsis-plan\")");
  const ordered_json* rows = member(json, plan_json, "rows", &ordered_json::is_array, "a list");
  if (rows == nullptr || rows->empty()) throw DataError(source + ": the plan has no rows");
  for (const ordered_json& row : *rows) {
    const std::string at = where(json, row) + ": ";
    const auto value = [&](const char* key) {
      const ordered_json* found = row.is_object() ? member(json, row, key, &ordered_json::is_number, "a number") : nullptr;
      if (found == nullptr) throw DataError(at + "a row without \"" + key + "\"");
      return found->get<double>();
    };
    add_plan_row(plan, value("ranks"), value("efficiency"), value("samples_per_second"), at);
  }
}

}  // namespace

PlanInputs read_plan_inputs(const fs::path& file) {
  PlanInputs plan;
  plan.text = read_whole(file);
  const std::size_t first = plan.text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && plan.text[first] == '{') parse_plan_json(plan, file.string());
  else parse_plan_csv(plan, file.string());
  return plan;
}

}  // namespace sinapsis::cli
