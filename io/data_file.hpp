// Data set files (HDF5):
//   /features  [N, D], any integer or float type, converted to float32
//   /labels    [N] integer class ids 0..K-1            -> classification
//              [N] or [N, K] float targets               -> regression
// Everything is checked before training: a bad file throws DataError with
// one line naming the file, the dataset, and the row where it applies.
#pragma once

#include <string>

#include "core/dataset.hpp"

namespace sinapsis {

enum class LabelsRequired { yes, no };

// With LabelsRequired::no a file without /labels loads with empty labels
// (for predict).
Dataset read_data_file(const std::string& path, LabelsRequired labels = LabelsRequired::yes);

}  // namespace sinapsis
