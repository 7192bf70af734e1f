#include "io/importers.hpp"

#include <zlib.h>  // gzopen/gzread: reads gzipped and plain files alike

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>  // strtod
#include <fstream>
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

}  // namespace

Dataset import_csv(const std::string& path, const std::string& label_column, const std::vector<std::string>& ignored,
                   LabelTask task, std::size_t declared_classes) {
  std::ifstream in(path);
  if (!in) throw DataError(path + ": cannot be opened (missing?)");
  std::string line;
  if (!std::getline(in, line)) throw DataError(path + ": empty file (no header row)");
  if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 byte order mark
  const std::vector<std::string> header = split_csv_line(line);
  const auto label_at = std::find(header.begin(), header.end(), label_column);
  if (label_at == header.end()) {
    std::string names;
    for (const auto& h : header) names += (names.empty() ? "" : ", ") + h;
    throw DataError(path + ": no column '" + label_column + "' for --label (columns: " + names + ")");
  }
  const std::size_t label = std::size_t(label_at - header.begin());
  std::vector<bool> skip(header.size(), false);
  for (const auto& name : ignored) {
    const auto at = std::find(header.begin(), header.end(), name);
    if (at == header.end()) throw DataError(path + ": no column '" + name + "' to ignore");
    if (at == label_at) throw DataError(path + ": column '" + name + "' is the label; it cannot be ignored");
    skip[std::size_t(at - header.begin())] = true;
  }
  std::vector<std::vector<std::string>> rows;
  std::vector<std::size_t> line_of;  // file line of each row (blank lines are skipped)
  try {  // the table is held as text first: under a ulimit -v a big file may not fit
    for (std::size_t number = 2; std::getline(in, line); ++number) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank line
      auto fields = split_csv_line(line);
      if (fields.size() != header.size())
        throw DataError(path + ": line " + std::to_string(number) + " has " + std::to_string(fields.size()) +
                        " fields, the header has " + std::to_string(header.size()));
      rows.push_back(std::move(fields));
      line_of.push_back(number);
    }
  } catch (const std::bad_alloc&) {
    throw DataError(path + ": does not fit in memory as text (after " + std::to_string(rows.size()) + " rows; " +
                    "memory limit " + bytes_text(memory_limit_bytes()) + ")");
  }
  if (rows.empty()) throw DataError(path + ": no data rows");

  // Column kinds: numeric when more than half of the values look like
  // numbers; then every value must be one sinapsis takes.
  std::vector<bool> numeric(header.size());
  std::vector<std::vector<Field>> fields(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    if (skip[c]) continue;
    std::size_t numbers = 0;
    for (const auto& r : rows) {
      fields[c].push_back(parse_field(r[c]));
      numbers += fields[c].back().kind != Field::text;
    }
    numeric[c] = 2 * numbers > rows.size();
    if (!numeric[c]) {
      fields[c].clear();
      continue;
    }
    for (std::size_t r = 0; r < rows.size(); ++r) {
      const std::string at =
          path + ": line " + std::to_string(line_of[r]) + ", column '" + header[c] + "': '" + rows[r][c];
      if (fields[c][r].kind == Field::text) throw DataError(at + "' is not a number (the column is numeric)");
      if (fields[c][r].kind == Field::non_finite)
        throw DataError(at + "' is not a finite number a float32 holds (the column is numeric; sinapsis has no "
                        "missing values)");
    }
  }
  if (!numeric[label] && task == LabelTask::regression)
    throw DataError(path + ": --task regression, but the label column '" + label_column + "' is not numeric");

  Dataset data;
  std::vector<std::set<std::string>> categories(header.size());
  for (std::size_t c = 0; c < header.size(); ++c)
    if (!numeric[c] && !skip[c])
      for (const auto& r : rows) categories[c].insert(r[c]);
  for (std::size_t c = 0; c < header.size(); ++c) {
    if (c == label || skip[c]) continue;
    if (numeric[c]) data.feature_names.push_back(header[c]);
    else
      for (const auto& value : categories[c]) data.feature_names.push_back(header[c] + "=" + value);
  }
  const std::size_t n = rows.size(), d = data.feature_names.size();
  if (d == 0) throw DataError(path + ": no feature columns besides the label '" + label_column + "'");
  if (const auto bytes = checked_product({n, d, sizeof(float)}); !fits_in_memory(bytes))
    throw DataError(path + ": " + std::to_string(n) + " rows x " + std::to_string(d) +
                    " features (categorical columns one-hot) " + memory_shortfall_text(bytes));
  data.features = Matrix<float>(n, d);
  for (std::size_t r = 0; r < n; ++r) {
    std::size_t col = 0;
    for (std::size_t c = 0; c < header.size(); ++c) {
      if (c == label || skip[c]) continue;
      if (numeric[c]) {
        data.features(r, col++) = float(fields[c][r].value);
        continue;
      }
      for (const auto& value : categories[c]) data.features(r, col++) = rows[r][c] == value ? 1.0f : 0.0f;
    }
  }
  if (!numeric[label]) {
    data.task = Task::classification;
    data.class_names.assign(categories[label].begin(), categories[label].end());
    for (const auto& r : rows)
      data.labels.push_back(std::distance(categories[label].begin(), categories[label].find(r[label])));
    data.classes = std::max<std::size_t>({2, data.class_names.size(), declared_classes});
    return data;
  }
  set_labels(data, fields[label], task, declared_classes, path, label_column, line_of);
  return data;
}

}  // namespace sinapsis
