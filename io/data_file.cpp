#include "io/data_file.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "io/hdf5.hpp"

namespace sinapsis {
namespace {

std::string dims_text(const std::vector<hsize_t>& dims) {
  std::string text = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
  return text + "]";
}

// The first non-finite value, as "row r, column c".
void check_finite(const std::vector<float>& values, std::size_t cols, const std::string& what) {
  const auto bad = std::find_if(values.begin(), values.end(), [](float v) { return !std::isfinite(v); });
  if (bad == values.end()) return;
  const std::size_t i = std::size_t(bad - values.begin());
  throw DataError(what + " has " + (std::isnan(*bad) ? "NaN" : "Inf") + " at row " +
                  std::to_string(i / cols) + ", column " + std::to_string(i % cols));
}

}  // namespace

Dataset read_data_file(const std::string& path, LabelsRequired labels_required) {
  const h5::Handle file = h5::open_file(path);
  const h5::Handle features = h5::open_dataset(file.get(), "features", path);
  const std::string fwhat = path + ": /features";
  const std::string lwhat = path + ": /labels";

  const auto fdims = h5::shape(features.get());
  if (fdims.size() != 2)
    throw DataError(fwhat + " must be 2-D [N, D], got shape " + dims_text(fdims));
  const std::size_t n = fdims[0], d = fdims[1];
  if (n == 0 || d == 0) throw DataError(fwhat + " is empty, shape " + dims_text(fdims));

  Dataset data;
  data.features.rows = n;
  data.features.cols = d;
  data.features.values = h5::read_floats(features.get(), fwhat);
  check_finite(data.features.values, d, fwhat);
  if (labels_required == LabelsRequired::no && !h5::exists(file.get(), "labels")) return data;

  const h5::Handle labels = h5::open_dataset(file.get(), "labels", path);
  const auto ldims = h5::shape(labels.get());
  if (ldims.empty() || ldims.size() > 2)
    throw DataError(lwhat + " must be [N] or [N, K], got shape " + dims_text(ldims));
  if (ldims[0] != n)
    throw DataError(path + ": /features has " + std::to_string(n) + " rows but /labels has " +
                    std::to_string(ldims[0]));

  const H5T_class_t lclass = h5::type_class(labels.get());
  if (lclass == H5T_INTEGER) {
    if (ldims.size() != 1)
      throw DataError(lwhat + ": integer class ids must be 1-D [N], got shape " + dims_text(ldims));
    data.task = Task::classification;
    data.labels = h5::read_int64(labels.get(), lwhat);
    std::int64_t top = 0;
    for (std::size_t r = 0; r < n; ++r) {
      if (data.labels[r] < 0)
        throw DataError(lwhat + " row " + std::to_string(r) + " is " +
                        std::to_string(data.labels[r]) + ": class ids must be >= 0");
      top = std::max(top, data.labels[r]);
    }
    data.classes = std::max<std::size_t>(2, std::size_t(top) + 1);
  } else if (lclass == H5T_FLOAT) {
    data.task = Task::regression;
    data.targets.rows = n;
    data.targets.cols = ldims.size() == 2 ? ldims[1] : 1;
    if (data.targets.cols == 0) throw DataError(lwhat + " has no target columns");
    data.targets.values = h5::read_floats(labels.get(), lwhat);
    check_finite(data.targets.values, data.targets.cols, lwhat);
  } else {
    throw DataError(lwhat + " must hold integer class ids or float targets");
  }
  return data;
}

}  // namespace sinapsis
