#include "io/model_file.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "io/hdf5.hpp"

namespace sinapsis {
namespace {

constexpr const char* kFormat = "sinapsis-model";
constexpr std::int64_t kVersion = 1;

// Any failure to follow the layout is a ModelError naming the file.
[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw ModelError(path + ": not a sinapsis model: " + what);
}

// A model with a NaN or Inf parameter computes NaN: refused where it is.
// `values` is a row-major matrix of `cols` columns (a vector: one row).
void check_finite(const std::vector<float>& values, std::size_t cols, const std::string& where) {
  const auto bad_value = std::find_if(values.begin(), values.end(), [](float v) { return !std::isfinite(v); });
  if (bad_value == values.end()) return;
  const auto at = std::size_t(bad_value - values.begin());
  throw ModelError(where + " holds " + (std::isnan(*bad_value) ? "NaN" : "Inf") + " at [" +
                   (values.size() == cols ? "" : std::to_string(at / cols) + ", ") + std::to_string(at % cols) +
                   "]: a model with a non-finite parameter computes nothing but NaN");
}

std::size_t count_layers(hid_t layers) {
  H5G_info_t info{};
  H5Gget_info(layers, &info);
  return std::size_t(info.nlinks);
}

}  // namespace

ModelFile read_model_file(const std::string& path) {
  const h5::Handle file = h5::open_file(path);
  const auto format = h5::read_string_attribute(file.get(), "format", path);
  if (!format || *format != kFormat)
    bad(path, "root attribute format must be \"sinapsis-model\", got " +
                  (format ? "\"" + *format + "\"" : std::string("none")));
  const auto version = h5::read_number_attribute(file.get(), "version", path);
  if (!version || *version != double(kVersion))
    bad(path, "root attribute version must be 1, got " +
                  (version ? std::to_string(*version) : std::string("none")));
  if (!h5::exists(file.get(), "layers")) bad(path, "no group /layers");
  const h5::Handle layers = h5::open_group(file.get(), "layers", path);
  const std::size_t count = count_layers(layers.get());
  if (count == 0) bad(path, "/layers is empty");

  Architecture arch;
  std::vector<std::vector<float>> weights, biases;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string name = std::to_string(i);
    const std::string where = path + ": /layers/" + name;
    if (!h5::exists(layers.get(), name))
      bad(path, "/layers must hold groups 0.." + std::to_string(count - 1) + "; missing " + name);
    const h5::Handle group = h5::open_group(layers.get(), name, path);
    if (!h5::exists(group.get(), "weight")) bad(path, "/layers/" + name + " has no weight");
    if (!h5::exists(group.get(), "bias")) bad(path, "/layers/" + name + " has no bias");
    const h5::Handle w = h5::open_dataset(group.get(), "weight", path);
    const h5::Handle b = h5::open_dataset(group.get(), "bias", path);
    const auto wdims = h5::checked_shape(w.get(), where + "/weight");
    const auto bdims = h5::checked_shape(b.get(), where + "/bias");
    if (wdims.size() != 2) bad(path, "/layers/" + name + "/weight must be 2-D [fan_in, fan_out]");
    if (bdims.size() != 1 || bdims[0] != wdims[1])
      bad(path, "/layers/" + name + "/bias must be 1-D of length " + std::to_string(wdims[1]));
    const auto act_name = h5::read_string_attribute(group.get(), "activation", where);
    if (!act_name) bad(path, "/layers/" + name + " has no activation attribute");
    LayerSpec spec;
    spec.fan_in = wdims[0];
    spec.fan_out = wdims[1];
    try {
      spec.activation = parse_activation(*act_name, where);
    } catch (const UsageError& e) {
      throw ModelError(e.what());
    }
    spec.step_threshold = h5::read_number_attribute(group.get(), "threshold", where).value_or(0.0);
    if (!std::isfinite(spec.step_threshold))
      throw ModelError(where + ": attribute threshold is " + std::to_string(spec.step_threshold) +
                       ", not a finite number");
    arch.layers.push_back(spec);
    weights.push_back(h5::read_floats(w.get(), where + "/weight"));
    biases.push_back(h5::read_floats(b.get(), where + "/bias"));
    check_finite(weights.back(), spec.fan_out, where + "/weight");
    check_finite(biases.back(), spec.fan_out, where + "/bias");
  }
  try {
    arch.validate();
  } catch (const ModelError& e) {
    bad(path, e.what());
  }

  ModelFile result{Model<float>(arch), Loss::mse, false, "", {}, "", {}};
  for (std::size_t i = 0; i < count; ++i) {
    std::copy(weights[i].begin(), weights[i].end(), result.model.weight(i).data);
    std::copy(biases[i].begin(), biases[i].end(), result.model.bias(i).begin());
  }
  if (const auto loss = h5::read_string_attribute(file.get(), "loss", path)) {
    try {
      result.loss = parse_loss(*loss, path + ": attribute loss");
    } catch (const UsageError& e) {
      throw ModelError(e.what());
    }
    result.has_loss = true;
  }
  result.features = h5::read_string_attribute(file.get(), "features", path).value_or("");
  result.schema = h5::read_string_attribute(file.get(), "schema", path).value_or("");
  result.class_names = h5::read_string_list_attribute(file.get(), "class_names", path);
  if (h5::exists(file.get(), "preprocessing")) {
    const h5::Handle group = h5::open_group(file.get(), "preprocessing", path);
    for (const char* name : {"mean", "std"}) {
      if (!h5::exists(group.get(), name)) bad(path, std::string("/preprocessing has no ") + name);
      const h5::Handle set = h5::open_dataset(group.get(), name, path);
      const std::string where = path + ": /preprocessing/" + name;
      const auto dims = h5::checked_shape(set.get(), where);
      if (dims.size() != 1 || dims[0] != arch.inputs())
        bad(path, std::string("/preprocessing/") + name + " must be 1-D of length " + std::to_string(arch.inputs()));
      auto values = h5::read_floats(set.get(), where);
      check_finite(values, values.size(), where);
      (std::string(name) == "mean" ? result.standardizer.mean : result.standardizer.std) = std::move(values);
    }
    for (float sd : result.standardizer.std)
      if (!(sd > 0) || !std::isfinite(sd)) bad(path, "/preprocessing/std must hold finite values > 0");
  }
  return result;
}

void write_model_file(const std::string& path, const Model<float>& model, Loss loss,
                      const std::string& features, const Standardizer& standardizer) {
  write_model_file(path, model, loss, ModelInputs{features, standardizer, "", {}});
}

void write_model_file(const std::string& path, const Model<float>& model, Loss loss, const ModelInputs& inputs,
                      const std::function<void(std::int64_t file)>& extra) {
  const std::string& features = inputs.features;
  const Standardizer& standardizer = inputs.standardizer;
  // Checkpoints add three more copies of the parameters (extra).
  h5::NewFile file(path, 4 * model.parameters().size() * sizeof(float));
  h5::write_string_attribute(file.get(), "format", kFormat);
  h5::write_int_attribute(file.get(), "version", kVersion);
  h5::write_string_attribute(file.get(), "loss", std::string(loss_name(loss)));
  h5::write_string_attribute(file.get(), "features", features);
  if (!inputs.schema.empty()) h5::write_string_attribute(file.get(), "schema", inputs.schema);
  if (!inputs.class_names.empty()) h5::write_string_list_attribute(file.get(), "class_names", inputs.class_names);
  {
    const h5::Handle layers = h5::create_group(file.get(), "layers", path);
    const auto& specs = model.architecture().layers;
    for (std::size_t i = 0; i < specs.size(); ++i) {
      const h5::Handle group = h5::create_group(layers.get(), std::to_string(i), path);
      const auto w = model.weight(i);
      h5::write_floats(group.get(), "weight", {w.rows, w.cols}, w.data, path);
      h5::write_floats(group.get(), "bias", {w.cols}, model.bias(i).data(), path);
      h5::write_string_attribute(group.get(), "activation", std::string(activation_name(specs[i].activation)));
      if (specs[i].activation == Activation::step)
        h5::write_double_attribute(group.get(), "threshold", specs[i].step_threshold);
    }
  }
  if (standardizer.active()) {
    const h5::Handle group = h5::create_group(file.get(), "preprocessing", path);
    h5::write_floats(group.get(), "mean", {standardizer.mean.size()}, standardizer.mean.data(), path);
    h5::write_floats(group.get(), "std", {standardizer.std.size()}, standardizer.std.data(), path);
  }
  if (extra) extra(file.get());
  file.commit();
}

}  // namespace sinapsis
