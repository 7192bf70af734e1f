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

bool is_missing(const std::string& cell) {
  const std::string_view text = trimmed(cell);
  return text.empty() || std::any_of(std::begin(kMissingTokens), std::end(kMissingTokens),
                                     [&](const char* token) { return text == token; });
}

// A missing cell as messages show it.
std::string missing_text(const std::string& cell) { return cell.empty() ? "(an empty cell)" : "'" + cell + "'"; }

// What a CSV cell holds: no value, no number, a number sinapsis takes
// (finite, in float32's range), or one it cannot (inf, 1e400, 1e39).
struct Field {
  enum Kind { missing, text, number, non_finite } kind = text;
  double value = 0;
};

// `decimal`: the separator of the cell's decimals, '.' or ',' (then a '.'
// makes it no number: thousands separators are not read).
Field parse_field(const std::string& cell, char decimal = '.') {
  if (is_missing(cell)) return {Field::missing, 0};
  std::string_view text = trimmed(cell);
  std::string pointed;
  if (decimal == ',') {
    if (text.find('.') != std::string_view::npos) return {};
    pointed = text;
    std::replace(pointed.begin(), pointed.end(), ',', '.');
    text = pointed;
  }
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
  std::vector<Field> fields;             // one per row
  std::size_t present = 0, numbers = 0;  // cells not missing; of those, the ones that look like numbers
  // More than half of the present values look like numbers (none: not numeric).
  bool numeric() const { return 2 * numbers > present; }
};

ParsedColumn parse_column(const CsvTable& t, std::size_t c, char decimal) {
  ParsedColumn p;
  p.fields.reserve(t.rows.size());
  for (const auto& row : t.rows) {
    const Field& f = p.fields.emplace_back(parse_field(row[c], decimal));
    p.present += f.kind != Field::missing;
    p.numbers += f.kind == Field::number || f.kind == Field::non_finite;
  }
  return p;
}

// Numeric columns parsed while deciding the kinds, kept for encoding, by table column.
using ParsedColumns = std::map<std::size_t, ParsedColumn>;

// `c`'s cells parsed: kept from deciding its kind, or parsed now.
ParsedColumn parse_column(const CsvTable& t, std::size_t c) { return parse_column(t, c, t.decimal); }

ParsedColumn take_parsed(ParsedColumns& parsed, const CsvTable& t, std::size_t c) {
  const auto found = parsed.find(c);
  return found != parsed.end() ? std::move(found->second) : parse_column(t, c);
}

// The first cell of column `c` holding a ',' (for messages).
std::string first_with_comma(const CsvTable& t, std::size_t c) {
  for (const auto& row : t.rows)
    if (row[c].find(',') != std::string::npos) return row[c];
  return "";
}

// The value of a present cell of a numeric column; DataError naming the
// cell for one that is not a finite number a float32 holds.
double number_at(const CsvTable& t, std::size_t r, std::size_t c, const Field& f) {
  if (f.kind == Field::number) return f.value;
  const std::string at = t.where(r, c) + ": '" + t.rows[r][c];
  if (f.kind == Field::text)
    throw DataError(at + "' is not a number (the column is numeric" +
                    (t.decimal == '.' && t.rows[r][c].find(',') != std::string::npos
                         ? std::string("; a decimal comma? --decimal , reads it)")
                         : std::string(")")));
  throw DataError(at + "' is not a finite number a float32 holds (the column is numeric; a missing value is an "
                       "empty cell or NA)");
}

// The table's columns that feed the data set: the features and the label (npos: none).
struct UsedColumns {
  std::vector<std::size_t> features;
  std::size_t label = npos;
};

UsedColumns used_by_options(const CsvTable& t, const CsvOptions& o) {
  UsedColumns used;
  for (std::size_t c = 0; c < t.header.size(); ++c) {
    const std::string& name = t.header[c];
    // (A column may be unnamed: pandas writes its index so.)
    if (!o.label.empty() && name == o.label) used.label = c;
    else if ((o.id.empty() || name != o.id) && std::find(o.ignored.begin(), o.ignored.end(), name) == o.ignored.end())
      used.features.push_back(c);
  }
  return used;
}

// A schema's columns in the table (one it lacks is refused when encoding);
// a label column with no value at all is rows to predict, not labels.
UsedColumns used_by_schema(const CsvTable& t, const InputSchema& schema) {
  UsedColumns used;
  for (const auto& s : schema.columns)
    if (const std::size_t c = t.column(s.name); s.is_feature() && c != npos) used.features.push_back(c);
  const std::size_t label = schema.label.empty() ? npos : t.column(schema.label);
  if (label != npos && std::any_of(t.rows.begin(), t.rows.end(), [&](const auto& row) { return !is_missing(row[label]); }))
    used.label = label;
  return used;
}

// The part of `policy` that acts on whole rows: a missing label is refused
// unless rows are dropped; with drop, the rows with a missing cell in `used`
// go (returned: which rows stay); with error, the first missing feature
// cell in file order is refused, `hint` saying what else there is.
std::vector<bool> drop_or_refuse_missing(CsvTable& t, const UsedColumns& used, MissingPolicy policy,
                                         const std::string& hint) {
  const bool scan_features = policy == MissingPolicy::error || policy == MissingPolicy::drop;
  std::vector<bool> keep(t.rows.size(), true);
  std::size_t dropped = 0;
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    const auto& row = t.rows[r];
    if (used.label != npos && is_missing(row[used.label])) {
      if (policy != MissingPolicy::drop)
        throw DataError(t.where(r, used.label) + ": the label is missing (" + missing_text(row[used.label]) +
                        "; --missing drop drops such rows)");
      keep[r] = false;
    }
    for (std::size_t i = 0; scan_features && keep[r] && i < used.features.size(); ++i) {
      const std::size_t c = used.features[i];
      if (!is_missing(row[c])) continue;
      if (policy == MissingPolicy::error)
        throw DataError(t.where(r, c) + ": missing value " + missing_text(row[c]) + " (" + hint + ")");
      keep[r] = false;
    }
    dropped += !keep[r];
  }
  if (dropped == t.rows.size())
    throw DataError(t.path + ": every one of the " + std::to_string(dropped) + " rows has a missing cell (--missing "
                    "drop leaves none)");
  if (dropped > 0) t.keep_rows(keep);
  return keep;
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

// Each present value of column c and how many rows hold it, in sorted order.
std::map<std::string, std::size_t> level_counts(const CsvTable& t, std::size_t c) {
  std::map<std::string, std::size_t> counts;
  for (const auto& row : t.rows)
    if (!is_missing(row[c])) ++counts[row[c]];
  return counts;
}

// The mean of column c's present values (a value that is not a finite
// number a float32 holds refused here), as a float32 holds it: the value
// written into the features and recorded in the schema alike.
double mean_of(const CsvTable& t, std::size_t c, const ParsedColumn& cells) {
  double sum = 0;
  for (std::size_t r = 0; r < cells.fields.size(); ++r)
    if (cells.fields[r].kind != Field::missing) sum += number_at(t, r, c, cells.fields[r]);
  return double(float(sum / double(cells.present)));
}

// A categorical column: its levels in sorted order, at most `max_levels`,
// and with a fill policy its most frequent level (the first on a tie).
void set_levels(SchemaColumn& column, const CsvTable& t, std::size_t c, const CsvOptions& o) {
  const auto counts = level_counts(t, c);
  if (counts.size() > o.max_levels)
    throw DataError(t.path + ": column '" + column.name + "' has " + std::to_string(counts.size()) +
                    " distinct values, more than --max-levels " + std::to_string(o.max_levels) +
                    " allows a categorical column (one feature each): an id or free text? --ignore " + column.name +
                    " leaves it out, --max-levels " + std::to_string(counts.size()) + " keeps it");
  column.kind = SchemaColumn::Kind::categorical;
  const std::string* most_frequent = nullptr;
  std::size_t most = 0;
  for (const auto& [level, count] : counts) {
    column.levels.push_back(level);
    if (count > most) {
      most = count;
      most_frequent = &level;
    }
  }
  if (o.missing.policy == MissingPolicy::mean || o.missing.policy == MissingPolicy::value)
    column.fill_level = *most_frequent;
}

// The schema of a table imported for the first time: numeric columns (with
// their parsed cells kept in `parsed`), categorical ones with their levels
// in sorted order, the label's classes, and the fills of the missing policy.
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
    if (cells.present == 0)
      throw DataError(path + ": column '" + column.name + "' has no values (every cell is missing); --ignore " +
                      column.name + " leaves it out");
    if (!cells.numeric()) {
      // Numbers written with a decimal comma would become categories: refused
      // unless the separator was chosen (--decimal . keeps them as text).
      if (!o.decimal && parse_column(t, c, ',').numeric())
        throw DataError(path + ": column '" + column.name + "' holds numbers with a decimal comma ('" +
                        first_with_comma(t, c) + "'): --decimal , reads them as numbers, --decimal . as categories");
      set_levels(column, t, c, o);
      continue;
    }
    if (o.missing.policy == MissingPolicy::mean) column.fill = mean_of(t, c, cells);
    if (o.missing.policy == MissingPolicy::value) column.fill = double(float(o.missing.value));
    parsed.emplace(c, std::move(cells));
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
      for (const auto& [level, count] : level_counts(t, c)) schema.classes.push_back(level);
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
      const std::size_t filled = s.kind == SchemaColumn::Kind::numeric
                                     ? encode_numeric(s, c, col, take_parsed(parsed, t_, c))
                                     : encode_categorical(s, c, col);
      if (filled > 0) note_filled(s, filled);
      col += s.kind == SchemaColumn::Kind::numeric ? 1 : s.levels.size();
    }
    set_ids();
    set_label(parsed, label);
    return std::move(result_);
  }

 private:
  // Column c into feature `col`; returns the cells filled.
  std::size_t encode_numeric(const SchemaColumn& s, std::size_t c, std::size_t col, const ParsedColumn& cells) {
    std::size_t filled = 0;
    for (std::size_t r = 0; r < t_.rows.size(); ++r) {
      const Field& f = cells.fields[r];
      if (f.kind == Field::missing) {
        if (!s.fill) refuse_unfilled(r, c);
        result_.data.features(r, col) = float(*s.fill);
        ++filled;
      } else {
        result_.data.features(r, col) = float(number_at(t_, r, c, f));
      }
    }
    return filled;
  }

  // Column c into the one-hot block from `col`; returns the cells filled.
  std::size_t encode_categorical(const SchemaColumn& s, std::size_t c, std::size_t col) {
    std::size_t filled = 0;
    for (std::size_t r = 0; r < t_.rows.size(); ++r) {
      const std::string* value = &t_.rows[r][c];
      if (is_missing(*value)) {
        if (!s.fill_level) refuse_unfilled(r, c);
        value = &*s.fill_level;
        ++filled;
      }
      const auto at = std::find(s.levels.begin(), s.levels.end(), *value);
      if (at != s.levels.end()) {
        result_.data.features(r, col + std::size_t(at - s.levels.begin())) = 1.0f;
      } else if (o_.unknown_level == UnknownLevel::ignore) {
        ++result_.unknown_levels;  // all zeros
      } else {
        throw DataError(t_.where(r, c) + ": level '" + *value + "' is not one of the " +
                        std::to_string(s.levels.size()) + " levels of " + source_ + " (--unknown-level ignore " +
                        "encodes it as all zeros)");
      }
    }
    return filled;
  }

  // A missing cell of a column the schema given has no fill for (a schema
  // inferred here has one for every column when the policy fills).
  [[noreturn]] void refuse_unfilled(std::size_t r, std::size_t c) const {
    throw DataError(t_.where(r, c) + ": missing value " + missing_text(t_.rows[r][c]) + ", and " + source_ +
                    " records no fill value for the column (its table was imported without --missing mean or a "
                    "number; --missing drop drops such rows)");
  }

  void note_filled(const SchemaColumn& s, std::size_t cells) {
    const bool numeric = s.kind == SchemaColumn::Kind::numeric;
    std::string how = numeric ? "the column's mean" : "its most frequent level";
    if (o_.schema != nullptr) how = "recorded in " + source_;
    else if (numeric && o_.missing.policy == MissingPolicy::value) how = "--missing " + significant(o_.missing.value, 9);
    result_.filled.push_back({s.name, cells, numeric ? significant(*s.fill, 9) : "'" + *s.fill_level + "'", how});
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

// What a missing cell refused under MissingPolicy::error may do instead.
std::string error_hint(const CsvOptions& o) {
  if (o.schema == nullptr) return "--missing drop, mean or a number drops or fills missing cells";
  const bool fills = std::any_of(o.schema->columns.begin(), o.schema->columns.end(),
                                 [](const SchemaColumn& s) { return s.has_fill(); });
  return fills ? "--missing error; --missing mean fills it with the value recorded in " + o.schema_source +
                     ", drop drops the row"
               : "--missing drop drops such rows";
}

}  // namespace

CsvImport import_csv(const std::string& path, const CsvOptions& options) {
  if (options.schema != nullptr && options.missing.policy == MissingPolicy::value)
    throw UsageError("--missing " + significant(options.missing.value, 9) + ": a table encoded with a schema is "
                     "filled with the values the schema records (" + options.schema_source +
                     "), not new ones; choose error, drop or mean");
  CsvTable table = read_csv(path, options.delimiter, [&](const CsvTable& t) {
    if (options.schema == nullptr) check_named_columns(t, options);
  });
  table.decimal = options.decimal.value_or('.');
  if (options.decimal == ',' && table.delimiter == ',')
    throw UsageError("--decimal , with ',' as the delimiter of " + path + ": choose --delimiter ';' or tab");
  const std::size_t rows_read = table.rows.size();
  UsedColumns used = options.schema ? used_by_schema(table, *options.schema) : used_by_options(table, options);
  if (options.schema != nullptr && !options.read_label) used.label = npos;
  const std::vector<bool> kept = drop_or_refuse_missing(table, used, options.missing.policy, error_hint(options));
  ParsedColumns parsed;
  const InputSchema inferred = options.schema ? InputSchema{} : infer_schema(table, options, parsed);
  const InputSchema& schema = options.schema ? *options.schema : inferred;
  CsvImport result = Encoder(table, schema, options, options.schema ? options.schema_source : path).encode(parsed, used.label);
  result.delimiter = table.delimiter;
  result.delimiter_detected = table.delimiter_detected;
  result.rows_read = rows_read;
  result.rows_dropped = rows_read - table.rows.size();
  if (result.rows_dropped > 0)
    for (std::size_t r = 0; r < rows_read; ++r)
      if (kept[r]) result.rows_kept.push_back(r);
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
  std::string notes = "read " + path + ": " + std::to_string(imported.rows_read) + " rows, delimiter " +
                      delimiter_name(imported.delimiter) + (imported.delimiter_detected ? " (detected)" : "") + "\n";
  if (imported.rows_dropped > 0)
    notes += "dropped " + std::to_string(imported.rows_dropped) + " of the " + std::to_string(imported.rows_read) +
             " rows for a missing cell (--missing drop)\n";
  for (const auto& f : imported.filled)
    notes += "filled " + std::to_string(f.cells) + " missing cell(s) of '" + f.column + "' with " + f.value + " (" +
             f.how + ")\n";
  return notes;
}

std::optional<char> parse_decimal(const std::string& text, const std::string& option) {
  if (text == "auto") return std::nullopt;
  if (text == "." || text == "point") return '.';
  if (text == "," || text == "comma") return ',';
  throw UsageError(option + ": '" + text + "' is not a decimal separator (expected auto, . or ,)");
}

std::optional<char> parse_delimiter(const std::string& text, const std::string& option) {
  if (text == "auto") return std::nullopt;
  if (text == "," || text == "comma") return ',';
  if (text == ";" || text == "semicolon") return ';';
  if (text == "\t" || text == "\\t" || text == "tab") return '\t';
  if (text == "|" || text == "pipe") return '|';
  throw UsageError(option + ": '" + text + "' is not a delimiter (expected auto, ',', ';', tab or '|')");
}

MissingCells parse_missing(const std::string& text, const std::string& option) {
  if (text == "error") return {MissingPolicy::error, 0};
  if (text == "drop") return {MissingPolicy::drop, 0};
  if (text == "mean") return {MissingPolicy::mean, 0};
  const Field number = parse_field(text);
  if (number.kind != Field::number)
    throw UsageError(option + ": '" + text + "' is not error, drop, mean or a number a float32 holds (the fill of "
                     "numeric columns)");
  return {MissingPolicy::value, number.value};
}

}  // namespace sinapsis
