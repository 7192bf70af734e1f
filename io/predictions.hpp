// Predictions as an HDF5 file (`sinapsis predict --format h5`), readable by
// h5py:
//   /ids            [N] strings: the rows' ids (or their numbers)
//   /predicted      [N] int64 class ids (classifiers) or
//                   [N, K] float32 values (regression)
//   /probabilities  [N, K] float32, classifiers only
//   root attribute class_names: the classes in class-id order (classifiers)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.hpp"

namespace sinapsis {

struct Predictions {
  std::vector<std::string> ids;
  std::vector<std::string> class_names;      // empty for regression
  std::vector<std::int64_t> predicted;       // classifiers: the class id of each row
  Matrix<float> values;                      // classifiers: probabilities [N, K]; regression: outputs [N, K]
};

// Written atomically: the whole file, or the target as it was.
void write_predictions_file(const std::string& path, const Predictions& p);

}  // namespace sinapsis
