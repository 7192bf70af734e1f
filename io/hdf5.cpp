#include "io/hdf5.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <new>  // std::bad_alloc

#include "core/error.hpp"
#include "core/memory.hpp"
#include "io/atomic_file.hpp"

namespace sinapsis::h5 {

void quiet_errors() {
  static const bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

Handle open_file(const std::string& path) {
  quiet_errors();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw DataError(path + (ec && ec != std::errc::no_such_file_or_directory ? ": cannot be read: " + ec.message()
                                                                               : std::string(": no such file")));
  if (std::filesystem::is_directory(path, ec)) throw DataError(path + ": is a directory, not a file");
  if (!std::ifstream(path).good()) throw DataError(path + ": cannot be read (permissions?)");
  if (H5Fis_hdf5(path.c_str()) <= 0) throw DataError(path + ": not an HDF5 file");
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) throw DataError(path + ": cannot be opened as HDF5 (truncated or corrupt?)");
  return {id, H5Fclose};
}

Handle create_file(const std::string& path) {
  quiet_errors();
  const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (id < 0) throw DataError(path + ": cannot be created");
  return {id, H5Fclose};
}

NewFile::NewFile(std::string path, std::size_t expected_bytes) : path_(std::move(path)) {
  quiet_errors();
  Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  // The image grows in steps of this size: about the whole file at once.
  const std::size_t step = std::clamp<std::size_t>(expected_bytes + (64 << 10), 64 << 10, std::size_t(1) << 30);
  if (!access.valid() || H5Pset_fapl_core(access.get(), step, false) < 0)
    throw DataError(path_ + ": cannot set up HDF5's in-memory file driver");
  // Without a backing store the name is only a label: nothing is opened.
  file_ = Handle(H5Fcreate(path_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get()), H5Fclose);
  if (!file_.valid()) throw DataError(path_ + ": cannot be created (in memory)");
}

void NewFile::commit() {
  if (H5Fflush(file_.get(), H5F_SCOPE_GLOBAL) < 0) throw DataError(path_ + ": cannot be assembled in memory");
  const ssize_t size = H5Fget_file_image(file_.get(), nullptr, 0);
  if (size < 0) throw DataError(path_ + ": cannot be assembled in memory");
  std::vector<char> image;
  try {
    image.resize(std::size_t(size));
  } catch (const std::bad_alloc&) {
    throw DataError(path_ + ": cannot be written: its " + bytes_text(std::uint64_t(size)) +
                    " image does not fit in memory");
  }
  if (H5Fget_file_image(file_.get(), image.data(), image.size()) != size)
    throw DataError(path_ + ": cannot be assembled in memory");
  file_.reset();
  write_file_atomically(path_, image);
}

bool exists(hid_t location, const std::string& name) {
  return H5Lexists(location, name.c_str(), H5P_DEFAULT) > 0;
}

Handle open_dataset(hid_t location, const std::string& name, const std::string& file) {
  if (!exists(location, name)) throw DataError(file + ": no dataset " + name);
  const hid_t id = H5Dopen2(location, name.c_str(), H5P_DEFAULT);
  if (id < 0) throw DataError(file + ": " + name + " is not a readable dataset");
  return {id, H5Dclose};
}

Handle open_group(hid_t location, const std::string& name, const std::string& file) {
  if (!exists(location, name)) throw DataError(file + ": no group " + name);
  const hid_t id = H5Gopen2(location, name.c_str(), H5P_DEFAULT);
  if (id < 0) throw DataError(file + ": " + name + " is not a group");
  return {id, H5Gclose};
}

Handle create_group(hid_t location, const std::string& name, const std::string& file) {
  const hid_t id = H5Gcreate2(location, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (id < 0) throw DataError(file + ": cannot create group " + name);
  return {id, H5Gclose};
}

std::vector<hsize_t> shape(hid_t dataset) {
  Handle space(H5Dget_space(dataset), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(rank > 0 ? std::size_t(rank) : 0);
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return dims;
}

std::vector<hsize_t> checked_shape(hid_t dataset, const std::string& what) {
  const std::vector<hsize_t> dims = shape(dataset);
  std::uint64_t elements = 1;
  for (const hsize_t d : dims)
    if (__builtin_mul_overflow(elements, std::uint64_t(d), &elements))
      throw DataError(what + ": claims a shape of more than 2^64 elements");
  if (elements == 0) return dims;
  Handle plist(H5Dget_create_plist(dataset), H5Pclose);
  const std::string shape_text = [&] {
    std::string text = "[";
    for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
    return text + "]";
  }();
  switch (H5Pget_layout(plist.get())) {
    case H5D_CONTIGUOUS: {
      // Stored in other files: reading fails if they are short.
      if (H5Pget_external_count(plist.get()) > 0) return dims;
      Handle type(H5Dget_type(dataset), H5Tclose);
      const auto bytes = checked_product({elements, H5Tget_size(type.get())});
      const hsize_t stored = H5Dget_storage_size(dataset);
      if (!bytes || stored < *bytes)
        throw DataError(what + ": claims shape " + shape_text + " (" + bytes_text(bytes) + ") but the file stores " +
                        bytes_text(stored) + " of it (truncated or hand-made?)");
      return dims;
    }
    case H5D_CHUNKED: {
      std::vector<hsize_t> chunk(dims.size());
      if (H5Pget_chunk(plist.get(), int(chunk.size()), chunk.data()) != int(chunk.size()))
        throw DataError(what + ": unreadable chunk layout");
      std::uint64_t expected = 1;
      for (std::size_t i = 0; i < dims.size(); ++i)
        if (chunk[i] == 0 ||
            __builtin_mul_overflow(expected, dims[i] / chunk[i] + (dims[i] % chunk[i] != 0), &expected))
          throw DataError(what + ": claims shape " + shape_text + " in more chunks than can be counted");
      hsize_t stored = 0;
      Handle space(H5Dget_space(dataset), H5Sclose);
      if (H5Dget_num_chunks(dataset, space.get(), &stored) < 0 || stored < expected)
        throw DataError(what + ": claims shape " + shape_text + " in " + std::to_string(expected) +
                        " chunks but the file stores " + std::to_string(stored) + " (truncated or hand-made?)");
      return dims;
    }
    default:  // compact: stored in the object header, read whole
      return dims;
  }
}

H5T_class_t type_class(hid_t dataset) {
  Handle type(H5Dget_type(dataset), H5Tclose);
  return H5Tget_class(type.get());
}

namespace {

// Elements per row of a dataset (a scalar reads as one row of one);
// SIZE_MAX when they cannot be counted, which no memory holds.
std::size_t row_size(hid_t dataset) {
  std::size_t size = 1;
  const auto dims = shape(dataset);
  for (std::size_t i = 1; i < dims.size(); ++i)
    if (__builtin_mul_overflow(size, std::size_t(dims[i]), &size)) return SIZE_MAX;
  return size;
}

void read_rows_into(hid_t dataset, hid_t memory_type, std::size_t first, std::size_t count, void* destination,
                    const std::string& what) {
  const H5T_class_t cls = type_class(dataset);
  if (cls != H5T_INTEGER && cls != H5T_FLOAT)
    throw DataError(what + ": not numeric (HDF5 type class " + std::to_string(int(cls)) + ")");
  std::vector<hsize_t> dims = shape(dataset);
  if (dims.empty()) dims = {1};  // a scalar reads as one row
  if (first + count > dims[0])
    throw DataError(what + ": rows " + std::to_string(first) + ".." + std::to_string(first + count) +
                    " are out of range");
  if (count == 0 || row_size(dataset) == 0) return;
  std::vector<hsize_t> start(dims.size(), 0), extent = dims;
  start[0] = first;
  extent[0] = count;
  Handle file_space(H5Dget_space(dataset), H5Sclose);
  Handle memory_space(H5Screate_simple(int(extent.size()), extent.data(), nullptr), H5Sclose);
  if (H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, extent.data(), nullptr) < 0 ||
      H5Dread(dataset, memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT, destination) < 0)
    throw DataError(what + ": read failed (truncated or corrupt file?)");
}

template <class T>
std::vector<T> read_rows_as(hid_t dataset, hid_t memory_type, std::size_t first, std::size_t count,
                            const std::string& what) {
  const auto bytes = checked_product({count, row_size(dataset), sizeof(T)});
  if (!fits_in_memory(bytes))
    throw DataError(what + ": " + std::to_string(count) + " rows of " + std::to_string(row_size(dataset)) +
                    " values " + memory_shortfall_text(bytes));
  std::vector<T> values(count * row_size(dataset));
  read_rows_into(dataset, memory_type, first, count, values.data(), what);
  return values;
}

}  // namespace

void read_float_rows_into(hid_t dataset, std::size_t first, std::size_t count, float* destination,
                          const std::string& what) {
  read_rows_into(dataset, H5T_NATIVE_FLOAT, first, count, destination, what);
}

std::vector<float> read_float_rows(hid_t dataset, std::size_t first, std::size_t count,
                                   const std::string& what) {
  return read_rows_as<float>(dataset, H5T_NATIVE_FLOAT, first, count, what);
}

std::vector<std::int64_t> read_int64_rows(hid_t dataset, std::size_t first, std::size_t count,
                                          const std::string& what) {
  return read_rows_as<std::int64_t>(dataset, H5T_NATIVE_INT64, first, count, what);
}

std::size_t rows(hid_t dataset) {
  const auto dims = shape(dataset);
  return dims.empty() ? 1 : std::size_t(dims[0]);
}

std::vector<float> read_floats(hid_t dataset, const std::string& what) {
  return read_float_rows(dataset, 0, rows(dataset), what);
}

std::vector<std::int64_t> read_int64(hid_t dataset, const std::string& what) {
  return read_int64_rows(dataset, 0, rows(dataset), what);
}

namespace {
void write_dataset(hid_t location, const std::string& name, const std::vector<hsize_t>& dims,
                   hid_t file_type, hid_t memory_type, const void* data, const std::string& file) {
  Handle space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle set(H5Dcreate2(location, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT,
                        H5P_DEFAULT),
             H5Dclose);
  if (!set.valid() || H5Dwrite(set.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    throw DataError(file + ": cannot write dataset " + name);
}
}  // namespace

void write_floats(hid_t location, const std::string& name, const std::vector<hsize_t>& dims,
                  const float* data, const std::string& file) {
  write_dataset(location, name, dims, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, data, file);
}

void write_int64(hid_t location, const std::string& name, const std::vector<hsize_t>& dims,
                 const std::int64_t* data, const std::string& file) {
  write_dataset(location, name, dims, H5T_STD_I64LE, H5T_NATIVE_INT64, data, file);
}

std::optional<std::string> read_string_attribute(hid_t object, const std::string& name,
                                                 const std::string& what) {
  if (H5Aexists(object, name.c_str()) <= 0) return std::nullopt;
  Handle attr(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING)
    throw DataError(what + ": attribute '" + name + "' is not a string");
  Handle space(H5Aget_space(attr.get()), H5Sclose);
  if (H5Sget_simple_extent_npoints(space.get()) != 1)
    throw DataError(what + ": attribute '" + name + "' must be a single string");
  if (H5Tis_variable_str(type.get()) > 0) {
    Handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(memory.get(), H5T_VARIABLE);
    H5Tset_cset(memory.get(), H5Tget_cset(type.get()));
    char* text = nullptr;
    if (H5Aread(attr.get(), memory.get(), &text) < 0 || text == nullptr)
      throw DataError(what + ": cannot read attribute '" + name + "'");
    std::string value(text);
    H5free_memory(text);
    return value;
  }
  const std::size_t size = H5Tget_size(type.get());
  if (!fits_in_memory(size))
    throw DataError(what + ": attribute '" + name + "' claims a string that " + memory_shortfall_text(size));
  std::string value(size, '\0');
  Handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(memory.get(), size);
  H5Tset_strpad(memory.get(), H5T_STR_NULLPAD);
  if (H5Aread(attr.get(), memory.get(), value.data()) < 0)
    throw DataError(what + ": cannot read attribute '" + name + "'");
  value.resize(value.find_last_not_of(std::string("\0 ", 2)) + 1);
  return value;
}

void write_string_attribute(hid_t object, const std::string& name, const std::string& value) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose);
  const char* text = value.c_str();
  if (!attr.valid() || H5Awrite(attr.get(), type.get(), &text) < 0)
    throw DataError("cannot write attribute '" + name + "'");
}

std::vector<std::string> read_string_list_attribute(hid_t object, const std::string& name,
                                                    const std::string& what) {
  std::vector<std::string> values;
  if (H5Aexists(object, name.c_str()) <= 0) return values;
  Handle attr(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  Handle space(H5Aget_space(attr.get()), H5Sclose);
  if (H5Tget_class(type.get()) != H5T_STRING)
    throw DataError(what + ": attribute '" + name + "' is not a list of strings");
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (const auto bytes = checked_product({std::uint64_t(std::max<hssize_t>(count, 0)),
                                          std::max<std::size_t>(H5Tget_size(type.get()), sizeof(std::string))});
      count < 0 || !fits_in_memory(bytes))
    throw DataError(what + ": attribute '" + name + "' claims " + std::to_string(count) + " strings, which " +
                    memory_shortfall_text(bytes));
  if (H5Sget_simple_extent_ndims(space.get()) == 0) {  // one string: "a,b,c"
    const std::string text = read_string_attribute(object, name, what).value_or("");
    std::size_t start = 0;
    while (!text.empty() && start <= text.size()) {
      const std::size_t comma = std::min(text.find(',', start), text.size());
      values.push_back(text.substr(start, comma - start));
      start = comma + 1;
    }
    return values;
  }
  Handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
  if (H5Tis_variable_str(type.get()) > 0) {
    H5Tset_size(memory.get(), H5T_VARIABLE);
    H5Tset_cset(memory.get(), H5Tget_cset(type.get()));
    std::vector<char*> texts(std::size_t(count), nullptr);
    if (H5Aread(attr.get(), memory.get(), texts.data()) < 0)
      throw DataError(what + ": cannot read attribute '" + name + "'");
    for (char* t : texts) values.emplace_back(t ? t : "");
    H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT, texts.data());
    return values;
  }
  const std::size_t size = H5Tget_size(type.get());
  H5Tset_size(memory.get(), size);
  H5Tset_strpad(memory.get(), H5T_STR_NULLPAD);
  std::string buffer(size * std::size_t(count), '\0');
  if (H5Aread(attr.get(), memory.get(), buffer.data()) < 0)
    throw DataError(what + ": cannot read attribute '" + name + "'");
  for (hssize_t i = 0; i < count; ++i) {
    std::string item = buffer.substr(std::size_t(i) * size, size);
    item.resize(item.find_last_not_of(std::string("\0 ", 2)) + 1);
    values.push_back(item);
  }
  return values;
}

void write_string_list_attribute(hid_t object, const std::string& name,
                                 const std::vector<std::string>& values) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  const hsize_t count = values.size();
  Handle space(H5Screate_simple(1, &count, nullptr), H5Sclose);
  Handle attr(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose);
  std::vector<const char*> texts;
  for (const auto& v : values) texts.push_back(v.c_str());
  if (!attr.valid() || H5Awrite(attr.get(), type.get(), texts.data()) < 0)
    throw DataError("cannot write attribute '" + name + "'");
}

void write_string_dataset(hid_t location, const std::string& name, const std::vector<std::string>& values,
                          const std::string& file) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  const hsize_t count = values.size();
  Handle space(H5Screate_simple(1, &count, nullptr), H5Sclose);
  Handle set(H5Dcreate2(location, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
             H5Dclose);
  std::vector<const char*> texts;
  for (const auto& v : values) texts.push_back(v.c_str());
  if (!set.valid() || (count > 0 && H5Dwrite(set.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, texts.data()) < 0))
    throw DataError(file + ": cannot write /" + name);
}

std::vector<std::string> read_string_dataset(hid_t location, const std::string& name, const std::string& what) {
  std::vector<std::string> values;
  if (H5Lexists(location, name.c_str(), H5P_DEFAULT) <= 0) return values;
  Handle set(H5Dopen2(location, name.c_str(), H5P_DEFAULT), H5Dclose);
  Handle type(H5Dget_type(set.get()), H5Tclose);
  Handle space(H5Dget_space(set.get()), H5Sclose);
  const std::string where = what + ": /" + name;
  if (!set.valid() || H5Tget_class(type.get()) != H5T_STRING || H5Sget_simple_extent_ndims(space.get()) != 1)
    throw DataError(where + " is not a list of strings");
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (const auto bytes = checked_product({std::uint64_t(std::max<hssize_t>(count, 0)),
                                          std::max<std::size_t>(H5Tget_size(type.get()), sizeof(std::string))});
      count < 0 || !fits_in_memory(bytes))
    throw DataError(where + " claims " + std::to_string(count) + " strings, which " + memory_shortfall_text(bytes));
  Handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
  if (H5Tis_variable_str(type.get()) > 0) {
    H5Tset_size(memory.get(), H5T_VARIABLE);
    H5Tset_cset(memory.get(), H5Tget_cset(type.get()));
    std::vector<char*> texts(std::size_t(count), nullptr);
    if (count > 0 && H5Dread(set.get(), memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, texts.data()) < 0)
      throw DataError(where + ": cannot be read");
    for (char* t : texts) values.emplace_back(t ? t : "");
    if (count > 0) H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT, texts.data());
    return values;
  }
  const std::size_t size = H5Tget_size(type.get());
  H5Tset_size(memory.get(), size);
  H5Tset_strpad(memory.get(), H5T_STR_NULLPAD);
  std::string buffer(size * std::size_t(count), '\0');
  if (count > 0 && H5Dread(set.get(), memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0)
    throw DataError(where + ": cannot be read");
  for (hssize_t i = 0; i < count; ++i) {
    std::string item = buffer.substr(std::size_t(i) * size, size);
    item.resize(item.find_last_not_of(std::string("\0 ", 2)) + 1);
    values.push_back(item);
  }
  return values;
}

std::optional<double> read_number_attribute(hid_t object, const std::string& name,
                                            const std::string& what) {
  if (H5Aexists(object, name.c_str()) <= 0) return std::nullopt;
  Handle attr(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  const H5T_class_t cls = H5Tget_class(type.get());
  Handle space(H5Aget_space(attr.get()), H5Sclose);
  if ((cls != H5T_INTEGER && cls != H5T_FLOAT) || H5Sget_simple_extent_npoints(space.get()) != 1)
    throw DataError(what + ": attribute '" + name + "' must be a single number");
  double value = 0;
  if (H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &value) < 0)
    throw DataError(what + ": cannot read attribute '" + name + "'");
  return value;
}

namespace {
template <class T>
void write_scalar_attribute(hid_t object, const std::string& name, hid_t file_type,
                            hid_t memory_type, T value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(object, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose);
  if (!attr.valid() || H5Awrite(attr.get(), memory_type, &value) < 0)
    throw DataError("cannot write attribute '" + name + "'");
}
}  // namespace

void write_int_attribute(hid_t object, const std::string& name, std::int64_t value) {
  write_scalar_attribute(object, name, H5T_STD_I64LE, H5T_NATIVE_INT64, value);
}

void write_double_attribute(hid_t object, const std::string& name, double value) {
  write_scalar_attribute(object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, value);
}

}  // namespace sinapsis::h5
