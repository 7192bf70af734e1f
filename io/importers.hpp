// Importers from other formats into a Dataset (then written with
// write_data_file).
//
// IDX (LeCun's MNIST format, also Fashion-MNIST), gzipped or not: a magic
// number 0x000008TT0D (TT = 0x08 unsigned byte, D = number of dimensions),
// D big-endian 32-bit sizes, then the data. Images [N, rows, cols] become
// features [N, rows*cols] (pixel values 0..255 as they are); labels [N]
// become class ids.
//
// CSV: a header row names the columns; every row has as many fields. The
// label column is given by name. A column is numeric when most of its values
// parse as numbers, and then every value must; other columns are categorical
// and one-hot encoded, with feature names "column=value". A categorical label
// becomes class ids 0..K-1 in sorted order of its values (kept as
// class_names); a numeric label of whole numbers >= 0 is class ids, any other
// numeric label a regression target.
#pragma once

#include <string>
#include <vector>

#include "core/dataset.hpp"

namespace sinapsis {

Dataset import_idx(const std::string& images_path, const std::string& labels_path);
// `ignored` columns (ids, free text) are left out of the features.
Dataset import_csv(const std::string& path, const std::string& label_column,
                   const std::vector<std::string>& ignored = {});

}  // namespace sinapsis
