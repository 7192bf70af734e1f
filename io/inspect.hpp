// What `sinapsis data inspect` and `sinapsis --version` ask of HDF5, so that
// the layers above io/ never include <hdf5.h>: how a data file stores its
// arrays, its raw feature values (NaN and Inf included, which the reader
// refuses), the library's version.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>

#include "io/data_file.hpp"

namespace sinapsis {

// How one array is stored: "float32", "uint8", ... and "contiguous" or
// "chunked [1024, 784] +deflate +shuffle".
struct StoredArray {
  std::string type, layout;
};
struct StoredLayout {
  StoredArray features;
  std::optional<StoredArray> labels;
};
// The layout of the first file of `source`. Throws DataError naming the file.
StoredLayout stored_layout(const DataSource& source);

// Every file's /features values as stored (converted to float, nothing
// refused), file by file in shard order, row-major.
void for_each_raw_features(const DataSource& source, const std::function<void(std::span<const float>)>& visit);

// "1.10.8"
std::string hdf5_library_version();

}  // namespace sinapsis
