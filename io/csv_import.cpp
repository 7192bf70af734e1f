// The CSV importer of importers.hpp: a table read by io/csv_reader.hpp
// becomes a data set and its input schema (rules in importers.hpp).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>   // snprintf
#include <cstdlib>  // strtod
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <string_view>

#include "core/error.hpp"
#include "core/memory.hpp"
#include "core/number_text.hpp"
#include "io/csv_reader.hpp"
#include "io/importers.hpp"

namespace sinapsis {
namespace {

constexpr std::size_t npos = std::string::npos;

std::string_view trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// What a CSV cell holds: no number, a number sinapsis takes (finite, in
// float32's range), or one it cannot (nan, inf, 1e400, 1e39).
struct Field {
  enum Kind { text, number, non_finite } kind = text;
  double value = 0;
};

Field parse_field(const std::string& cell) {
  std::string_view text = trimmed(cell);
  if (text.empty()) return {};
  if (text.size() > 1 && text[0] == '+' && text[1] != '+' && text[1] != '-') text.remove_prefix(1);  // from_chars takes no '+'
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ptr != end) return {};
  if (ec == std::errc::result_out_of_range) {
    // Out of double's range: an overflow is infinite, an underflow ~0.
    value = std::strtod(std::string(text).c_str(), nullptr);
    return {std::abs(value) > 1 ? Field::non_finite : Field::number, value};
  }
  if (ec != std::errc()) return {};
  if (!std::isfinite(value) || std::abs(value) > double(std::numeric_limits<float>::max()))
    return {Field::non_finite, value};
  return {Field::number, value};
}

// A column's cells parsed once: what decides its kind and, for a numeric
// column, its values.
struct ParsedColumn {
  std::vector<Field> fields;  // one per row
  std::size_t numbers = 0;    // the cells that look like numbers
  // More than half of the values look like numbers.
  bool numeric() const { return 2 * numbers > fields.size(); }
};

ParsedColumn parse_column(const CsvTable& t, std::size_t c) {
  ParsedColumn p;
  p.fields.reserve(t.rows.size());
  for (const auto& row : t.rows) {
    const Field& f = p.fields.emplace_back(parse_field(row[c]));
    p.numbers += f.kind == Field::number || f.kind == Field::non_finite;
  }
  return p;
}

// Numeric columns parsed while deciding the kinds, kept for encoding, by table column.
using ParsedColumns = std::map<std::size_t, ParsedColumn>;

// `c`'s cells parsed: kept from deciding its kind, or parsed now.
ParsedColumn take_parsed(ParsedColumns& parsed, const CsvTable& t, std::size_t c) {
  const auto found = parsed.find(c);
  return found != parsed.end() ? std::move(found->second) : parse_column(t, c);
}

// The value of a cell of a numeric column; DataError naming the
// cell for one that is not a finite number a float32 holds.
double number_at(const CsvTable& t, std::size_t r, std::size_t c, const Field& f) {
  if (f.kind == Field::number) return f.value;
  const std::string at = t.where(r, c) + ": '" + t.rows[r][c];
  if (f.kind == Field::text) throw DataError(at + "' is not a number (the column is numeric)");
  throw DataError(at + "' is not a finite number a float32 holds (the column is numeric; sinapsis has no "
                       "missing values)");
}

// The columns named by options exist, and the label is none of the others.
void check_named_columns(const CsvTable& t, const CsvOptions& o) {
  if (!o.label.empty() && t.column(o.label) == npos) {
    std::string names;
    for (const auto& h : t.header) names += (names.empty() ? "" : ", ") + h;
    throw DataError(t.path + ": no column '" + o.label + "' for --label (columns: " + names + ")");
  }
  const auto check = [&](const std::string& name, const char* option, const char* what) {
    if (t.column(name) == npos) throw DataError(t.path + ": no column '" + name + "' " + what);
    if (name == o.label) throw DataError(t.path + ": column '" + name + "' is the label; it cannot be " + option);
  };
  for (const auto& name : o.ignored) check(name, "ignored", "to ignore");
  if (!o.id.empty()) check(o.id, "the id", "for --id");
}

// Column c's distinct values in sorted order.
std::vector<std::string> sorted_levels(const CsvTable& t, std::size_t c) {
  std::set<std::string> levels;
  for (const auto& row : t.rows) levels.insert(row[c]);
  return {levels.begin(), levels.end()};
}

// The schema of a table imported for the first time: numeric columns (with
// their parsed cells kept in `parsed`), categorical ones with their levels
// in sorted order, the label's classes.
InputSchema infer_schema(const CsvTable& t, const CsvOptions& o, ParsedColumns& parsed) {
  const std::string& path = t.path;
  InputSchema schema;
  schema.label = o.label;
  for (const auto& c : t.header) schema.columns.emplace_back(c, SchemaColumn::Kind::numeric);
  for (const auto& name : o.ignored) schema.columns[t.column(name)].kind = SchemaColumn::Kind::ignored;
  if (!o.id.empty()) schema.columns[t.column(o.id)].kind = SchemaColumn::Kind::id;
  for (std::size_t c = 0; c < t.header.size(); ++c) {
    SchemaColumn& column = schema.columns[c];
    if (column.kind != SchemaColumn::Kind::numeric) continue;
    if (!o.label.empty() && t.header[c] == o.label) {
      column.kind = SchemaColumn::Kind::label;
      continue;
    }
    ParsedColumn cells = parse_column(t, c);
    if (cells.numeric()) {
      parsed.emplace(c, std::move(cells));
    } else {
      column.kind = SchemaColumn::Kind::categorical;
      column.levels = sorted_levels(t, c);
    }
  }
  if (!o.label.empty()) {
    const std::size_t c = t.column(o.label);
    ParsedColumn cells = parse_column(t, c);
    const bool numeric = cells.numeric();
    if (!numeric && o.task == LabelTask::regression)
      throw DataError(path + ": --task regression, but the label column '" + o.label + "' is not numeric");
    if (numeric) {
      parsed.emplace(c, std::move(cells));
    } else {
      schema.classes = sorted_levels(t, c);
      if (schema.classes.size() > kMaxClasses)
        throw DataError(path + ": the label column '" + o.label + "' has " + std::to_string(schema.classes.size()) +
                        " distinct values, more than the " + std::to_string(kMaxClasses) + " classes sinapsis takes");
    }
  }
  if (schema.feature_count() == 0)
    throw DataError(path + ": no feature columns besides the label '" + o.label + "'");
  return schema;
}

// The label column as class ids (numeric: whole numbers >= 0) or targets.
void set_labels(Dataset& data, const std::vector<double>& values, LabelTask task, std::size_t declared_classes,
                const CsvTable& t, std::size_t column) {
  const bool whole = std::all_of(values.begin(), values.end(), [](double v) { return v >= 0 && v == std::floor(v); });
  if (task == LabelTask::regression || (task == LabelTask::automatic && !whole)) {
    data.task = Task::regression;
    data.targets = Matrix<float>(values.size(), 1);
    for (std::size_t r = 0; r < values.size(); ++r) data.targets(r, 0) = float(values[r]);
    return;
  }
  data.task = Task::classification;
  const ClassIdRule rule(0, "", declared_classes, values.size(), t.path, "with --class-names");
  const std::string hint = task == LabelTask::automatic ? "; pass --task regression if the label is a quantity" : "";
  std::int64_t top = 0;
  for (std::size_t r = 0; r < values.size(); ++r) {
    const double v = values[r];
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", v);
    const std::string at = t.where(r, column);
    if (!(v >= 0 && v == std::floor(v)))
      throw DataError(at + ": '" + text + "' is not a class id (a whole number >= 0)");
    if (v >= 0x1p62)  // no id a rule allows, and past what the cast below holds
      throw DataError(at + " is class " + text + ": more than the " + std::to_string(kMaxClasses) +
                      " classes sinapsis takes" + hint);
    const auto id = std::int64_t(v);
    if (const std::string why = rule.refusal(id); !why.empty()) throw DataError(at + " " + why + hint);
    data.labels.push_back(id);
    top = std::max(top, id);
  }
  data.classes = rule.classes(top);
}

// Class ids of a label column holding class names, in the schema's order.
void set_named_labels(Dataset& data, const CsvTable& t, std::size_t c, const InputSchema& schema,
                      std::size_t declared_classes, const std::string& schema_source) {
  data.task = Task::classification;
  data.class_names = schema.classes;
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    const auto at = std::find(schema.classes.begin(), schema.classes.end(), t.rows[r][c]);
    if (at == schema.classes.end())
      throw DataError(t.where(r, c) + ": class '" + t.rows[r][c] + "' is not one of the classes of " + schema_source +
                      " (" + std::to_string(schema.classes.size()) + ": " + schema.classes.front() + ", ...)");
    data.labels.push_back(at - schema.classes.begin());
  }
  data.classes = std::max<std::size_t>({2, schema.classes.size(), declared_classes});
}

// Encodes a table with a schema (the one inferred from it, or one given).
class Encoder {
 public:
  Encoder(const CsvTable& t, const InputSchema& schema, const CsvOptions& o, const std::string& source)
      : t_(t), schema_(schema), o_(o), source_(source) {}

  // The features in the schema's order (columns found by name), the
  // label if `label` (its column) is not npos, the ids.
  CsvImport encode(ParsedColumns& parsed, std::size_t label) {
    Dataset& data = result_.data;
    data.feature_names = schema_.feature_names();
    const std::size_t n = t_.rows.size(), d = data.feature_names.size();
    if (const auto bytes = checked_product({n, d, sizeof(float)}); !fits_in_memory(bytes))
      throw DataError(t_.path + ": " + std::to_string(n) + " rows x " + std::to_string(d) +
                      " features (categorical columns one-hot) " + memory_shortfall_text(bytes));
    data.features = Matrix<float>(n, d);
    std::size_t col = 0;
    for (const SchemaColumn& s : schema_.columns) {
      if (!s.is_feature()) continue;
      const std::size_t c = t_.column(s.name);
      if (c == npos) throw DataError(t_.path + ": no column '" + s.name + "', an input of " + source_);
      if (s.kind == SchemaColumn::Kind::numeric) encode_numeric(c, col, take_parsed(parsed, t_, c));
      else encode_categorical(s, c, col);
      col += s.kind == SchemaColumn::Kind::numeric ? 1 : s.levels.size();
    }
    set_ids();
    set_label(parsed, label);
    return std::move(result_);
  }

 private:
  // Column c into feature `col`.
  void encode_numeric(std::size_t c, std::size_t col, const ParsedColumn& cells) {
    for (std::size_t r = 0; r < t_.rows.size(); ++r)
      result_.data.features(r, col) = float(number_at(t_, r, c, cells.fields[r]));
  }

  // Column c into the one-hot block from `col`.
  void encode_categorical(const SchemaColumn& s, std::size_t c, std::size_t col) {
    for (std::size_t r = 0; r < t_.rows.size(); ++r) {
      const std::string& value = t_.rows[r][c];
      const auto at = std::find(s.levels.begin(), s.levels.end(), value);
      if (at != s.levels.end()) {
        result_.data.features(r, col + std::size_t(at - s.levels.begin())) = 1.0f;
      } else if (o_.unknown_level == UnknownLevel::ignore) {
        ++result_.unknown_levels;  // all zeros
      } else {
        throw DataError(t_.where(r, c) + ": level '" + value + "' is not one of the " +
                        std::to_string(s.levels.size()) + " levels of " + source_ + " (--unknown-level ignore " +
                        "encodes it as all zeros)");
      }
    }
  }

  void set_ids() {
    const std::string id = !o_.id.empty() ? o_.id : [&] {
      for (const auto& s : schema_.columns)
        if (s.kind == SchemaColumn::Kind::id && t_.column(s.name) != npos) return s.name;
      return std::string();
    }();
    id_ = id;
    if (id.empty()) return;
    const std::size_t c = t_.column(id);
    if (c == npos) throw DataError(t_.path + ": no column '" + id + "' for --id");
    for (const auto& r : t_.rows) result_.data.ids.push_back(r[c]);
  }

  void set_label(ParsedColumns& parsed, std::size_t label) {
    Dataset& data = result_.data;
    InputSchema stored = schema_;
    if (label == npos) {  // data to predict on
      stored.label.clear();
      stored.classes.clear();
      data.labels_present = false;
    } else if (!schema_.classes.empty()) {
      set_named_labels(data, t_, label, schema_, o_.declared_classes, source_);
    } else {
      const LabelTask task = o_.schema == nullptr                 ? o_.task
                             : schema_.task == Task::regression ? LabelTask::regression
                                                                : LabelTask::classification;
      const ParsedColumn cells = take_parsed(parsed, t_, label);
      std::vector<double> values(t_.rows.size());
      for (std::size_t r = 0; r < values.size(); ++r) values[r] = number_at(t_, r, label, cells.fields[r]);
      set_labels(data, values, task, o_.declared_classes, t_, label);
      stored.task = data.task;
    }
    if (!id_.empty())
      for (auto& s : stored.columns)
        if (s.name == id_) s.kind = SchemaColumn::Kind::id;
    data.schema = stored.json();
  }

  const CsvTable& t_;
  const InputSchema& schema_;
  const CsvOptions& o_;
  const std::string& source_;
  std::string id_;
  CsvImport result_;
};

}  // namespace

CsvImport import_csv(const std::string& path, const CsvOptions& options) {
  const CsvTable table = read_csv(path, options.delimiter, [&](const CsvTable& t) {
    if (options.schema == nullptr) check_named_columns(t, options);
  });
  ParsedColumns parsed;
  const InputSchema inferred = options.schema ? InputSchema{} : infer_schema(table, options, parsed);
  const InputSchema& schema = options.schema ? *options.schema : inferred;
  const std::size_t label = schema.label.empty() ? npos : table.column(schema.label);
  CsvImport result = Encoder(table, schema, options, options.schema ? options.schema_source : path).encode(parsed, label);
  result.delimiter = table.delimiter;
  result.delimiter_detected = table.delimiter_detected;
  result.rows_read = table.rows.size();
  return result;
}

Dataset import_csv(const std::string& path, const std::string& label_column, const std::vector<std::string>& ignored,
                   LabelTask task, std::size_t declared_classes) {
  CsvOptions options;
  options.label = label_column;
  options.ignored = ignored;
  options.task = task;
  options.declared_classes = declared_classes;
  return import_csv(path, options).data;
}

std::string csv_import_notes(const std::string& path, const CsvImport& imported) {
  return "read " + path + ": " + std::to_string(imported.rows_read) + " rows, delimiter " +
         delimiter_name(imported.delimiter) + (imported.delimiter_detected ? " (detected)" : "") + "\n";
}

std::optional<char> parse_delimiter(const std::string& text, const std::string& option) {
  if (text == "auto") return std::nullopt;
  if (text == "," || text == "comma") return ',';
  if (text == ";" || text == "semicolon") return ';';
  if (text == "\t" || text == "\\t" || text == "tab") return '\t';
  if (text == "|" || text == "pipe") return '|';
  throw UsageError(option + ": '" + text + "' is not a delimiter (expected auto, ',', ';', tab or '|')");
}

}  // namespace sinapsis
