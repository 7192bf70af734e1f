#include "core/dataset.hpp"

namespace sinapsis {

std::size_t output_units(const Dataset& data, Loss loss) {
  if (data.task == Task::regression) {
    if (loss != Loss::mse)
      throw ModelError("loss " + std::string(loss_name(loss)) +
                       " needs class labels; this data set has real-valued targets (use mse)");
    return data.targets.cols;
  }
  const std::size_t k = data.classes;
  switch (loss) {
    case Loss::categorical_cross_entropy:
      return k;
    case Loss::binary_cross_entropy:
      if (k > 2)
        throw ModelError("loss bce is for two classes; this data set has " + std::to_string(k) +
                         " (use cce with a softmax output)");
      return 1;
    case Loss::mse:
      return k <= 2 ? 1 : k;
  }
  return k;
}

template <class T>
EncodedData<T> encode(const Dataset& data, Loss loss, Activation output, std::size_t outputs,
                      const std::string& source) {
  EncodedData<T> out;
  const std::size_t n = data.size();
  out.features = Matrix<T>(n, data.dimension());
  for (std::size_t i = 0; i < data.features.values.size(); ++i)
    out.features.values[i] = T(data.features.values[i]);
  out.targets = Matrix<T>(n, outputs);
  if (data.task == Task::regression) {
    if (data.targets.cols != outputs)
      throw DataError(source + ": /labels has " + std::to_string(data.targets.cols) +
                      " target columns but the model has " + std::to_string(outputs) + " outputs");
    for (std::size_t i = 0; i < data.targets.values.size(); ++i)
      out.targets.values[i] = T(data.targets.values[i]);
    return out;
  }
  const bool signed_targets = loss == Loss::mse && output == Activation::tanh;
  const T off = signed_targets ? T{-1} : T{0};
  const std::size_t classes = outputs == 1 ? 2 : outputs;
  out.class_ids.resize(n);
  for (std::size_t r = 0; r < n; ++r) {
    const std::int64_t label = data.labels[r];
    if (label < 0 || std::size_t(label) >= classes)
      throw DataError(source + ": /labels row " + std::to_string(r) + " is class " +
                      std::to_string(label) + " but the model has " + std::to_string(classes) +
                      " classes (0.." + std::to_string(classes - 1) + ")");
    out.class_ids[r] = std::int32_t(label);
    if (outputs == 1) {
      out.targets(r, 0) = label == 1 ? T{1} : off;
    } else {
      for (std::size_t k = 0; k < outputs; ++k) out.targets(r, k) = off;
      out.targets(r, std::size_t(label)) = T{1};
    }
  }
  return out;
}

template EncodedData<float> encode<float>(const Dataset&, Loss, Activation, std::size_t,
                                          const std::string&);
template EncodedData<double> encode<double>(const Dataset&, Loss, Activation, std::size_t,
                                            const std::string&);

}  // namespace sinapsis
