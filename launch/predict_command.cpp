// sinapsis predict and sinapsis eval: a trained model applied to a data file.
#include <algorithm>
#include <cctype>
#include <iomanip>
#include <iostream>
#include <optional>

#include "core/blas_runtime.hpp"
#include "core/metrics.hpp"
#include "core/number_text.hpp"
#include "core/trainer.hpp"
#include "io/atomic_file.hpp"
#include "io/data_file.hpp"
#include "io/importers.hpp"
#include "io/json_text.hpp"
#include "io/model_file.hpp"
#include "io/predictions.hpp"
#include "io/schema.hpp"
#include "launch/options.hpp"
#include "launch/output_paths.hpp"
#include "launch/pipeline.hpp"

namespace sinapsis::cli {
namespace {

// Reading data for a model: its class ids must be classes the model has.
ReadOptions model_labels(const ModelFile& file, const std::string& model_path, LabelsRequired required) {
  ReadOptions read;
  read.labels = required;
  const std::size_t outputs = file.model.architecture().outputs();
  read.classes = outputs == 1 ? 2 : outputs;
  read.classes_from = "the model " + model_path;
  return read;
}

struct PredictOptions {
  std::string model, data, out, id, format = "csv", unknown_level = "error", delimiter = "auto", decimal = "auto", missing;
  int threads = 1;
  bool overwrite = false;
};

void describe(po::options_description& o, PredictOptions& v) {
  o.add_options()
    ("model", po::value(&v.model)->required(), "model file (model.h5)")
    ("data", po::value(&v.data)->required(),
     "the rows to predict: a CSV with the training table's columns (any order; the label column may be absent), "
     "encoded by the model's own input schema, or a data file (HDF5 /features; /labels optional)")
    ("id", po::value(&v.id), "csv: the column naming each row, carried to the output (default: the data's ids, "
                             "else the row number)")
    ("unknown-level", po::value(&v.unknown_level)->default_value(v.unknown_level),
     "csv: error|ignore, for a categorical value the model never saw (ignore: all zeros)")
    ("decimal", po::value(&v.decimal)->default_value(v.decimal),
     "csv: auto|.|, the decimal separator of its numbers (, : 1,5 as in many European tables, with ';' or tab "
     "between fields; auto: '.', and a column that is numeric only with ',' is refused, not made categories)")
    ("delimiter", po::value(&v.delimiter)->default_value(v.delimiter),
     "csv: auto|,|;|tab|'|' (auto: ',', ';' or tab, found from the header)")
    ("missing", po::value(&v.missing),
     "csv: mean|error|drop for missing cells (empty, NA, N/A, n/a, #N/A, NaN, nan, null, NULL, ?): the fill values "
     "the model's schema records, from its training table (default; a column without one refused), refuse every "
     "one, or drop the row (it gets no prediction)")
    ("out", po::value(&v.out)->required(),
     "the predictions: one row per sample, its id, the predicted class (by name) and one probability per class "
     "(p_NAME), or the predicted value(s) for regression")
    ("format", po::value(&v.format)->default_value(v.format), "csv|h5")
    ("overwrite", po::bool_switch(&v.overwrite), "replace --out if it exists")
    ("threads", number(&v.threads, at_least(0))->default_value(v.threads), "BLAS threads (0: all cores)");
}

bool is_csv(const std::string& path) {
  const auto dot = path.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = path.substr(dot + 1);
  for (auto& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  return ext == "csv" || ext == "tsv" || ext == "txt";
}

// The rows to predict, as the model's inputs before its own preprocessing:
// a raw CSV encoded by the model's schema (`csv` set to what the import
// did), or a data file whose schema (if both have one) matches the model's.
Dataset prediction_inputs(const PredictOptions& v, const ModelFile& file, std::optional<CsvImport>& csv) {
  std::optional<InputSchema> schema;
  if (!file.schema.empty()) schema = InputSchema::from_json(file.schema, v.model + ": attribute schema");
  if (is_csv(v.data)) {
    if (!schema)
      throw UsageError("--data " + v.data + ": a CSV is encoded by the model's input schema, and " + v.model +
                       " has none (trained on data not imported from a table): import it with sinapsis data import");
    if (v.unknown_level != "error" && v.unknown_level != "ignore")
      throw UsageError("--unknown-level: unknown value '" + v.unknown_level + "' (expected error or ignore)");
    CsvOptions options;
    options.schema = &*schema;
    options.schema_source = "the model " + v.model;
    options.id = v.id;
    options.read_label = false;  // a label column, whole or with gaps, plays no part in predicting
    options.unknown_level = v.unknown_level == "ignore" ? UnknownLevel::ignore : UnknownLevel::error;
    options.delimiter = parse_delimiter(v.delimiter, "--delimiter");
    options.decimal = parse_decimal(v.decimal, "--decimal");
    // The imputation fitted on the training table, unless told otherwise.
    options.missing.policy = MissingPolicy::mean;
    if (!v.missing.empty()) options.missing = parse_missing(v.missing, "--missing");
    csv = import_csv(v.data, options);
    return std::move(csv->data);
  }
  if (!v.id.empty()) throw UsageError("--id " + v.id + ": names a CSV column; a data file carries its ids (/ids)");
  if (v.delimiter != "auto" || !v.missing.empty())
    throw UsageError("--delimiter and --missing read a CSV --data; " + v.data + " is a data file");
  Dataset data = read_data_file(v.data, model_labels(file, v.model, LabelsRequired::no));
  if (schema && !data.schema.empty()) {
    const std::string difference =
        schema_difference(*schema, InputSchema::from_json(data.schema, v.data + ": attribute schema"));
    if (!difference.empty())
      throw DataError(v.data + ": not encoded like the model's training data: " + difference +
                      " (import it with --schema-from " + v.model + ")");
  }
  return data;
}

// One CSV field, quoted when it holds a comma, a quote or a line break.
std::string csv_text(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

// The classes the model's outputs stand for (empty: it regresses), named
// as the model file names them, else by their ids.
std::vector<std::string> output_classes(const ModelFile& file) {
  const Architecture& a = file.model.architecture();
  std::size_t classes = 0;
  if (a.output_activation() == Activation::softmax) classes = a.outputs();
  if (a.output_activation() == Activation::sigmoid && a.outputs() == 1 && file.loss == Loss::binary_cross_entropy)
    classes = 2;
  std::vector<std::string> names;
  for (std::size_t k = 0; k < classes; ++k)
    names.push_back(k < file.class_names.size() ? file.class_names[k] : std::to_string(k));
  return names;
}

// The model's outputs on every row, as predictions.
Predictions predict(const ModelFile& file, const Dataset& data) {
  const Architecture& arch = file.model.architecture();
  Predictions p;
  p.class_names = output_classes(file);
  const std::size_t k = p.class_names.empty() ? arch.outputs() : p.class_names.size();
  p.values = Matrix<float>(data.size(), k);
  Workspace<float> ws(arch, std::max<std::size_t>(1, std::min<std::size_t>(1024, data.size())));
  for (std::size_t start = 0; start < data.size(); start += ws.capacity()) {
    const std::size_t rows = std::min(ws.capacity(), data.size() - start);
    ConstMatrixView<float> x{data.features.values.data() + start * data.dimension(), rows, data.dimension()};
    const MatrixView<float> y = forward(file.model, ws, x);
    for (std::size_t r = 0; r < rows; ++r) {
      float* out = &p.values(start + r, 0);
      if (y.cols == 1 && k == 2) {  // one sigmoid unit: the probability of class 1
        out[0] = 1 - y(r, 0);
        out[1] = y(r, 0);
      } else {
        for (std::size_t c = 0; c < y.cols; ++c) out[c] = y(r, c);
      }
      if (!p.class_names.empty()) p.predicted.push_back(std::max_element(out, out + k) - out);
    }
  }
  for (std::size_t r = 0; r < data.size(); ++r) p.ids.push_back(data.ids.empty() ? std::to_string(r) : data.ids[r]);
  return p;
}

// The output's first column: --id, the data's id column, else "row".
std::string id_column(const PredictOptions& v, const Dataset& data) {
  if (!v.id.empty()) return v.id;
  if (data.ids.empty()) return "row";
  if (!data.schema.empty())
    for (const auto& c : InputSchema::from_json(data.schema, v.data).columns)
      if (c.kind == SchemaColumn::Kind::id) return c.name;
  return "id";
}

void write_predictions_csv(const std::string& path, const Predictions& p, const std::string& id_column) {
  AtomicFile out(path);
  auto& stream = out.stream();
  const std::size_t k = p.values.cols;
  stream << csv_text(id_column) << ",predicted";
  if (!p.class_names.empty())
    for (const auto& name : p.class_names) stream << ',' << csv_text("p_" + name);
  else if (k > 1)
    for (std::size_t c = 1; c < k; ++c) stream << ",predicted_" << c;
  stream << '\n';
  for (std::size_t r = 0; r < p.values.rows; ++r) {
    stream << csv_text(p.ids[r]) << ',';
    if (!p.class_names.empty()) stream << csv_text(p.class_names[std::size_t(p.predicted[r])]) << ',';
    for (std::size_t c = 0; c < k; ++c) stream << (c ? "," : "") << significant(p.values(r, c), 9);
    stream << '\n';
  }
  out.commit();
}

struct EvalOptions {
  std::string model, data, loss, out;
  int threads = 1;
  bool overwrite = false;
};

void describe(po::options_description& o, EvalOptions& v) {
  o.add_options()
    ("model", po::value(&v.model)->required(), "model file (model.h5)")
    ("data", po::value(&v.data)->required(), "data file (HDF5 /features, /labels)")
    ("loss", po::value(&v.loss), "mse|bce|cce (default: the loss stored in the model file)")
    ("out", po::value(&v.out), "also write the metrics to FILE.json (with the confusion matrix) or FILE.csv")
    ("overwrite", po::bool_switch(&v.overwrite), "replace --out if it exists")
    ("threads", number(&v.threads, at_least(0))->default_value(v.threads), "BLAS threads (0: all cores)");
}

}  // namespace

std::vector<CommandOptions> predict_options() {
  return {described<PredictOptions>("predict"), described<EvalOptions>("eval")};
}

int predict_command(const Args& args, Communicator& /*comm*/) {
  po::options_description options("sinapsis predict options");
  PredictOptions v;
  describe(options, v);
  po::variables_map values;
  if (!parse("predict", args, options, values, "--model M.h5 --data NEW.csv|D.h5 --out P.csv [--format csv|h5]"))
    return kExitSuccess;
  if (v.format != "csv" && v.format != "h5")
    throw UsageError("--format: unknown format '" + v.format + "' (expected csv or h5)");
  refuse_output_over_inputs({"--out", v.out}, {{"--model", v.model}, {"--data", v.data}});
  refuse_existing_output({"--out", v.out}, v.overwrite);
  set_blas_threads(resolve_threads(v.threads));
  const ModelFile file = read_model_file(v.model);
  std::optional<CsvImport> csv;  // told once the predictions are written
  Dataset data = prediction_inputs(v, file, csv);
  if (data.size() == 0) throw DataError(v.data + ": no rows to predict");
  apply_model_preprocessing(file, data, v.data);
  Predictions p = predict(file, data);
  // Rows dropped (--missing drop): a row without an id keeps its number in the file.
  if (csv && data.ids.empty() && !csv->rows_kept.empty())
    for (std::size_t r = 0; r < p.ids.size(); ++r) p.ids[r] = std::to_string(csv->rows_kept[r]);
  if (v.format == "h5") write_predictions_file(v.out, p);
  else write_predictions_csv(v.out, p, id_column(v, data));
  if (csv) {
    std::cout << csv_import_notes(v.data, *csv);
    if (csv->unknown_levels > 0)
      std::cout << "warning: " << csv->unknown_levels << " categorical value(s) the model never saw, encoded "
                << "as all zeros (--unknown-level ignore)\n";
  }
  std::cout << "wrote " << data.size() << " predictions to " << v.out << std::endl;
  return kExitSuccess;
}

namespace {

// Text padded to `width` characters (UTF-8: continuation bytes take no column).
std::string padded(const std::string& text, std::size_t width) {
  const auto columns = std::size_t(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
  return columns >= width ? text + " " : text + std::string(width - columns, ' ');
}

std::string score(double value) { return significant(value, 4); }

void print_classification(const ClassificationReport& r, const std::vector<std::string>& names) {
  std::size_t w = 14;
  for (const auto& n : names) w = std::max(w, n.size() + 2);
  std::cout << padded("class", w) << padded("precision", 11) << padded("recall", 11) << padded("f1", 11) << "support\n";
  const auto row = [&](const std::string& name, const ClassScores& c) {
    std::cout << padded(name, w) << padded(score(c.precision), 11) << padded(score(c.recall), 11)
              << padded(score(c.f1), 11) << c.support << "\n";
  };
  for (std::size_t k = 0; k < names.size(); ++k) row(names[k], r.classes[k]);
  std::cout << padded("accuracy", w) << padded("", 22) << padded(score(r.accuracy), 11) << r.samples << "\n";
  row("macro avg", r.macro);
  row("weighted avg", r.weighted);
  std::cout << "confusion matrix (rows: true class, columns: predicted)\n" << padded("", w);
  for (const auto& n : names) std::cout << padded(n, std::max<std::size_t>(8, n.size() + 2));
  std::cout << "\n";
  for (std::size_t t = 0; t < names.size(); ++t) {
    std::cout << padded(names[t], w);
    for (std::size_t p = 0; p < names.size(); ++p)
      std::cout << padded(std::to_string(r.confusion[t][p]), std::max<std::size_t>(8, names[p].size() + 2));
    std::cout << "\n";
  }
}

nlohmann::ordered_json scores_json(const ClassScores& c) {
  return {{"precision", c.precision}, {"recall", c.recall}, {"f1", c.f1}, {"support", c.support}};
}

// --out: the metrics as JSON (with the confusion matrix) or CSV (one row per class and average).
void write_metrics(const std::string& path, const Evaluation& e, const std::optional<ClassificationReport>& c,
                   const std::optional<RegressionReport>& reg, const std::vector<std::string>& names) {
  const bool json = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  AtomicFile out(path);
  if (json) {
    nlohmann::ordered_json doc = {{"samples", c ? c->samples : reg ? reg->samples : 0}, {"loss", e.loss}};
    if (c) {
      doc["accuracy"] = c->accuracy;
      nlohmann::ordered_json classes = nlohmann::ordered_json::array();
      for (std::size_t k = 0; k < names.size(); ++k) {
        nlohmann::ordered_json one = {{"class", names[k]}};
        one.update(scores_json(c->classes[k]));
        classes.push_back(one);
      }
      doc["classes"] = classes;
      doc["macro_avg"] = scores_json(c->macro);
      doc["weighted_avg"] = scores_json(c->weighted);
      doc["confusion"] = {{"classes", names}, {"rows_true_columns_predicted", c->confusion}};
    }
    if (reg) {
      doc["mse"] = reg->mse;
      doc["mae"] = reg->mae;
      doc["r2"] = reg->r2;
    }
    out.stream() << json_text(doc) << "\n";
  } else if (c) {
    out.stream() << "class,precision,recall,f1,support\n";
    const auto row = [&](const std::string& name, const ClassScores& s) {
      out.stream() << csv_text(name) << ',' << significant(s.precision, 9) << ',' << significant(s.recall, 9) << ','
                   << significant(s.f1, 9) << ',' << s.support << '\n';
    };
    for (std::size_t k = 0; k < names.size(); ++k) row(names[k], c->classes[k]);
    out.stream() << "accuracy,,," << significant(c->accuracy, 9) << ',' << c->samples << '\n';
    row("macro avg", c->macro);
    row("weighted avg", c->weighted);
  } else {
    out.stream() << "metric,value\nloss," << significant(e.loss, 9);
    if (reg)
      out.stream() << "\nmse," << significant(reg->mse, 9) << "\nmae," << significant(reg->mae, 9) << "\nr2,"
                   << significant(reg->r2, 9);
    out.stream() << '\n';
  }
  out.commit();
}

}  // namespace

int eval_command(const Args& args, Communicator& /*comm*/) {
  po::options_description options("sinapsis eval options");
  EvalOptions v;
  describe(options, v);
  po::variables_map values;
  if (!parse("eval", args, options, values, "--model M.h5 --data D.h5")) return kExitSuccess;
  const std::string &model_path = v.model, &data_path = v.data, &loss_text = v.loss;
  if (!v.out.empty()) {
    refuse_output_over_inputs({"--out", v.out}, {{"--model", model_path}, {"--data", data_path}});
    refuse_existing_output({"--out", v.out}, v.overwrite);
  }
  set_blas_threads(resolve_threads(v.threads));
  std::optional<Loss> chosen;
  if (!loss_text.empty()) chosen = parse_loss(loss_text, "--loss");
  const ModelFile file = read_model_file(model_path);
  const Architecture& arch = file.model.architecture();
  const Loss loss = chosen ? *chosen : (file.has_loss ? file.loss : Loss::mse);
  check_loss_output(loss, arch.output_activation());
  ReadOptions read = model_labels(file, model_path, LabelsRequired::yes);
  read.class_ids = loss != Loss::mse;
  Dataset data = read_data_file(data_path, read);
  apply_model_preprocessing(file, data, data_path);
  const auto encoded = encode<float>(data, loss, arch.output_activation(), arch.outputs(), data_path);
  Workspace<float> ws(arch, std::min<std::size_t>(1024, data.size()));
  // One pass: loss, accuracy and, for classifiers, the confusion counts.
  const std::vector<std::string> class_names = output_classes(file);
  const bool by_classes = !class_names.empty() && data.task == Task::classification;
  std::vector<double> counts;
  const EvaluationSums sums = evaluation_sums(file.model, ws, encoded, loss, by_classes ? &counts : nullptr);
  const Evaluation e = finish_evaluation(sums, loss, arch.outputs(), !encoded.class_ids.empty());
  std::cout << "samples " << data.size() << "  loss (" << loss_name(loss) << ") "
            << std::setprecision(6) << e.loss;
  if (!std::isnan(e.accuracy)) std::cout << "  accuracy " << e.accuracy;
  std::cout << std::endl;
  // Per class for classifiers, MSE/MAE/R² otherwise (from the predictions).
  std::optional<ClassificationReport> by_class;
  std::optional<RegressionReport> by_value;
  if (by_classes) {
    const std::size_t k = class_names.size();
    std::vector<std::vector<std::size_t>> confusion(k, std::vector<std::size_t>(k, 0));
    for (std::size_t t = 0; t < k; ++t)
      for (std::size_t q = 0; q < k; ++q) confusion[t][q] = std::size_t(counts[t * k + q]);
    by_class = classification_report(std::move(confusion));
    print_classification(*by_class, class_names);
  } else {
    const Predictions p = predict(file, data);
    by_value = regression_report(encoded.targets.view(), p.values.view());
    std::cout << "mse " << score(by_value->mse) << "  mae " << score(by_value->mae) << "  r2 " << score(by_value->r2)
              << std::endl;
  }
  if (!v.out.empty()) write_metrics(v.out, e, by_class, by_value, class_names);
  return kExitSuccess;
}

}  // namespace sinapsis::cli
