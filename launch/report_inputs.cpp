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
#include "launch/text_file.hpp"

namespace sinapsis::cli {
namespace {

namespace fs = std::filesystem;

using nlohmann::ordered_json;

}  // namespace

SweepInputs read_sweep_inputs(const fs::path& sweep) {
  SweepInputs in;
  const std::string csv = (sweep / "trials.csv").string();
  std::vector<std::string> columns;
  for_each_line(read_text_file(csv), csv, [&](std::size_t number, std::string_view line) {
    const std::string where = csv + " line " + std::to_string(number);
    if (number == 1) columns = trial_csv_columns(std::string(line), where);
    else in.trials.push_back(parse_trial_row(columns, std::string(line), where));
  });
  const fs::path summary = sweep / "summary.json";
  in.summary_text = read_text_file(summary);
  const JsonDocument json = read_json(in.summary_text, summary.string());
  json.require_object();
  const ordered_json* metric = json.member(json.value(), "metric", &ordered_json::is_string, "a string");
  if (metric == nullptr || (*metric != "val_loss" && *metric != "test_loss"))
    throw DataError((metric ? json.where(*metric) : summary.string() + " line 1") +
                    ": \"metric\" must be \"val_loss\" or \"test_loss\"");
  in.by_test = *metric == "test_loss";
  if (const ordered_json* target = json.member(json.value(), "target_loss", &ordered_json::is_number, "a number"))
    in.target_loss = target->get<double>();
  if (const ordered_json* simplest =
          json.member(json.value(), "simplest_meeting_target", &ordered_json::is_object, "an object")) {
    const ordered_json* trial = json.member(*simplest, "trial", &ordered_json::is_number, "a number");
    if (trial == nullptr) throw DataError(json.where(*simplest) + ": \"simplest_meeting_target\" has no \"trial\"");
    in.simplest = json.whole_number(*trial, "trial");
  }
  if (present(sweep / "sweep.args")) in.args_text = read_text_file(sweep / "sweep.args");
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
  const ordered_json* rows = json.member(plan_json, "rows", &ordered_json::is_array, "a list");
  if (rows == nullptr || rows->empty()) throw DataError(source + ": the plan has no rows");
  for (const ordered_json& row : *rows) {
    const std::string at = json.where(row) + ": ";
    const auto value = [&](const char* key) {
      const ordered_json* found = row.is_object() ? json.member(row, key, &ordered_json::is_number, "a number") : nullptr;
      if (found == nullptr) throw DataError(at + "a row without \"" + key + "\"");
      return found->get<double>();
    };
    add_plan_row(plan, value("ranks"), value("efficiency"), value("samples_per_second"), at);
  }
}

}  // namespace

PlanInputs read_plan_inputs(const fs::path& file) {
  PlanInputs plan;
  plan.text = read_text_file(file);
  const std::size_t first = plan.text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && plan.text[first] == '{') parse_plan_json(plan, file.string());
  else parse_plan_csv(plan, file.string());
  return plan;
}

}  // namespace sinapsis::cli
