// Thin RAII over the HDF5 C API: handles that close themselves, and the few
// reads and writes sinapsis needs, each throwing DataError with the file and
// object named. HDF5's own error stack printing is switched off: errors
// reach the user as one line from us.
#pragma once

#include <hdf5.h>  // the HDF5 C API

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sinapsis::h5 {

// An hid_t closed with the matching H5?close when it goes out of scope.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, -1)), closer_(other.closer_) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, -1);
      closer_ = other.closer_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset() {
    if (id_ >= 0 && closer_) closer_(id_);
    id_ = -1;
  }

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

// Silences HDF5's automatic error printing (once per process).
void quiet_errors();

// Opens an existing file read-only; throws DataError if it is missing,
// unreadable or not HDF5.
Handle open_file(const std::string& path);
// Creates (truncates) a file on disk, written as HDF5 goes: for tests that
// make hand-made files. sinapsis' own writers use NewFile.
Handle create_file(const std::string& path);

// A new file assembled in memory (HDF5's core driver, no backing store)
// and written to the disk whole by commit(), as an atomic replacement of
// `path` (io/atomic_file.hpp). HDF5 itself never writes to the disk: a full
// disk or a lost permission cannot leave it holding a half-written open
// file (which HDF5 1.10 cannot close, and crashes on in its exit handler);
// it fails in commit() as one DataError, the target as it was.
// `expected_bytes` sizes the memory it grows by.
class NewFile {
 public:
  NewFile(std::string path, std::size_t expected_bytes = 0);
  hid_t get() const { return file_.get(); }
  const std::string& path() const { return path_; }
  void commit();

 private:
  std::string path_;
  Handle file_;
};

bool exists(hid_t location, const std::string& name);
Handle open_dataset(hid_t location, const std::string& name, const std::string& file);
Handle open_group(hid_t location, const std::string& name, const std::string& file);
Handle create_group(hid_t location, const std::string& name, const std::string& file);

// Dimensions of a dataset.
std::vector<hsize_t> shape(hid_t dataset);
// The same, checked against what the file holds: the element count must be
// countable, and every element it claims must be stored (a contiguous
// dataset's bytes, or every chunk of a chunked one, compressed or not): a
// hand-made header claiming 10^12 rows is refused at once, naming `what`,
// instead of read as fill values or allocated.
std::vector<hsize_t> checked_shape(hid_t dataset, const std::string& what);
// The class of its stored type: H5T_INTEGER, H5T_FLOAT, ...
H5T_class_t type_class(hid_t dataset);

// Reads a whole dataset converted to float / int64 / double (HDF5 converts
// any stored numeric type).
std::vector<float> read_floats(hid_t dataset, const std::string& what);
std::vector<std::int64_t> read_int64(hid_t dataset, const std::string& what);

// Writes a float32 dataset of the given shape.
void write_floats(hid_t location, const std::string& name, const std::vector<hsize_t>& dims,
                  const float* data, const std::string& file);
// Writes an int64 dataset of the given shape.
void write_int64(hid_t location, const std::string& name, const std::vector<hsize_t>& dims,
                 const std::int64_t* data, const std::string& file);
// Reads rows [first, first + count) of a 1-D or 2-D dataset (a hyperslab:
// nothing outside it is read), converted to float / int64.
std::vector<float> read_float_rows(hid_t dataset, std::size_t first, std::size_t count,
                                   const std::string& what);
// The same into `destination` (count * row size floats), without a copy.
void read_float_rows_into(hid_t dataset, std::size_t first, std::size_t count, float* destination,
                          const std::string& what);
std::vector<std::int64_t> read_int64_rows(hid_t dataset, std::size_t first, std::size_t count,
                                          const std::string& what);

// String attributes: read accepts variable- and fixed-length strings (as
// h5py writes str and bytes); write stores variable-length UTF-8 (as h5py).
std::optional<std::string> read_string_attribute(hid_t object, const std::string& name,
                                                 const std::string& what);
void write_string_attribute(hid_t object, const std::string& name, const std::string& value);
// A list of strings: a 1-D array of strings (what h5py writes for a list of
// str) or one string of comma-separated items. Empty when absent.
std::vector<std::string> read_string_list_attribute(hid_t object, const std::string& name,
                                                    const std::string& what);
void write_string_list_attribute(hid_t object, const std::string& name,
                                 const std::vector<std::string>& values);
// A 1-D dataset of strings (variable-length UTF-8 written; fixed-length read too).
void write_string_dataset(hid_t location, const std::string& name, const std::vector<std::string>& values,
                          const std::string& file);
// Empty when absent.
std::vector<std::string> read_string_dataset(hid_t location, const std::string& name, const std::string& what);
std::optional<double> read_number_attribute(hid_t object, const std::string& name,
                                            const std::string& what);
void write_int_attribute(hid_t object, const std::string& name, std::int64_t value);
void write_double_attribute(hid_t object, const std::string& name, double value);

}  // namespace sinapsis::h5
