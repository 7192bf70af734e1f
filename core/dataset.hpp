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

// How a file stores /features. Rows are always read as float32; a file
// sinapsis writes keeps a small integer type it was read from (uint8 images
// stay one byte a pixel on disk instead of four), float32 otherwise.
enum class FeatureStorage { float32, uint8, int8, uint16, int16 };

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
  std::string schema;                      // the input schema (JSON, io/schema.hpp) of imported tables
  std::vector<std::string> ids;            // N row ids (`data import --id`), or empty
  bool labels_present = true;              // false: data to predict on (no /labels)
  FeatureStorage feature_storage = FeatureStorage::float32;  // as the first file stored /features

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

// The largest class count sinapsis accepts from a file (a `classes`
// attribute, class names) or a model: 2^20.
inline constexpr std::size_t kMaxClasses = std::size_t(1) << 20;

// Which class ids a data set may hold, decided before they are read, so a
// stray label cannot size a softmax (the rule README.md documents):
//   - a count fixed elsewhere (a model's outputs, the training data's count
//     for validation and test data): ids below it; the data set may not
//     declare more;
//   - else the count the data set declares (a `classes` attribute or class
//     names, at most kMaxClasses): ids below it;
//   - else its largest id + 1, which may not exceed its number of rows (a
//     data set where most classes have no sample holds a stray label, not
//     a class; a file declares its count when that is really so).
// Every refusal is a DataError naming the data set, the row and the value.
class ClassIdRule {
 public:
  // `fixed` 0: none; `declared` 0: none; `rows`: of the whole data set;
  // `how_to_declare`: how this kind of data set declares its class count.
  ClassIdRule(std::size_t fixed, std::string fixed_by, std::size_t declared, std::size_t rows,
              const std::string& source, std::string how_to_declare = "in a 'classes' attribute");
  // "" when `label` is a class id this data set may hold, else why not:
  // "is class 7 but the model m.h5 has 3 classes (0..2)".
  std::string refusal(std::int64_t label) const;
  // Throws DataError "WHERE row ROW " + refusal(label) unless it is "";
  // `where` names the file and dataset, `row` the row in it.
  void check(std::int64_t label, std::size_t row, const std::string& where) const;
  // The class count of data whose largest checked id is `top` (>= 2).
  std::size_t classes(std::int64_t top) const;

 private:
  std::size_t bound_ = 0;  // ids are < bound_
  std::size_t fixed_ = 0, declared_ = 0, rows_ = 0;
  std::string fixed_by_, how_to_declare_;
};

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
