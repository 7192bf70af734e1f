// The IDX importer (the CSV importer is io/csv_import.cpp).
#include "io/importers.hpp"

#include <zlib.h>  // gzopen/gzread: reads gzipped and plain files alike

#include <algorithm>
#include <cstdint>
#include <cstdio>  // snprintf
#include <optional>

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
  data.feature_storage = FeatureStorage::uint8;  // written back as the bytes they were
  for (std::size_t r = 0; r < images.dims[1]; ++r)
    for (std::size_t c = 0; c < images.dims[2]; ++c)
      data.feature_names.push_back("pixel_" + std::to_string(r) + "_" + std::to_string(c));
  return data;
}

}  // namespace sinapsis
