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

struct PredictOptions {
  std::string model, data, out;
  int threads = 1;
  bool overwrite = false;
};

void describe(po::options_description& o, PredictOptions& v) {
  o.add_options()
    ("model", po::value(&v.model)->required(), "model file (model.h5)")
    ("data", po::value(&v.data)->required(), "data file (HDF5 /features; /labels optional)")
    ("out", po::value(&v.out)->required(), "CSV file: one row of outputs per sample")
    ("overwrite", po::bool_switch(&v.overwrite), "replace --out if it exists")
    ("threads", number(&v.threads, at_least(0))->default_value(v.threads), "BLAS threads (0: all cores)");
}

struct EvalOptions {
  std::string model, data, loss;
  int threads = 1;
};

void describe(po::options_description& o, EvalOptions& v) {
  o.add_options()
    ("model", po::value(&v.model)->required(), "model file (model.h5)")
    ("data", po::value(&v.data)->required(), "data file (HDF5 /features, /labels)")
    ("loss", po::value(&v.loss), "mse|bce|cce (default: the loss stored in the model file)")
    ("threads", number(&v.threads, at_least(0))->default_value(v.threads), "BLAS threads (0: all cores)");
}

}  // namespace

std::vector<CommandOptions> predict_options() {
  return {described<PredictOptions>("predict"), described<EvalOptions>("eval")};
}

int predict_command(const Args& args, Communicator& /*comm*/) {
  po::options_description options("sinapsis predict options");
  PredictOptions v;
  describe(options, v);
  po::variables_map values;
  if (!parse("predict", args, options, values, "--model M.h5 --data D.h5 --out P.csv"))
    return kExitSuccess;
  const std::string &model_path = v.model, &data_path = v.data, &out_path = v.out;
  refuse_output_over_inputs({"--out", out_path}, {{"--model", model_path}, {"--data", data_path}});
  refuse_existing_output({"--out", out_path}, v.overwrite);
  set_blas_threads(resolve_threads(v.threads));
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
  EvalOptions v;
  describe(options, v);
  po::variables_map values;
  if (!parse("eval", args, options, values, "--model M.h5 --data D.h5")) return kExitSuccess;
  const std::string &model_path = v.model, &data_path = v.data, &loss_text = v.loss;
  set_blas_threads(resolve_threads(v.threads));
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
