// Model files (HDF5), readable by h5py and h5dump:
//   /                 attributes format = "sinapsis-model", version = 1,
//                     loss = "mse" | "bce" | "cce", features = "x1,x2" (input
//                     feature names, comma-separated; may be empty)
//   /layers/<i>       one group per dense layer, i = 0, 1, ...
//     weight          float32 [fan_in, fan_out]  (y = x W + b)
//     bias            float32 [fan_out]
//     @activation     "linear" | "step" | "sigmoid" | "tanh" | "relu" | "softmax"
//     @threshold      optional number, step units only (fire when z >= threshold)
//                     optional: schema (the input schema of the table the
//                     model was trained on, JSON: io/schema.hpp) and
//                     class_names (the output classes' names, in class-id order)
//   /preprocessing    optional: standardization of the inputs (after the
//     mean            float32 [inputs]   input features), x -> (x - mean) / std
//     std             float32 [inputs]
// Any float or integer type is accepted for weight and bias on reading.
// Files are written to a temporary name in the same directory and renamed,
// so a reader never sees a half-written model.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/loss.hpp"
#include "core/model.hpp"
#include "core/preprocess.hpp"

namespace sinapsis {

struct ModelFile {
  Model<float> model;
  Loss loss = Loss::mse;
  bool has_loss = false;  // hand-written files may omit the loss
  std::string features;      // FeatureSet::text(); "" = the data's own columns
  Standardizer standardizer;  // inactive when the file has no /preprocessing
  std::string schema;                    // "" when trained on data without one
  std::vector<std::string> class_names;  // empty when the data named none
};

// What a model file says of the model's inputs and outputs beside its weights.
struct ModelInputs {
  std::string features;  // FeatureSet::text()
  Standardizer standardizer;
  std::string schema;
  std::vector<std::string> class_names;
};

ModelFile read_model_file(const std::string& path);
// `extra`, if given, adds to the open file before it is flushed and renamed
// (checkpoints add their training state this way).
void write_model_file(const std::string& path, const Model<float>& model, Loss loss, const ModelInputs& inputs,
                      const std::function<void(std::int64_t file)>& extra = {});
// The same with only the input features and their standardization.
void write_model_file(const std::string& path, const Model<float>& model, Loss loss,
                      const std::string& features, const Standardizer& standardizer = {});

}  // namespace sinapsis
