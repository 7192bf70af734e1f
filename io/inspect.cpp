#include "io/inspect.hpp"

#include <hdf5.h>

#include "io/hdf5.hpp"

namespace sinapsis {
namespace {

std::string type_text(hid_t dataset) {
  h5::Handle type(H5Dget_type(dataset), H5Tclose);
  const std::size_t bytes = H5Tget_size(type.get());
  switch (H5Tget_class(type.get())) {
    case H5T_INTEGER:
      return std::string(H5Tget_sign(type.get()) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(8 * bytes);
    case H5T_FLOAT: return "float" + std::to_string(8 * bytes);
    default: return "non-numeric";
  }
}

std::string layout_text(hid_t dataset) {
  h5::Handle plist(H5Dget_create_plist(dataset), H5Pclose);
  if (H5Pget_layout(plist.get()) != H5D_CHUNKED) return "contiguous";
  hsize_t chunk[8] = {};
  const int rank = H5Pget_chunk(plist.get(), 8, chunk);
  std::string text = "chunked [";
  for (int i = 0; i < rank; ++i) text += (i ? ", " : "") + std::to_string(chunk[i]);
  text += "]";
  for (int i = 0; i < H5Pget_nfilters(plist.get()); ++i) {
    unsigned flags = 0;
    std::size_t n = 0;
    char name[64] = {};
    unsigned config = 0;
    H5Pget_filter2(plist.get(), unsigned(i), &flags, &n, nullptr, sizeof name, name, &config);
    text += std::string(" +") + name;
  }
  return text;
}

StoredArray stored(hid_t dataset) { return {type_text(dataset), layout_text(dataset)}; }

}  // namespace

StoredLayout stored_layout(const DataSource& source) {
  const std::string& path = source.files.front();
  const h5::Handle file = h5::open_file(path);
  StoredLayout layout;
  layout.features = stored(h5::open_dataset(file.get(), "features", path).get());
  if (h5::exists(file.get(), "labels")) layout.labels = stored(h5::open_dataset(file.get(), "labels", path).get());
  return layout;
}

void for_each_raw_features(const DataSource& source, const std::function<void(std::span<const float>)>& visit) {
  for (const auto& path : source.files) {
    const h5::Handle file = h5::open_file(path);
    const h5::Handle features = h5::open_dataset(file.get(), "features", path);
    const std::vector<float> cells = h5::read_floats(features.get(), path + ": /features");
    visit(cells);
  }
}

std::string hdf5_library_version() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}

}  // namespace sinapsis
