#include "io/hdf5.hpp"

#include <filesystem>
#include <fstream>

#include "core/error.hpp"

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
  if (!std::filesystem::exists(path, ec)) throw DataError(path + ": no such file");
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

H5T_class_t type_class(hid_t dataset) {
  Handle type(H5Dget_type(dataset), H5Tclose);
  return H5Tget_class(type.get());
}

namespace {

std::size_t element_count(hid_t dataset) {
  std::size_t n = 1;
  for (hsize_t d : shape(dataset)) n *= std::size_t(d);
  return n;
}

template <class T>
std::vector<T> read_as(hid_t dataset, hid_t memory_type, const std::string& what) {
  const H5T_class_t cls = type_class(dataset);
  if (cls != H5T_INTEGER && cls != H5T_FLOAT)
    throw DataError(what + ": not numeric (HDF5 type class " + std::to_string(int(cls)) + ")");
  std::vector<T> values(element_count(dataset));
  if (!values.empty() &&
      H5Dread(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
    throw DataError(what + ": read failed (truncated or corrupt file?)");
  return values;
}

}  // namespace

std::vector<float> read_floats(hid_t dataset, const std::string& what) {
  return read_as<float>(dataset, H5T_NATIVE_FLOAT, what);
}

std::vector<std::int64_t> read_int64(hid_t dataset, const std::string& what) {
  return read_as<std::int64_t>(dataset, H5T_NATIVE_INT64, what);
}

void write_floats(hid_t location, const std::string& name, const std::vector<hsize_t>& dims,
                  const float* data, const std::string& file) {
  Handle space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle set(H5Dcreate2(location, name.c_str(), H5T_IEEE_F32LE, space.get(), H5P_DEFAULT,
                        H5P_DEFAULT, H5P_DEFAULT),
             H5Dclose);
  if (!set.valid() ||
      H5Dwrite(set.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    throw DataError(file + ": cannot write dataset " + name);
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
