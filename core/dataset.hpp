// Data in memory and its encoding into training targets.
//
// A data set is features [N, D] plus either class ids 0..K-1 (classification)
// or real targets [N, K] (regression). encode() turns it into the dense
// target matrix the chosen loss and output unit train on:
//   cce                 one-hot rows [N, K]
//   bce                 the class id (0 or 1) [N, 1]
//   mse, 1 output       the class id; with a tanh output -1/+1 (the Playground's
//                       convention for two classes)
//   mse, K > 1 outputs  one-hot (with tanh: +1 for the class, -1 elsewhere)
// A sample's predicted class is argmax over K > 1 outputs, and for one output
// whether it is >= 0 (tanh) or >= 0.5 (any other unit).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/activation.hpp"
#include "core/error.hpp"
#include "core/loss.hpp"
#include "core/tensor.hpp"

namespace sinapsis {

enum class Task { classification, regression };

// As read from a file, before any choice of loss.
struct Dataset {
  Matrix<float> features;             // [N, D]
  Task task = Task::classification;
  std::vector<std::int64_t> labels;   // classification: N class ids
  Matrix<float> targets;              // regression: [N, K]
  std::size_t classes = 0;            // classification: K (>= 2)

  // Optional descriptions, kept through every file sinapsis writes.
  std::vector<std::string> feature_names;  // D names, or empty
  std::vector<std::string> class_names;    // K names, or empty
  std::string generator;                   // "spiral" etc. when made by `data make`

  std::size_t size() const { return features.rows; }
  std::size_t dimension() const { return features.cols; }
};

// Ready to train or evaluate on: targets encoded for one loss/output unit.
template <class T>
struct EncodedData {
  Matrix<T> features;                 // [N, D]
  Matrix<T> targets;                  // [N, outputs]
  std::vector<std::int32_t> class_ids;  // classification only; empty for regression
  std::size_t size() const { return features.rows; }
};

// Rows `rows` of `data` (in that order), with its description.
Dataset select_rows(const Dataset& data, const std::vector<std::size_t>& rows);

// Train / validation / test parts of one data set. Seeded; stratified for
// classification (each class split in the same proportions, rounding to the
// nearest sample). Fractions in [0, 1) with val + test < 1.
struct SplitData {
  Dataset train, val, test;
};
SplitData split_dataset(const Dataset& data, double val_fraction, double test_fraction,
                        std::uint64_t seed);

// Real targets [N, 1] that are all whole numbers >= 0, as class ids (for a
// classification loss). Throws DataError naming `source` and the first row
// that is not a class id. Classification data is returned as it is.
Dataset as_class_ids(Dataset data, const std::string& source);

// Output units a model needs for this data and loss. Throws ModelError for
// combinations that do not fit (e.g. bce with more than two classes).
std::size_t output_units(const Dataset& data, Loss loss);

// Encode `data` for a model with `outputs` output units of type `output`.
// Throws DataError naming `source` if a label does not fit the model.
template <class T>
EncodedData<T> encode(const Dataset& data, Loss loss, Activation output, std::size_t outputs,
                      const std::string& source);
// The same, taking the features over instead of copying them (float only):
// a rank then holds its part of the data once.
EncodedData<float> encode_moving(Dataset&& data, Loss loss, Activation output, std::size_t outputs,
                                 const std::string& source);

// Predicted class of one output row (see above).
template <class T>
std::int32_t predicted_class(const T* output_row, std::size_t outputs, Activation output) {
  if (outputs == 1) return output_row[0] >= T(output == Activation::tanh ? 0 : 0.5) ? 1 : 0;
  std::size_t best = 0;
  for (std::size_t k = 1; k < outputs; ++k)
    if (output_row[k] > output_row[best]) best = k;
  return std::int32_t(best);
}

}  // namespace sinapsis
