#include "launch/run_recorder.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>

#include "core/error.hpp"
#include "core/number_text.hpp"
#include "io/atomic_file.hpp"
#include "io/json_text.hpp"
#include "io/model_file.hpp"
#include "launch/build_commit.hpp"
#include "launch/options.hpp"
#include "launch/text_file.hpp"

namespace sinapsis::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

constexpr std::size_t kMetricsColumns = std::size_t(std::count(kMetricsHeader.begin(), kMetricsHeader.end(), ',')) + 1;

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

nlohmann::ordered_json epoch_json(const EpochMetrics& m) {
  return {{"epoch", m.epoch},
          {"train_loss", m.train_loss},
          {"train_accuracy", m.train_accuracy},
          {"val_loss", m.val_loss},
          {"val_accuracy", m.val_accuracy},
          {"test_loss", m.test_loss},
          {"test_accuracy", m.test_accuracy},
          {"penalty", m.penalty},
          {"learning_rate", m.learning_rate}};
}

nlohmann::ordered_json summary_json(const RunSummary& s) {
  nlohmann::ordered_json options = nlohmann::ordered_json::object();
  for (const auto& [name, value] : s.configuration) options[name] = value;
  nlohmann::ordered_json kept = nlohmann::ordered_json::object();
  for (const auto& [name, e] : s.held_out) {
    kept[name + "_loss"] = e.loss;
    kept[name + "_accuracy"] = e.accuracy;
    if (e.confusion.empty()) continue;
    kept[name + "_confusion"] = e.confusion;
    if (kept.contains("class_names")) continue;
    std::vector<std::string> names = s.class_names;
    for (std::size_t k = names.size(); k < e.confusion.size(); ++k) names.push_back(std::to_string(k));
    names.resize(e.confusion.size());
    kept["class_names"] = names;
  }
  const RunTotals& t = s.totals;
  nlohmann::ordered_json summary = {
      {"sinapsis", SINAPSIS_VERSION},
      {"commit", kBuildCommit},
      {"status", s.status},
      {"run_dir", s.run_dir},
      {"configuration", options},
      {"ranks", s.ranks},
      {"hosts", s.hosts},
      {"blas_threads_per_rank", s.blas_threads_per_rank},
      {"model", {{"architecture", s.architecture}, {"parameters", s.parameters}, {"loss", s.loss}}},
      {"training_samples", s.training_samples},
      {"epochs_run", s.result.epochs_run},
      {"stop_reason", s.stop_reason.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(s.stop_reason)},
      {"final_epoch", s.last.epoch > 0 && !s.last.partial ? epoch_json(s.last) : nlohmann::ordered_json::object()},
      {"best", {{"epoch", s.result.best_epoch}, {"monitor", s.monitor}, {"value", s.result.best_monitored}}},
      {"kept_model", kept},
      {"wall_seconds", s.wall_seconds},
      {"samples_per_second", t.samples_per_second()},
      {"time_seconds",
       {{"compute", t.compute},
        {"communication", t.comm},
        {"communication_hidden", t.comm_hidden},
        {"io", t.io},
        {"evaluation_and_other", t.epoch - t.compute - t.comm - t.io}}},
      {"exchange",
       {{"overlap", s.overlap},
        {"bucket_mb", s.bucket_mb},
        {"bytes_per_step", t.bytes_per_step},
        {"grad_precision", s.grad_precision},
        {"skipped_steps", t.skipped_steps}}},
      {"peak_memory_mib_per_rank", s.peak_memory_mib_per_rank}};
  if (!s.error.empty()) summary["error"] = s.error;
  if (s.result.reason == StopReason::diverged)
    summary["diverged"] = {{"epoch", s.result.diverged_epoch}, {"step", s.result.diverged_step}};
  return summary;
}

}  // namespace

std::string metrics_row(const EpochMetrics& m) {
  std::ostringstream out;
  out << m.epoch << ',' << csv_field(m.train_loss) << ',' << csv_field(m.val_loss) << ','
      << csv_field(m.val_accuracy) << ',' << csv_field(m.penalty) << ',' << csv_field(m.learning_rate) << ','
      << csv_field(m.epoch_seconds) << ',' << csv_field(m.samples_per_second) << ',' << csv_field(m.test_loss)
      << ',' << csv_field(m.test_accuracy) << ',' << csv_field(m.compute_seconds) << ','
      << csv_field(m.comm_seconds) << ',' << csv_field(m.io_seconds) << ',' << csv_field(m.comm_hidden_seconds)
      << ',' << csv_field(m.bytes_per_step) << ',' << m.skipped_steps << ',' << csv_field(m.train_accuracy);
  return out.str();
}

void RunTotals::add(const EpochMetrics& m, std::size_t samples_per_epoch) {
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

RunRecorder::RunRecorder(const std::string& dir, RunDirectory::Mode mode, const std::string& option,
                         std::string config)
    : directory_(dir, mode, option, "sinapsis train"), config_(std::move(config)) {}

void RunRecorder::continue_metrics(const Checkpoint& resumed) {
  rows_ = resumed.metric_rows ? *resumed.metric_rows : earlier_metrics(file("metrics.csv"), resumed.state.epochs_done);
  for (auto& row : rows_)
    for (auto fields = std::size_t(std::count(row.begin(), row.end(), ',')) + 1; fields < kMetricsColumns; ++fields)
      row += ',';
  write_metrics();
}

void RunRecorder::add_epoch(const EpochMetrics& m) {
  rows_.push_back(metrics_row(m));
  // A metrics.csv gone from under the run (deleted by hand) is written anew, whole.
  if (!metrics_written_ || !append_to_file(file("metrics.csv"), rows_.back() + "\n")) write_metrics();
}

void RunRecorder::write_metrics() {
  directory_.before_writing();
  AtomicFile config_file(file("config.ini"));
  config_file.stream() << config_;
  config_file.commit();
  AtomicFile metrics(file("metrics.csv"));
  metrics.stream() << kMetricsHeader << '\n';
  for (const auto& row : rows_) metrics.stream() << row << '\n';
  metrics.commit();
  metrics_written_ = true;
}

void RunRecorder::write_checkpoint(const Model<float>& model, Loss loss, const ModelInputs& inputs,
                                   const Trainer<float>::State& state, const CommandLine& command, int ranks) {
  directory_.before_writing();
  sinapsis::write_checkpoint(file("checkpoint.h5"), model, loss, inputs, state, command, ranks, rows_);
  if (!metrics_written_) write_metrics();
}

void RunRecorder::write_final(const Model<float>& model, Loss loss, const ModelInputs& inputs,
                              const RunSummary& summary) {
  directory_.before_writing();
  write_model_file(file("model.h5"), model, loss, inputs);
  write_metrics();
  write_summary(summary);
}

void RunRecorder::write_summary(const RunSummary& summary) {
  directory_.before_writing();
  const auto start = std::chrono::steady_clock::now();
  AtomicFile out(file("summary.json"));
  out.stream() << json_text(summary_json(summary)) << "\n";
  out.commit();
  summary_written_ = std::chrono::steady_clock::now();
  summary_write_seconds_ = std::chrono::duration<double>(summary_written_ - start).count();
  summary_running_ = summary.status == "running";
}

bool RunRecorder::running_summary_due() const {
  if (!summary_running_) return true;
  const double since = std::chrono::duration<double>(std::chrono::steady_clock::now() - summary_written_).count();
  return since >= std::max(1.0, 20 * summary_write_seconds_);
}

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

// kept_model's confusion matrix of `part` ("test", "val"), checked: square,
// whole counts, one class name per row. Empty if it has none.
RunInputs::Confusion read_confusion(const JsonDocument& json, const ordered_json& kept, const std::string& part) {
  RunInputs::Confusion c;
  const ordered_json* matrix = json.member(kept, part + "_confusion", &ordered_json::is_array, "an array");
  if (matrix == nullptr) return c;
  const ordered_json* names = json.member(kept, "class_names", &ordered_json::is_array, "an array");
  if (names == nullptr) throw DataError(json.where(*matrix) + ": " + part + "_confusion without class_names");
  for (const ordered_json& name : *names) {
    if (!name.is_string()) throw DataError(json.where(name) + ": class_names holds a value that is not a string");
    c.class_names.push_back(name.get<std::string>());
  }
  for (const ordered_json& row : *matrix) {
    if (!row.is_array() || row.size() != names->size())
      throw DataError(json.where(row) + ": " + part + "_confusion: a row is not a list of " +
                      std::to_string(names->size()) + " counts (one per class name)");
    c.counts.emplace_back();
    for (const ordered_json& count : row) {
      if (!count.is_number()) throw DataError(json.where(count) + ": " + part + "_confusion holds a value that is not a count");
      c.counts.back().push_back(json.whole_number(count, part + "_confusion"));
    }
  }
  if (c.counts.size() != names->size())
    throw DataError(json.where(*matrix) + ": " + part + "_confusion has " + std::to_string(c.counts.size()) +
                    " rows for " + std::to_string(names->size()) + " class names");
  c.part = part;
  return c;
}

RunInputs read_run_inputs(const fs::path& run) {
  RunInputs in;
  in.writer = run_writer(run.string());
  in.has_checkpoint = present(run / "checkpoint.h5");
  const fs::path summary = run / "summary.json";
  if (present(summary)) {
    in.summary_text = read_text_file(summary);
    const JsonDocument json = read_json(*in.summary_text, summary.string());
    json.require_object();
    in.status = "finished";
    if (const ordered_json* status = json.member(json.value(), "status", &ordered_json::is_string, "a string"))
      in.status = status->get<std::string>();
    if (const ordered_json* error = json.member(json.value(), "error", &ordered_json::is_string, "a string"))
      in.error = error->get<std::string>();
    if (const ordered_json* kept = json.member(json.value(), "kept_model", &ordered_json::is_object, "an object")) {
      in.confusion = read_confusion(json, *kept, "test");
      if (in.confusion.part.empty()) in.confusion = read_confusion(json, *kept, "val");
    }
    if (const ordered_json* best = json.member(json.value(), "best", &ordered_json::is_object, "an object")) {
      if (const ordered_json* epoch = json.member(*best, "epoch", &ordered_json::is_number, "a number"))
        in.best_epoch = json.whole_number(*epoch, "epoch");
      if (const ordered_json* monitor = json.member(*best, "monitor", &ordered_json::is_string, "a string"))
        in.best_monitor = monitor->get<std::string>();
    }
  } else if (!in.has_checkpoint && !in.writer) {
    throw DataError(summary.string() + ": missing, and there is no checkpoint.h5 (the run neither finished nor "
                                       "stopped at a checkpoint)");
  }
  in.metrics_source = (run / "metrics.csv").string();
  std::string metrics = read_text_file(run / "metrics.csv");
  if ((in.writer || in.status == "running") && !metrics.empty() && metrics.back() != '\n')
    metrics.resize(metrics.rfind('\n') + 1);  // npos + 1: nothing whole yet
  in.metrics = parse_metrics_csv(metrics, in.metrics_source);
  in.config_text = read_text_file(run / "config.ini");
  in.config = parse_run_config(in.config_text, (run / "config.ini").string());
  if (present(run / "model.h5")) in.model = read_model_file((run / "model.h5").string());
  return in;
}

}  // namespace sinapsis::cli
