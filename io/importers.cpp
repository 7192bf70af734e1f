#include "io/importers.hpp"

#include <zlib.h>  // gzopen/gzread: reads gzipped and plain files alike

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "core/error.hpp"

namespace sinapsis {
namespace {

// The whole file, decompressed if it is gzip.
std::vector<unsigned char> read_maybe_gzipped(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) throw DataError(path + ": cannot be opened (missing?)");
  std::vector<unsigned char> bytes;
  unsigned char buffer[1 << 16];
  int got = 0;
  while ((got = gzread(file, buffer, sizeof buffer)) > 0) bytes.insert(bytes.end(), buffer, buffer + got);
  int error = 0;
  const char* message = gzerror(file, &error);
  const std::string detail = error != Z_OK && error != Z_STREAM_END ? message : "";
  gzclose(file);
  if (got < 0 || !detail.empty()) throw DataError(path + ": read failed (" + detail + "; truncated gzip?)");
  return bytes;
}

struct Idx {
  std::vector<std::size_t> dims;
  std::vector<unsigned char> bytes;  // the raw file
  std::size_t data_offset = 0;
};

Idx read_idx(const std::string& path, std::size_t expected_dims, const std::string& what) {
  Idx idx;
  idx.bytes = read_maybe_gzipped(path);
  const auto& b = idx.bytes;
  if (b.size() < 4 || b[0] != 0 || b[1] != 0 || b[2] != 0x08 || b[3] != expected_dims) {
    char magic[16] = "?";
    if (b.size() >= 4) std::snprintf(magic, sizeof magic, "0x%02X%02X%02X%02X", b[0], b[1], b[2], b[3]);
    char wanted[16];
    std::snprintf(wanted, sizeof wanted, "0x000008%02zX", expected_dims);
    throw DataError(path + ": bad IDX magic number " + magic + " (expected " + wanted + " for " + what + ")");
  }
  idx.data_offset = 4 + 4 * expected_dims;
  if (b.size() < idx.data_offset) throw DataError(path + ": IDX header is truncated");
  std::size_t count = 1;
  for (std::size_t i = 0; i < expected_dims; ++i) {
    const unsigned char* p = b.data() + 4 + 4 * i;
    idx.dims.push_back((std::size_t(p[0]) << 24) | (std::size_t(p[1]) << 16) | (std::size_t(p[2]) << 8) | p[3]);
    count *= idx.dims.back();
  }
  if (b.size() - idx.data_offset != count)
    throw DataError(path + ": IDX header promises " + std::to_string(count) + " values, file holds " +
                    std::to_string(b.size() - idx.data_offset));
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

std::optional<double> parse_number(const std::string& text) {
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty() || !std::isfinite(value)) return std::nullopt;
  return value;
}

}  // namespace

Dataset import_idx(const std::string& images_path, const std::string& labels_path) {
  const Idx images = read_idx(images_path, 3, "images [N, rows, cols]");
  const Idx labels = read_idx(labels_path, 1, "labels [N]");
  const std::size_t n = images.dims[0];
  if (labels.dims[0] != n)
    throw DataError(images_path + " has " + std::to_string(n) + " images but " + labels_path + " has " +
                    std::to_string(labels.dims[0]) + " labels");
  if (n == 0) throw DataError(images_path + ": holds no images");
  Dataset data;
  data.task = Task::classification;
  const std::size_t d = images.dims[1] * images.dims[2];
  data.features = Matrix<float>(n, d);
  for (std::size_t i = 0; i < n * d; ++i) data.features.values[i] = float(images.bytes[images.data_offset + i]);
  data.labels.resize(n);
  for (std::size_t i = 0; i < n; ++i) data.labels[i] = labels.bytes[labels.data_offset + i];
  data.classes = std::max<std::size_t>(2, std::size_t(*std::max_element(data.labels.begin(), data.labels.end())) + 1);
  for (std::size_t r = 0; r < images.dims[1]; ++r)
    for (std::size_t c = 0; c < images.dims[2]; ++c)
      data.feature_names.push_back("pixel_" + std::to_string(r) + "_" + std::to_string(c));
  return data;
}

Dataset import_csv(const std::string& path, const std::string& label_column,
                   const std::vector<std::string>& ignored) {
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
  for (std::size_t number = 2; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank line
    auto fields = split_csv_line(line);
    if (fields.size() != header.size())
      throw DataError(path + ": line " + std::to_string(number) + " has " + std::to_string(fields.size()) +
                      " fields, the header has " + std::to_string(header.size()));
    rows.push_back(std::move(fields));
    line_of.push_back(number);
  }
  if (rows.empty()) throw DataError(path + ": no data rows");

  // Column kinds: numeric when more than half of the values parse.
  std::vector<bool> numeric(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    if (skip[c]) continue;
    std::size_t parsed = 0;
    for (const auto& r : rows) parsed += parse_number(r[c]).has_value();
    numeric[c] = 2 * parsed > rows.size();
    if (numeric[c])
      for (std::size_t r = 0; r < rows.size(); ++r)
        if (!parse_number(rows[r][c]))
          throw DataError(path + ": line " + std::to_string(line_of[r]) + ", column '" + header[c] + "': '" +
                          rows[r][c] + "' is not a number (the column is numeric)");
  }

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
  data.features = Matrix<float>(n, d);
  for (std::size_t r = 0; r < n; ++r) {
    std::size_t col = 0;
    for (std::size_t c = 0; c < header.size(); ++c) {
      if (c == label || skip[c]) continue;
      if (numeric[c]) {
        data.features(r, col++) = float(*parse_number(rows[r][c]));
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
    data.classes = std::max<std::size_t>(2, data.class_names.size());
    return data;
  }
  std::vector<double> values;
  for (const auto& r : rows) values.push_back(*parse_number(r[label]));
  const bool class_ids =
      std::all_of(values.begin(), values.end(), [](double v) { return v >= 0 && v == std::floor(v) && v < 1e6; });
  if (class_ids) {
    data.task = Task::classification;
    for (double v : values) data.labels.push_back(std::int64_t(v));
    data.classes = std::max<std::size_t>(2, std::size_t(*std::max_element(values.begin(), values.end())) + 1);
  } else {
    data.task = Task::regression;
    data.targets = Matrix<float>(n, 1);
    for (std::size_t r = 0; r < n; ++r) data.targets(r, 0) = float(values[r]);
  }
  return data;
}

}  // namespace sinapsis
