// sinapsis predict and sinapsis eval: a trained model applied to a data file.
#include <iomanip>
#include <iostream>
#include <optional>

#include "core/blas_runtime.hpp"
#include "core/trainer.hpp"
#include "io/atomic_file.hpp"
#include "io/data_file.hpp"
#include "io/model_file.hpp"
#include "launch/options.hpp"
#include "launch/output_paths.hpp"
#include "launch/pipeline.hpp"

namespace sinapsis::cli {
namespace {

// Reading data for a model: its class ids must be classes the model has.
ReadOptions model_labels(const ModelFile& file, const std::string& model_path, LabelsRequired required) {
  ReadOptions read;
  read.labels = required;
  const std::size_t outputs = file.model.architecture().outputs();
  read.classes = outputs == 1 ? 2 : outputs;
  read.classes_from = "the model " + model_path;
  return read;
}

}  // namespace

int predict_command(const Args& args, Communicator& /*comm*/) {
  po::options_description options("sinapsis predict options");
  std::string model_path, data_path, out_path;
  int threads = 1;
  bool overwrite = false;
  options.add_options()
    ("model", po::value(&model_path)->required(), "model file (model.h5)")
    ("data", po::value(&data_path)->required(), "data file (HDF5 /features; /labels optional)")
    ("out", po::value(&out_path)->required(), "CSV file: one row of outputs per sample")
    ("overwrite", po::bool_switch(&overwrite), "replace --out if it exists")
    ("threads", po::value(&threads)->default_value(threads), "BLAS threads (0: all cores)");
  po::variables_map values;
  if (!parse("predict", args, options, values, "--model M.h5 --data D.h5 --out P.csv"))
    return kExitSuccess;
  refuse_output_over_inputs({"--out", out_path}, {{"--model", model_path}, {"--data", data_path}});
  refuse_existing_output({"--out", out_path}, overwrite);
  set_blas_threads(resolve_threads(threads));
  const ModelFile file = read_model_file(model_path);
  Dataset data = read_data_file(data_path, model_labels(file, model_path, LabelsRequired::no));
  const Architecture& arch = file.model.architecture();
  apply_model_preprocessing(file, data, data_path);

  Workspace<float> ws(arch, std::min<std::size_t>(1024, data.size()));
  AtomicFile out(out_path);
  auto& stream = out.stream();
  for (std::size_t k = 0; k < arch.outputs(); ++k) stream << (k ? "," : "") << "output_" << k;
  stream << '\n' << std::setprecision(9);
  for (std::size_t start = 0; start < data.size(); start += ws.capacity()) {
    const std::size_t rows = std::min(ws.capacity(), data.size() - start);
    ConstMatrixView<float> x{data.features.values.data() + start * data.dimension(), rows, data.dimension()};
    const MatrixView<float> y = forward(file.model, ws, x);
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t k = 0; k < y.cols; ++k) stream << (k ? "," : "") << y(r, k);
      stream << '\n';
    }
  }
  out.commit();
  std::cout << "wrote " << data.size() << " predictions to " << out_path << std::endl;
  return kExitSuccess;
}

int eval_command(const Args& args, Communicator& /*comm*/) {
  po::options_description options("sinapsis eval options");
  std::string model_path, data_path, loss_text;
  int threads = 1;
  options.add_options()
    ("model", po::value(&model_path)->required(), "model file (model.h5)")
    ("data", po::value(&data_path)->required(), "data file (HDF5 /features, /labels)")
    ("loss", po::value(&loss_text), "mse|bce|cce (default: the loss stored in the model file)")
    ("threads", po::value(&threads)->default_value(threads), "BLAS threads (0: all cores)");
  po::variables_map values;
  if (!parse("eval", args, options, values, "--model M.h5 --data D.h5")) return kExitSuccess;
  set_blas_threads(resolve_threads(threads));
  std::optional<Loss> chosen;
  if (!loss_text.empty()) chosen = parse_loss(loss_text, "--loss");
  const ModelFile file = read_model_file(model_path);
  const Architecture& arch = file.model.architecture();
  const Loss loss = chosen ? *chosen : (file.has_loss ? file.loss : Loss::mse);
  check_loss_output(loss, arch.output_activation());
  ReadOptions read = model_labels(file, model_path, LabelsRequired::yes);
  read.class_ids = loss != Loss::mse;
  Dataset data = read_data_file(data_path, read);
  apply_model_preprocessing(file, data, data_path);
  const auto encoded = encode<float>(data, loss, arch.output_activation(), arch.outputs(), data_path);
  Workspace<float> ws(arch, std::min<std::size_t>(1024, data.size()));
  const Evaluation e = evaluate(file.model, ws, encoded, loss);
  std::cout << "samples " << data.size() << "  loss (" << loss_name(loss) << ") "
            << std::setprecision(6) << e.loss;
  if (!std::isnan(e.accuracy)) std::cout << "  accuracy " << e.accuracy;
  std::cout << std::endl;
  return kExitSuccess;
}

}  // namespace sinapsis::cli
