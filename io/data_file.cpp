#include "io/data_file.hpp"

#include <glob.h>      // glob
#include <sys/stat.h>  // stat

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <numeric>
#include <optional>
#include <regex>
#include <span>

#include "core/error.hpp"
#include "core/memory.hpp"
#include "io/hdf5.hpp"
#include "io/schema.hpp"

namespace sinapsis {
namespace {

namespace fs = std::filesystem;

std::string dims_text(const std::vector<hsize_t>& dims) {
  std::string text = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
  return text + "]";
}

// NAME-00003-of-00008.h5 -> {NAME, 3, 8}.
struct ShardName {
  std::string name;
  std::size_t index = 0;
  std::size_t count = 0;
};
std::optional<ShardName> parse_shard_name(const std::string& path) {
  static const std::regex pattern(R"((.*)-(\d{5})-of-(\d{5})\.h5)");
  std::smatch m;
  const std::string file = fs::path(path).filename().string();
  if (!std::regex_match(file, m, pattern)) return std::nullopt;
  return ShardName{m[1].str(), std::stoul(m[2].str()), std::stoul(m[3].str())};
}

std::vector<std::string> expand(const std::string& spec) {
  std::vector<std::string> files;
  std::error_code ec;
  if (fs::is_directory(spec, ec)) {
    for (fs::directory_iterator it(spec, ec), end; !ec && it != end; it.increment(ec))
      if (it->path().extension() == ".h5") files.push_back(it->path().string());
    if (ec) throw DataError(spec + ": cannot list the directory: " + ec.message());
    if (files.empty()) throw DataError(spec + ": directory holds no .h5 files");
  } else if (spec.find_first_of("*?[") != std::string::npos) {
    glob_t matches{};
    if (::glob(spec.c_str(), 0, nullptr, &matches) == 0)
      for (std::size_t i = 0; i < matches.gl_pathc; ++i) files.emplace_back(matches.gl_pathv[i]);
    ::globfree(&matches);
    if (files.empty()) throw DataError(spec + ": no file matches");
  } else {
    files.push_back(spec);
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Orders a shard set and checks every shard 0..S-1 is there exactly once.
std::vector<std::string> order_shards(const std::string& spec, const std::vector<std::string>& files) {
  std::map<std::size_t, std::string> by_index;
  std::optional<ShardName> first;
  for (const auto& f : files) {
    const auto shard = parse_shard_name(f);
    if (!shard) throw DataError(spec + ": " + f + " is not named NAME-iiiii-of-nnnnn.h5 like the other shards");
    if (!first) first = shard;
    if (shard->name != first->name || shard->count != first->count)
      throw DataError(spec + ": shards of different sets: " + by_index.begin()->second + " and " + f);
    if (const auto [at, inserted] = by_index.emplace(shard->index, f); !inserted)
      throw DataError(spec + ": shard " + std::to_string(shard->index) + " appears twice: " + at->second + " and " + f);
  }
  for (std::size_t i = 0; i < first->count; ++i)
    if (!by_index.count(i))
      throw DataError(spec + ": shard " + std::to_string(i) + " of " + std::to_string(first->count) +
                      " is missing (" + shard_file_name(first->name, i, first->count) + ")");
  if (by_index.size() != first->count)
    throw DataError(spec + ": " + std::to_string(by_index.size()) + " shards for a set of " +
                    std::to_string(first->count));
  std::vector<std::string> ordered;
  for (auto& [index, f] : by_index) ordered.push_back(f);
  return ordered;
}

struct OpenSet {
  h5::Handle file, features, labels;
};

// Opens one file's datasets and checks their shapes; returns N.
std::size_t check_file(const std::string& path, OpenSet& set, std::size_t& dimension,
                       LabelsRequired labels_required) {
  set.file = h5::open_file(path);
  set.features = h5::open_dataset(set.file.get(), "features", path);
  const auto fdims = h5::checked_shape(set.features.get(), path + ": /features");
  if (fdims.size() != 2)
    throw DataError(path + ": /features must be 2-D [N, D], got shape " + dims_text(fdims));
  const std::size_t n = fdims[0];
  dimension = fdims[1];
  if (dimension == 0) throw DataError(path + ": /features has no columns, shape " + dims_text(fdims));
  if (h5::type_class(set.features.get()) != H5T_INTEGER && h5::type_class(set.features.get()) != H5T_FLOAT)
    throw DataError(path + ": /features must be numeric");
  if (labels_required == LabelsRequired::no && !h5::exists(set.file.get(), "labels")) return n;
  set.labels = h5::open_dataset(set.file.get(), "labels", path);
  const auto ldims = h5::checked_shape(set.labels.get(), path + ": /labels");
  if (ldims.empty() || ldims.size() > 2)
    throw DataError(path + ": /labels must be [N] or [N, K], got shape " + dims_text(ldims));
  if (ldims[0] != n)
    throw DataError(path + ": /features has " + std::to_string(n) + " rows but /labels has " +
                    std::to_string(ldims[0]));
  const H5T_class_t lclass = h5::type_class(set.labels.get());
  if (lclass != H5T_INTEGER && lclass != H5T_FLOAT)
    throw DataError(path + ": /labels must hold integer class ids or float targets");
  if (lclass == H5T_INTEGER && ldims.size() != 1)
    throw DataError(path + ": /labels: integer class ids must be 1-D [N], got shape " + dims_text(ldims));
  return n;
}

}  // namespace

struct OpenFiles::Impl {
  struct Entry {
    OpenSet set;
    std::size_t dimension = 0;
    LabelsRequired labels = LabelsRequired::yes;
    struct stat seen {};
  };
  std::map<std::string, Entry> files;

  // Between reads (entries handed out stay valid during one read_slices).
  void trim() {
    if (files.size() > 64) files.clear();
  }

  // The file at `path` opened and checked (check_file), kept from an
  // earlier call while its path still names the same, unchanged file.
  Entry& get(const std::string& path, LabelsRequired labels) {
    struct stat now {};
    const bool found = ::stat(path.c_str(), &now) == 0;
    if (const auto at = files.find(path); at != files.end()) {
      const struct stat& was = at->second.seen;
      if (found && at->second.labels == labels && was.st_dev == now.st_dev && was.st_ino == now.st_ino &&
          was.st_size == now.st_size && was.st_mtim.tv_sec == now.st_mtim.tv_sec &&
          was.st_mtim.tv_nsec == now.st_mtim.tv_nsec)
        return at->second;
      files.erase(at);
    }
    Entry entry;
    check_file(path, entry.set, entry.dimension, labels);  // throws, naming the file, if it is gone or bad
    entry.labels = labels;
    entry.seen = now;
    return files.insert_or_assign(path, std::move(entry)).first->second;
  }
};

OpenFiles::OpenFiles() : impl_(std::make_unique<Impl>()) {}
OpenFiles::~OpenFiles() = default;

namespace {

// A number as a user wrote it: 1099511627776, not 1.09951e+12 (a float
// label needs 9 digits, a double attribute 17).
std::string number_text(double value, int digits = 17) {
  char text[40];
  std::snprintf(text, sizeof text, "%.*g", digits, value);
  return text;
}

void check_finite(std::span<const float> values, std::size_t cols, std::size_t first_row,
                  const std::string& what) {
  const auto bad = std::find_if(values.begin(), values.end(), [](float v) { return !std::isfinite(v); });
  if (bad == values.end()) return;
  const std::size_t i = std::size_t(bad - values.begin());
  throw DataError(what + " has " + (std::isnan(*bad) ? "NaN" : "Inf") + " at row " +
                  std::to_string(first_row + i / cols) + ", column " + std::to_string(i % cols));
}

// The data set's description from the first file's attributes.
void read_description(const std::string& path, hid_t file, Dataset& data, std::string& task) {
  data.feature_names = h5::read_string_list_attribute(file, "feature_names", path);
  data.class_names = h5::read_string_list_attribute(file, "class_names", path);
  data.generator = h5::read_string_attribute(file, "generator", path).value_or("");
  data.schema = h5::read_string_attribute(file, "schema", path).value_or("");
  task = h5::read_string_attribute(file, "task", path).value_or("");
  if (!task.empty() && task != "classification" && task != "regression")
    throw DataError(path + ": attribute task is '" + task + "' (expected classification or regression)");
  if (const auto k = h5::read_number_attribute(file, "classes", path)) {
    if (!(*k >= 1 && *k <= double(kMaxClasses) && *k == std::floor(*k)))
      throw DataError(path + ": attribute classes is " + number_text(*k) + ", not a class count (a whole number in 1.." +
                      std::to_string(kMaxClasses) + ")");
    data.classes = std::size_t(*k);
  }
  // Fewer names than classes is a file that names some (one label value
  // in a CSV still makes two classes); more names than classes is not.
  if (data.classes > 0 && data.class_names.size() > data.classes)
    throw DataError(path + ": attribute classes is " + std::to_string(data.classes) + " but class_names has " +
                    std::to_string(data.class_names.size()) + " names");
  if (data.class_names.size() > kMaxClasses)
    throw DataError(path + ": class_names has " + std::to_string(data.class_names.size()) + " names, more than the " +
                    std::to_string(kMaxClasses) + " classes sinapsis takes");
}

// The storage type kept for /features: a small integer type as it is,
// anything else as float32 (read as float32 anyway).
FeatureStorage storage_of(hid_t features) {
  h5::Handle type(H5Dget_type(features), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_INTEGER) return FeatureStorage::float32;
  const bool is_signed = H5Tget_sign(type.get()) != H5T_SGN_NONE;
  switch (H5Tget_size(type.get())) {
    case 1: return is_signed ? FeatureStorage::int8 : FeatureStorage::uint8;
    case 2: return is_signed ? FeatureStorage::int16 : FeatureStorage::uint16;
    default: return FeatureStorage::float32;
  }
}

// The file type that stores `storage`, and its range.
struct StoredType {
  hid_t file_type;
  double low, high;
};
StoredType stored_type(FeatureStorage storage) {
  switch (storage) {
    case FeatureStorage::uint8: return {H5T_STD_U8LE, 0, 255};
    case FeatureStorage::int8: return {H5T_STD_I8LE, -128, 127};
    case FeatureStorage::uint16: return {H5T_STD_U16LE, 0, 65535};
    case FeatureStorage::int16: return {H5T_STD_I16LE, -32768, 32767};
    case FeatureStorage::float32: break;
  }
  return {H5T_IEEE_F32LE, 0, 0};
}

// `storage` if every value is a whole number it holds, else float32: what
// is written always reads back as it was.
FeatureStorage storage_for(FeatureStorage storage, std::span<const float> values) {
  if (storage == FeatureStorage::float32) return storage;
  const StoredType t = stored_type(storage);
  for (const float v : values)
    if (!(v >= t.low && v <= t.high && v == std::floor(v))) return FeatureStorage::float32;
  return storage;
}

}  // namespace

std::string shard_file_name(const std::string& name, std::size_t index, std::size_t count) {
  std::string digits_index = std::to_string(index), digits_count = std::to_string(count);
  digits_index.insert(0, digits_index.size() < 5 ? 5 - digits_index.size() : 0, '0');
  digits_count.insert(0, digits_count.size() < 5 ? 5 - digits_count.size() : 0, '0');
  return name + "-" + digits_index + "-of-" + digits_count + ".h5";
}

std::size_t DataSource::total_rows() const { return std::accumulate(rows.begin(), rows.end(), std::size_t{0}); }

DataSource open_data_source(const std::string& spec) {
  DataSource source;
  source.spec = spec;
  std::vector<std::string> files = expand(spec);
  // A directory or a glob names a shard set, checked whole; one file named
  // by its path is read alone, even a single shard.
  std::error_code ec;
  const bool one_file =
      files.size() == 1 && !fs::is_directory(spec, ec) && spec.find_first_of("*?[") == std::string::npos;
  if (!one_file) files = files.size() == 1 && !parse_shard_name(files.front()) ? files : order_shards(spec, files);
  for (const auto& f : files) {
    OpenSet set;
    std::size_t d = 0;
    const std::size_t n = check_file(f, set, d, LabelsRequired::no);
    if (!source.files.empty() && d != source.dimension)
      throw DataError(spec + ": shards disagree on D: " + source.files.front() + " has " +
                      std::to_string(source.dimension) + " features, " + f + " has " + std::to_string(d));
    if (const auto index = h5::read_number_attribute(set.file.get(), "shard_index", f);
        index && parse_shard_name(f) && std::size_t(*index) != parse_shard_name(f)->index)
      throw DataError(f + ": holds shard " + std::to_string(std::size_t(*index)) +
                      " but is named as shard " + std::to_string(parse_shard_name(f)->index) + " (a copy?)");
    source.dimension = d;
    source.files.push_back(f);
    source.rows.push_back(n);
  }
  return source;
}

std::vector<RowSlice> plan_part(const std::vector<std::size_t>& rows, std::size_t rank, std::size_t ranks) {
  std::vector<RowSlice> slices;
  if (rows.size() >= ranks && rows.size() > 1) {
    for (std::size_t f = rank; f < rows.size(); f += ranks)
      if (rows[f] > 0) slices.push_back({f, 0, rows[f]});
    return slices;
  }
  const std::size_t total = std::accumulate(rows.begin(), rows.end(), std::size_t{0});
  const std::size_t begin = total * rank / ranks, end = total * (rank + 1) / ranks;
  std::size_t offset = 0;
  for (std::size_t f = 0; f < rows.size(); offset += rows[f], ++f) {
    const std::size_t lo = std::max(begin, offset), hi = std::min(end, offset + rows[f]);
    if (lo < hi) slices.push_back({f, lo - offset, hi - offset});
  }
  return slices;
}

RowOrigin locate_part_row(const DataSource& source, std::size_t rank, std::size_t ranks, std::size_t index) {
  for (const auto& s : plan_part(source.rows, rank, ranks)) {
    if (index < s.end - s.begin) return {source.files.at(s.file), s.begin + index};
    index -= s.end - s.begin;
  }
  return {source.spec, index};  // past the part: not a row read_part gave
}

namespace {

// The class ids of rows [first, first + count) of `labels`, checked by `rule`.
// Integer ids are read as they are; float ones must be whole numbers.
std::vector<std::int64_t> read_class_ids(hid_t labels, std::size_t first, std::size_t count, const ClassIdRule& rule,
                                         const std::string& path) {
  const std::string where = path + ": /labels";
  std::vector<std::int64_t> ids;
  if (h5::type_class(labels) == H5T_INTEGER) {
    ids = h5::read_int64_rows(labels, first, count, where);
  } else {
    const auto values = h5::read_float_rows(labels, first, count, where);
    ids.reserve(count);
    for (std::size_t r = 0; r < count; ++r) {
      const float v = values[r];
      const std::string head = where + " row " + std::to_string(first + r) + " is " + number_text(v, 9);
      if (!(v >= 0) || v != std::floor(v))
        throw DataError(head + ", not a class id (a whole number >= 0) as classification needs");
      // Every id a rule allows (< 2^20) is exact in a float; the rule names the rest.
      if (v >= 0x1p62f)
        throw DataError(head + ": more than the " + std::to_string(kMaxClasses) + " classes sinapsis takes");
      ids.push_back(std::int64_t(v));
    }
  }
  for (std::size_t r = 0; r < count; ++r) rule.check(ids[r], first + r, where);
  return ids;
}

}  // namespace

Dataset read_part(const DataSource& source, std::size_t rank, std::size_t ranks, const ReadOptions& options,
                  ReadStats* stats) {
  return read_slices(source, plan_part(source.rows, rank, ranks), options, stats);
}

std::vector<RowSlice> slices_of(const DataSource& source, std::size_t begin, std::size_t end) {
  std::vector<RowSlice> slices;
  std::size_t offset = 0;
  for (std::size_t f = 0; f < source.rows.size() && offset < end; offset += source.rows[f], ++f) {
    const std::size_t lo = std::max(begin, offset), hi = std::min(end, offset + source.rows[f]);
    if (lo < hi) slices.push_back({f, lo - offset, hi - offset});
  }
  return slices;
}

Dataset read_slices(const DataSource& source, const std::vector<RowSlice>& slices, const ReadOptions& options,
                    ReadStats* stats) {
  if (source.total_rows() == 0) throw DataError(source.spec + ": the data set is empty (0 rows)");
  Dataset data;
  data.features.cols = source.dimension;
  std::string task;
  std::optional<H5T_class_t> label_class;
  std::optional<ClassIdRule> rule;  // once the description is read
  std::size_t label_cols = 0;
  bool class_ids = false;
  if (stats) stats->slices = slices;
  if (const Dataset* d = options.described) {  // read before: rows alone (the streamed reader's case)
    task = d->task == Task::classification ? "classification" : "regression";
    rule.emplace(options.classes, options.classes_from, d->classes, source.total_rows(), source.spec);
  }
  std::size_t part_rows = 0;
  for (const auto& s : slices) part_rows += s.end - s.begin;
  // One allocation for the part: first make sure one can hold it.
  if (const auto bytes = checked_product({part_rows, source.dimension, sizeof(float)}); !fits_in_memory(bytes))
    throw DataError(source.spec + ": /features " + std::to_string(part_rows) + " rows x " +
                    std::to_string(source.dimension) + " " + memory_shortfall_text(bytes));
  data.features.values.reserve(part_rows * source.dimension);
  // Each file opened once, when first needed, and its labels checked
  // against the others'; the first always, for the description.
  if (options.open_files) options.open_files->impl().trim();
  std::vector<std::optional<OpenSet>> owned(source.files.size());
  std::vector<const OpenSet*> opened(source.files.size(), nullptr);
  const auto open = [&](std::size_t i) -> const OpenSet& {
    if (opened.at(i)) return *opened[i];
    const std::string& path = source.files[i];
    std::size_t d = 0;
    if (options.open_files) {
      const OpenFiles::Impl::Entry& entry = options.open_files->impl().get(path, options.labels);
      opened[i] = &entry.set;
      d = entry.dimension;
    } else {
      check_file(path, owned[i].emplace(), d, options.labels);
      opened[i] = &*owned[i];
    }
    const OpenSet& set = *opened[i];
    if (d != source.dimension)  // replaced since the source was opened
      throw DataError(path + ": /features has " + std::to_string(d) + " columns but the data set had " +
                      std::to_string(source.dimension) + " when it was opened");
    if (i == 0 && options.described == nullptr) {
      read_description(path, set.file.get(), data, task);
      data.feature_storage = storage_of(set.features.get());
      rule.emplace(options.classes, options.classes_from, std::max(data.classes, data.class_names.size()),
                   source.total_rows(), source.spec);
    }
    if (set.labels.valid()) {
      const H5T_class_t cls = h5::type_class(set.labels.get());
      const auto ldims = h5::shape(set.labels.get());
      const std::size_t cols = ldims.size() == 2 ? ldims[1] : 1;
      if (label_class && (*label_class != cls || cols != label_cols))
        throw DataError(path + ": /labels differs in type or shape from " + source.files.front());
      label_class = cls;
      label_cols = cols;
      class_ids = options.class_ids || task == "classification" || (cls == H5T_INTEGER && task != "regression");
      if (class_ids && label_cols != 1)
        throw DataError(path + ": /labels has " + std::to_string(label_cols) +
                        " columns; class ids are one per sample ([N] or [N, 1])");
    }
    return set;
  };
  if (options.described == nullptr) open(0);
  for (const auto& s : slices) {  // in the order given
    const std::string& path = source.files.at(s.file);
    const OpenSet& set = open(s.file);
    const std::size_t count = s.end - s.begin, d = source.dimension;
    // Straight into the part's matrix: no temporary copy of the rows.
    const std::size_t offset = data.features.values.size();
    data.features.values.resize(offset + count * d);
    h5::read_float_rows_into(set.features.get(), s.begin, count, data.features.values.data() + offset,
                             path + ": /features");
    check_finite(std::span<const float>(data.features.values).subspan(offset), d, s.begin, path + ": /features");
    data.features.rows += count;
    if (stats) stats->rows_read += count;
    if (!set.labels.valid()) continue;
    if (class_ids) {
      const auto ids = read_class_ids(set.labels.get(), s.begin, count, *rule, path);
      data.labels.insert(data.labels.end(), ids.begin(), ids.end());
    } else {
      auto targets = h5::read_float_rows(set.labels.get(), s.begin, count, path + ": /labels");
      check_finite(targets, label_cols, s.begin, path + ": /labels");
      data.targets.values.insert(data.targets.values.end(), targets.begin(), targets.end());
    }
  }
  if (!data.schema.empty()) {  // a schema that does not describe these features is not this data's
    const InputSchema schema = InputSchema::from_json(data.schema, source.files.front() + ": attribute schema");
    if (schema.feature_count() != source.dimension)
      throw DataError(source.files.front() + ": attribute schema describes " + std::to_string(schema.feature_count()) +
                      " features but /features has " + std::to_string(source.dimension));
  }
  if (!label_class) {
    data.labels_present = false;
    return data;
  }
  if (class_ids) {
    data.task = Task::classification;
    data.classes = rule->classes(data.labels.empty() ? 0 : *std::max_element(data.labels.begin(), data.labels.end()));
  } else {
    data.task = Task::regression;
    data.targets.rows = data.features.rows;
    data.targets.cols = label_cols;
  }
  return data;
}

Dataset read_data_file(const std::string& spec, const ReadOptions& options) {
  const DataSource source = open_data_source(spec);
  Dataset data = read_part(source, 0, 1, options);
  for (const auto& path : source.files) {  // the row ids, if the files hold them
    const h5::Handle file = h5::open_file(path);
    const auto ids = h5::read_string_dataset(file.get(), "ids", path);
    data.ids.insert(data.ids.end(), ids.begin(), ids.end());
  }
  if (!data.ids.empty() && data.ids.size() != data.size())
    throw DataError(spec + ": /ids holds " + std::to_string(data.ids.size()) + " ids for " +
                    std::to_string(data.size()) + " rows");
  return data;
}

void write_data_file(const std::string& path, const Dataset& data, const WriteOptions& options) {
  const std::size_t n = data.size(), d = data.dimension();
  h5::NewFile file(path, (n * d + data.labels.size() * 2 + data.targets.values.size()) * sizeof(float));
  h5::Handle plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (options.compress && n > 0) {
    const hsize_t rows = options.chunk_rows > 0 ? options.chunk_rows : (1 << 18) / std::max<std::size_t>(d, 1);
    const hsize_t chunk[2] = {std::clamp<hsize_t>(rows, 1, n), d};
    H5Pset_chunk(plist.get(), 2, chunk);
    H5Pset_shuffle(plist.get());
    H5Pset_deflate(plist.get(), 4);
  }
  const hsize_t fdims[2] = {n, d};
  h5::Handle space(H5Screate_simple(2, fdims, nullptr), H5Sclose);
  // HDF5 converts the floats to the stored type; storage_for made sure each is exact in it.
  const FeatureStorage storage = storage_for(data.feature_storage, data.features.values);
  h5::Handle features(H5Dcreate2(file.get(), "features", stored_type(storage).file_type, space.get(), H5P_DEFAULT,
                                 plist.get(), H5P_DEFAULT),
                      H5Dclose);
  if (!features.valid() || (n > 0 && H5Dwrite(features.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                             data.features.values.data()) < 0))
    throw DataError(path + ": cannot write /features");
  features.reset();
  if (!data.labels_present) {
    // data to predict on: /features alone
  } else if (data.task == Task::classification) {
    h5::write_int64(file.get(), "labels", {n}, data.labels.data(), path);
    h5::write_string_attribute(file.get(), "task", "classification");
    if (data.classes > 0) h5::write_int_attribute(file.get(), "classes", std::int64_t(data.classes));
  } else {
    h5::write_floats(file.get(), "labels", {n, data.targets.cols}, data.targets.values.data(), path);
    h5::write_string_attribute(file.get(), "task", "regression");
  }
  if (!data.feature_names.empty()) h5::write_string_list_attribute(file.get(), "feature_names", data.feature_names);
  if (!data.class_names.empty()) h5::write_string_list_attribute(file.get(), "class_names", data.class_names);
  if (!data.generator.empty()) h5::write_string_attribute(file.get(), "generator", data.generator);
  if (!data.schema.empty()) h5::write_string_attribute(file.get(), "schema", data.schema);
  if (!data.ids.empty()) h5::write_string_dataset(file.get(), "ids", data.ids, path);
  for (const auto& [key, value] : options.numbers) {
    if (value == std::floor(value) && std::abs(value) < 9e15)
      h5::write_int_attribute(file.get(), key, std::int64_t(value));
    else
      h5::write_double_attribute(file.get(), key, value);
  }
  for (const auto& [key, value] : options.texts) h5::write_string_attribute(file.get(), key, value);
  file.commit();
}

}  // namespace sinapsis
