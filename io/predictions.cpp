#include "io/predictions.hpp"

#include "io/hdf5.hpp"

namespace sinapsis {

void write_predictions_file(const std::string& path, const Predictions& p) {
  const std::size_t n = p.values.rows, k = p.values.cols;
  h5::NewFile file(path, (n * k + n * 2) * sizeof(float) + n * 16);
  h5::write_string_dataset(file.get(), "ids", p.ids, path);
  if (p.class_names.empty()) {
    h5::write_floats(file.get(), "predicted", {n, k}, p.values.values.data(), path);
  } else {
    h5::write_int64(file.get(), "predicted", {n}, p.predicted.data(), path);
    h5::write_floats(file.get(), "probabilities", {n, k}, p.values.values.data(), path);
    h5::write_string_list_attribute(file.get(), "class_names", p.class_names);
  }
  file.commit();
}

}  // namespace sinapsis
