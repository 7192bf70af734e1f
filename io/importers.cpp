#include "io/importers.hpp"

#include <zlib.h>  // gzopen/gzread: reads gzipped and plain files alike

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>  // strtod
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <new>  // std::bad_alloc
#include <optional>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/memory.hpp"

namespace sinapsis {
namespace {

// A gzipped or plain file read as a stream (gzread reads both).
class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    if (file_ == nullptr) throw DataError(path + ": cannot be opened (missing?)");
  }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;
  ~GzFile() { gzclose(file_); }

  // Up to `size` bytes into `out`; fewer only at the end of the file.
  std::size_t read(unsigned char* out, std::size_t size) {
    std::size_t done = 0;
    while (done < size) {
      const unsigned chunk = unsigned(std::min<std::size_t>(size - done, 1u << 30));
      const int got = gzread(file_, out + done, chunk);
      // A gzip stream cut short reads as an end, with the error beside it.
      int error = Z_OK;
      const char* message = gzerror(file_, &error);
      if (got < 0 || (error != Z_OK && error != Z_STREAM_END))
        throw DataError(path_ + ": read failed (" + message + "; truncated gzip?)");
      if (got == 0) break;
      done += std::size_t(got);
    }
    return done;
  }
  // How many bytes are left, read and dropped.
  std::size_t skip_rest() {
    std::size_t rest = 0;
    unsigned char buffer[1 << 16];
    for (std::size_t got; (got = read(buffer, sizeof buffer)) > 0;) rest += got;
    return rest;
  }

 private:
  std::string path_;
  gzFile file_;
};

struct Idx {
  std::vector<std::size_t> dims;
  std::vector<unsigned char> values;  // the data after the header
};

// `bytes_per_value`: what each value will take in memory once imported.
Idx read_idx(const std::string& path, std::size_t expected_dims, const std::string& what,
             std::size_t bytes_per_value) {
  GzFile file(path);
  unsigned char header[4 + 4 * 3] = {};
  const std::size_t header_size = 4 + 4 * expected_dims;
  const std::size_t got = file.read(header, header_size);
  const unsigned char* b = header;
  if (got < 4 || b[0] != 0 || b[1] != 0 || b[2] != 0x08 || b[3] != expected_dims) {
    char magic[16] = "?";
    if (got >= 4) std::snprintf(magic, sizeof magic, "0x%02X%02X%02X%02X", b[0], b[1], b[2], b[3]);
    char wanted[16];
    std::snprintf(wanted, sizeof wanted, "0x000008%02zX", expected_dims);
    throw DataError(path + ": bad IDX magic number " + magic + " (expected " + wanted + " for " + what + ")");
  }
  if (got < header_size) throw DataError(path + ": IDX header is truncated");
  Idx idx;
  std::string shape;
  for (std::size_t i = 0; i < expected_dims; ++i) {
    const unsigned char* p = b + 4 + 4 * i;
    idx.dims.push_back((std::size_t(p[0]) << 24) | (std::size_t(p[1]) << 16) | (std::size_t(p[2]) << 8) | p[3]);
    shape += (i ? " x " : "") + std::to_string(idx.dims.back());
  }
  // Three 32-bit sizes can multiply past 64 bits.
  std::optional<std::uint64_t> values = 1;
  for (const std::size_t d : idx.dims) values = values ? checked_product({*values, d}) : std::nullopt;
  const auto bytes = values ? checked_product({*values, bytes_per_value}) : std::nullopt;
  if (!fits_in_memory(bytes))
    throw DataError(path + ": IDX header claims " + shape + " values, which " + memory_shortfall_text(bytes));
  const std::size_t count = *values;
  idx.values.resize(count);
  const std::size_t held = file.read(idx.values.data(), count);
  const std::size_t extra = held == count ? file.skip_rest() : 0;
  if (held != count || extra != 0)
    throw DataError(path + ": IDX header promises " + std::to_string(count) + " values (" + shape +
                    "), file holds " + std::to_string(held + extra));
  return idx;
}

std::vector<std::string> split_csv_line(const std::string& line) {
  // RFC 4180 quoting: "a, b" is one field, "" inside quotes is a quote.
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') fields.back() += '"', ++i;
      else if (c == '"') quoted = false;
      else fields.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  for (auto& f : fields) {  // trim spaces around unquoted values
    const auto first = f.find_first_not_of(" \t"), last = f.find_last_not_of(" \t");
    f = first == std::string::npos ? "" : f.substr(first, last - first + 1);
  }
  return fields;
}

// What a CSV field holds: no number, a number sinapsis takes (finite, in
// float32's range), or one it cannot (nan, inf, 1e400, 1e39).
struct Field {
  enum Kind { text, number, non_finite } kind = text;
  double value = 0;
};

Field parse_field(const std::string& text) {
  if (text.empty()) return {};
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ptr != end) return {};
  if (ec == std::errc::result_out_of_range) {
    // Out of double's range: an overflow is infinite, an underflow ~0.
    value = std::strtod(text.c_str(), nullptr);
    return {std::abs(value) > 1 ? Field::non_finite : Field::number, value};
  }
  if (ec != std::errc()) return {};
  if (!std::isfinite(value) || std::abs(value) > double(std::numeric_limits<float>::max()))
    return {Field::non_finite, value};
  return {Field::number, value};
}

}  // namespace

Dataset import_idx(const std::string& images_path, const std::string& labels_path, std::size_t declared_classes) {
  // Each pixel: its byte, then a float feature.
  const Idx images = read_idx(images_path, 3, "images [N, rows, cols]", 1 + sizeof(float));
  const Idx labels = read_idx(labels_path, 1, "labels [N]", 1 + sizeof(std::int64_t));
  const std::size_t n = images.dims[0];
  if (labels.dims[0] != n)
    throw DataError(images_path + " has " + std::to_string(n) + " images but " + labels_path + " has " +
                    std::to_string(labels.dims[0]) + " labels");
  if (n == 0) throw DataError(images_path + ": holds no images");
  Dataset data;
  data.task = Task::classification;
  const ClassIdRule rule(0, "", declared_classes, n, labels_path, "with --class-names");
  data.labels.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    data.labels[i] = labels.values[i];
    rule.check(data.labels[i], i, labels_path + ": label");
  }
  data.classes = rule.classes(*std::max_element(data.labels.begin(), data.labels.end()));
  const std::size_t d = images.dims[1] * images.dims[2];
  data.features = Matrix<float>(n, d);
  for (std::size_t i = 0; i < n * d; ++i) data.features.values[i] = float(images.values[i]);
  for (std::size_t r = 0; r < images.dims[1]; ++r)
    for (std::size_t c = 0; c < images.dims[2]; ++c)
      data.feature_names.push_back("pixel_" + std::to_string(r) + "_" + std::to_string(c));
  return data;
}


namespace {

// A CSV file as text: its header and rows, each row's line in the file.
struct Table {
  std::string path;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::size_t> line_of;  // file line of each row (blank lines are skipped)

  // The column called `name`, or npos.
  std::size_t column(const std::string& name) const {
    const auto at = std::find(header.begin(), header.end(), name);
    return at == header.end() ? std::string::npos : std::size_t(at - header.begin());
  }
  std::string where(std::size_t r, std::size_t c) const {
    return path + ": line " + std::to_string(line_of[r]) + ", column '" + header[c] + "'";
  }
};

// `check_header` sees the header before any row is read (a missing label
// column is named at once, not after a table of errors).
Table read_table(const std::string& path, const std::function<void(const Table&)>& check_header) {
  Table t;
  t.path = path;
  std::ifstream in(path);
  if (!in) throw DataError(path + ": cannot be opened (missing?)");
  std::string line;
  if (!std::getline(in, line)) throw DataError(path + ": empty file (no header row)");
  if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 byte order mark
  t.header = split_csv_line(line);
  for (std::size_t c = 0; c < t.header.size(); ++c)
    for (std::size_t e = 0; e < c; ++e)
      if (t.header[e] == t.header[c]) throw DataError(path + ": the header names column '" + t.header[c] + "' twice");
  check_header(t);
  try {  // the table is held as text first: under a ulimit -v a big file may not fit
    for (std::size_t number = 2; std::getline(in, line); ++number) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank line
      auto fields = split_csv_line(line);
      if (fields.size() != t.header.size())
        throw DataError(path + ": line " + std::to_string(number) + " has " + std::to_string(fields.size()) +
                        " fields, the header has " + std::to_string(t.header.size()));
      t.rows.push_back(std::move(fields));
      t.line_of.push_back(number);
    }
  } catch (const std::bad_alloc&) {
    throw DataError(path + ": does not fit in memory as text (after " + std::to_string(t.rows.size()) + " rows; " +
                    "memory limit " + bytes_text(memory_limit_bytes()) + ")");
  }
  if (t.rows.empty()) throw DataError(path + ": no data rows");
  return t;
}

// Column c's values as numbers; DataError naming the line for a value that
// is not a finite number a float32 holds.
std::vector<Field> numbers_of(const Table& t, std::size_t c) {
  std::vector<Field> values;
  values.reserve(t.rows.size());
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    values.push_back(parse_field(t.rows[r][c]));
    const std::string at = t.where(r, c) + ": '" + t.rows[r][c];
    if (values.back().kind == Field::text) throw DataError(at + "' is not a number (the column is numeric)");
    if (values.back().kind == Field::non_finite)
      throw DataError(at + "' is not a finite number a float32 holds (the column is numeric; sinapsis has no "
                      "missing values)");
  }
  return values;
}

// Numeric when more than half of the values look like numbers.
bool looks_numeric(const Table& t, std::size_t c) {
  std::size_t numbers = 0;
  for (const auto& r : t.rows) numbers += parse_field(r[c]).kind != Field::text;
  return 2 * numbers > t.rows.size();
}

std::vector<std::string> sorted_levels(const Table& t, std::size_t c) {
  std::set<std::string> levels;
  for (const auto& r : t.rows) levels.insert(r[c]);
  return {levels.begin(), levels.end()};
}

// The schema of a table imported for the first time: numeric columns,
// categorical ones with their levels in sorted order, the label's classes.
// The columns named by options exist, and the label is none of the others.
void check_named_columns(const Table& t, const CsvOptions& o) {
  if (!o.label.empty() && t.column(o.label) == std::string::npos) {
    std::string names;
    for (const auto& h : t.header) names += (names.empty() ? "" : ", ") + h;
    throw DataError(t.path + ": no column '" + o.label + "' for --label (columns: " + names + ")");
  }
  const auto check = [&](const std::string& name, const char* option, const char* what) {
    if (t.column(name) == std::string::npos) throw DataError(t.path + ": no column '" + name + "' " + what);
    if (name == o.label) throw DataError(t.path + ": column '" + name + "' is the label; it cannot be " + option);
  };
  for (const auto& name : o.ignored) check(name, "ignored", "to ignore");
  if (!o.id.empty()) check(o.id, "the id", "for --id");
}

InputSchema infer_schema(const Table& t, const CsvOptions& o) {
  const std::string& path = t.path;
  InputSchema schema;
  schema.label = o.label;
  for (const auto& c : t.header) schema.columns.push_back({c, SchemaColumn::Kind::numeric, {}});
  for (const auto& name : o.ignored) schema.columns[t.column(name)].kind = SchemaColumn::Kind::ignored;
  if (!o.id.empty()) schema.columns[t.column(o.id)].kind = SchemaColumn::Kind::id;
  for (std::size_t c = 0; c < t.header.size(); ++c) {
    SchemaColumn& column = schema.columns[c];
    if (column.kind != SchemaColumn::Kind::numeric) continue;
    if (t.header[c] == o.label) {
      column.kind = SchemaColumn::Kind::label;
      continue;
    }
    if (!looks_numeric(t, c)) {
      column.kind = SchemaColumn::Kind::categorical;
      column.levels = sorted_levels(t, c);
    }
  }
  if (!o.label.empty()) {
    const std::size_t c = t.column(o.label);
    const bool numeric = looks_numeric(t, c);
    if (!numeric && o.task == LabelTask::regression)
      throw DataError(path + ": --task regression, but the label column '" + o.label + "' is not numeric");
    if (!numeric) schema.classes = sorted_levels(t, c);
  }
  if (schema.feature_count() == 0)
    throw DataError(path + ": no feature columns besides the label '" + o.label + "'");
  return schema;
}

// The label column as class ids (numeric: whole numbers >= 0) or targets.
void set_labels(Dataset& data, const std::vector<Field>& values, LabelTask task, std::size_t declared_classes,
                const std::string& path, const std::string& column, const std::vector<std::size_t>& line_of) {
  const bool whole = std::all_of(values.begin(), values.end(),
                                 [](const Field& f) { return f.value >= 0 && f.value == std::floor(f.value); });
  if (task == LabelTask::regression || (task == LabelTask::automatic && !whole)) {
    data.task = Task::regression;
    data.targets = Matrix<float>(values.size(), 1);
    for (std::size_t r = 0; r < values.size(); ++r) data.targets(r, 0) = float(values[r].value);
    return;
  }
  data.task = Task::classification;
  const ClassIdRule rule(0, "", declared_classes, values.size(), path, "with --class-names");
  const std::string hint = task == LabelTask::automatic ? "; pass --task regression if the label is a quantity" : "";
  std::int64_t top = 0;
  for (std::size_t r = 0; r < values.size(); ++r) {
    const double v = values[r].value;
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", v);
    const std::string at = path + ": line " + std::to_string(line_of[r]) + ", column '" + column + "'";
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
void set_named_labels(Dataset& data, const Table& t, std::size_t c, const InputSchema& schema,
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

// The table's columns encoded by `schema`: its features in the schema's
// order (columns found by name), the label if the table has it, the ids.
CsvImport encode_table(const Table& t, const InputSchema& schema, const CsvOptions& o, const std::string& source) {
  CsvImport result;
  Dataset& data = result.data;
  data.feature_names = schema.feature_names();
  const std::size_t n = t.rows.size(), d = data.feature_names.size();
  if (const auto bytes = checked_product({n, d, sizeof(float)}); !fits_in_memory(bytes))
    throw DataError(t.path + ": " + std::to_string(n) + " rows x " + std::to_string(d) +
                    " features (categorical columns one-hot) " + memory_shortfall_text(bytes));
  data.features = Matrix<float>(n, d);
  std::size_t col = 0;
  for (const SchemaColumn& s : schema.columns) {
    if (!s.is_feature()) continue;
    const std::size_t c = t.column(s.name);
    if (c == std::string::npos)
      throw DataError(t.path + ": no column '" + s.name + "', an input of " + source);
    if (s.kind == SchemaColumn::Kind::numeric) {
      const std::vector<Field> values = numbers_of(t, c);
      for (std::size_t r = 0; r < n; ++r) data.features(r, col) = float(values[r].value);
      ++col;
      continue;
    }
    for (std::size_t r = 0; r < n; ++r) {
      const auto at = std::find(s.levels.begin(), s.levels.end(), t.rows[r][c]);
      if (at != s.levels.end()) {
        data.features(r, col + std::size_t(at - s.levels.begin())) = 1.0f;
      } else if (o.unknown_level == UnknownLevel::ignore) {
        ++result.unknown_levels;  // all zeros
      } else {
        throw DataError(t.where(r, c) + ": level '" + t.rows[r][c] + "' is not one of the " +
                        std::to_string(s.levels.size()) + " levels of " + source + " (--unknown-level ignore " +
                        "encodes it as all zeros)");
      }
    }
    col += s.levels.size();
  }
  const std::string id = !o.id.empty() ? o.id : [&] {
    for (const auto& s : schema.columns)
      if (s.kind == SchemaColumn::Kind::id && t.column(s.name) != std::string::npos) return s.name;
    return std::string();
  }();
  if (!id.empty()) {
    const std::size_t c = t.column(id);
    if (c == std::string::npos) throw DataError(t.path + ": no column '" + id + "' for --id");
    for (const auto& r : t.rows) data.ids.push_back(r[c]);
  }
  InputSchema stored = schema;
  const std::size_t label = schema.label.empty() ? std::string::npos : t.column(schema.label);
  if (label == std::string::npos) {  // data to predict on
    stored.label.clear();
    stored.classes.clear();
    data.labels_present = false;
  } else if (!schema.classes.empty()) {
    set_named_labels(data, t, label, schema, o.declared_classes, source);
  } else {
    const LabelTask task = o.schema == nullptr ? o.task
                           : schema.task == Task::regression ? LabelTask::regression
                                                             : LabelTask::classification;
    set_labels(data, numbers_of(t, label), task, o.declared_classes, t.path, schema.label, t.line_of);
    stored.task = data.task;
  }
  if (!id.empty())
    for (auto& s : stored.columns)
      if (s.name == id) s.kind = SchemaColumn::Kind::id;
  data.schema = stored.json();
  return result;
}

}  // namespace

CsvImport import_csv(const std::string& path, const CsvOptions& options) {
  const Table table = read_table(path, [&](const Table& t) {
    if (options.schema == nullptr) check_named_columns(t, options);
  });
  if (options.schema == nullptr) return encode_table(table, infer_schema(table, options), options, path);
  return encode_table(table, *options.schema, options, options.schema_source);
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

}  // namespace sinapsis
