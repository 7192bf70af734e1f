// sinapsis train: one process, one model, from a data file to RUN_DIR with
// model.h5 and metrics.csv.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>

#include "core/blas_runtime.hpp"
#include "core/init.hpp"
#include "core/trainer.hpp"
#include "io/atomic_file.hpp"
#include "io/data_file.hpp"
#include "io/model_file.hpp"
#include "launch/options.hpp"
#include "launch/pipeline.hpp"

namespace sinapsis::cli {
namespace {

struct TrainCommandOptions {
  DataOptions input;
  std::string out, init_model;
  std::string hidden = "8,8", activation = "tanh", output = "auto", loss = "auto";
  std::string init = "glorot", schedule = "constant", monitor = "val_loss";
  double lr = 0.03, momentum = 0, l1 = 0, l2 = 0, keep_prob = 1, min_delta = 0;
  double lr_decay = 0.5;
  std::size_t batch = 10, epochs = 100, patience = 0, lr_decay_every = 10, warmup_steps = 0;
  std::uint64_t seed = 1;
  int threads = 0;
  bool nesterov = false, no_restore_best = false, overwrite = false, quiet = false;
};

void describe(po::options_description& o, TrainCommandOptions& v) {
  o.add_options()
    ("data", po::value(&v.input.data)->required(), "training data: an HDF5 file (/features, /labels), a shard directory or a glob")
    ("val-data", po::value(&v.input.val_data), "validation data, evaluated after every epoch (early stopping watches it)")
    ("test-data", po::value(&v.input.test_data), "test data, evaluated after every epoch (reported only)")
    ("val-split", po::value(&v.input.val_split)->default_value(0), "fraction of --data held out for validation (seeded, stratified)")
    ("test-split", po::value(&v.input.test_split)->default_value(0), "fraction of --data held out for testing; the Playground's train ratio R% is --test-split 1-R/100")
    ("features", po::value(&v.input.features)->default_value(""), "input features from 2-D points: any of x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2 (default: the data's columns)")
    ("standardize", po::value(&v.input.standardize)->default_value("auto"), "auto|on|off: scale inputs to mean 0, std 1 with the training data's statistics (auto: on, except for Playground data)")
    ("out", po::value(&v.out)->required(), "run directory for model.h5 and metrics.csv")
    ("overwrite", po::bool_switch(&v.overwrite), "replace a run already in --out")
    ("hidden", po::value(&v.hidden)->default_value(v.hidden), "hidden layer widths, e.g. 8,8 ('none' for no hidden layer)")
    ("activation", po::value(&v.activation)->default_value(v.activation), "hidden units: linear|sigmoid|tanh|relu")
    ("output", po::value(&v.output)->default_value(v.output), "output units: linear|sigmoid|tanh|softmax (auto: softmax for cce, sigmoid for bce, linear for mse)")
    ("loss", po::value(&v.loss)->default_value(v.loss), "mse|bce|cce (auto: cce for class labels, mse for real targets)")
    ("init", po::value(&v.init)->default_value(v.init), "weight initializer: glorot|he|playground")
    ("init-model", po::value(&v.init_model), "start from the weights of this model file instead")
    ("lr", po::value(&v.lr)->default_value(v.lr), "learning rate (> 0)")
    ("lr-schedule", po::value(&v.schedule)->default_value(v.schedule), "constant|step (multiply by --lr-decay every --lr-decay-every epochs)")
    ("lr-decay", po::value(&v.lr_decay)->default_value(v.lr_decay), "step schedule factor, in (0, 1]")
    ("lr-decay-every", po::value(&v.lr_decay_every)->default_value(v.lr_decay_every), "step schedule period, epochs (>= 1)")
    ("warmup-steps", po::value(&v.warmup_steps)->default_value(v.warmup_steps), "linear learning-rate warm-up over this many steps (0: none)")
    ("momentum", po::value(&v.momentum)->default_value(v.momentum), "SGD momentum, in [0, 1)")
    ("nesterov", po::bool_switch(&v.nesterov), "use Nesterov momentum")
    ("batch", po::value(&v.batch)->default_value(v.batch), "samples per SGD step (>= 1)")
    ("epochs", po::value(&v.epochs)->default_value(v.epochs), "maximum passes over the training data (>= 1)")
    ("l1", po::value(&v.l1)->default_value(v.l1), "L1 penalty on weights: l1 * sum|w| (>= 0)")
    ("l2", po::value(&v.l2)->default_value(v.l2), "L2 penalty on weights: l2 * 0.5 * sum w^2 (>= 0)")
    ("keep-prob", po::value(&v.keep_prob)->default_value(v.keep_prob), "dropout: probability of KEEPING a hidden unit, in (0, 1]")
    ("patience", po::value(&v.patience)->default_value(v.patience), "early stopping: epochs without improvement before stopping (0: off)")
    ("min-delta", po::value(&v.min_delta)->default_value(v.min_delta), "early stopping: smallest change that counts as improvement (>= 0)")
    ("monitor", po::value(&v.monitor)->default_value(v.monitor), "early stopping metric: val_loss|val_accuracy|train_loss")
    ("no-restore-best", po::bool_switch(&v.no_restore_best), "keep the last weights, not the best, when early stopping")
    ("seed", po::value(&v.seed)->default_value(v.seed), "seed for initialization, shuffling and dropout")
    ("threads", po::value(&v.threads)->default_value(v.threads), "BLAS threads (0: all cores of this host)")
    ("quiet", po::bool_switch(&v.quiet), "print only the final summary");
}

void validate(const TrainCommandOptions& v) {
  validate(v.input);
  require_positive(v.lr, "lr");
  require_in_unit_interval(v.keep_prob, "keep-prob");
  require_non_negative(v.l1, "l1");
  require_non_negative(v.l2, "l2");
  require_non_negative(v.min_delta, "min-delta");
  if (!(v.momentum >= 0 && v.momentum < 1))
    throw UsageError("--momentum must be in [0, 1), got " + std::to_string(v.momentum));
  if (v.batch < 1) throw UsageError("--batch must be >= 1, got 0");
  if (v.epochs < 1) throw UsageError("--epochs must be >= 1, got 0");
  if (v.schedule != "constant" && v.schedule != "step")
    throw UsageError("--lr-schedule: unknown schedule '" + v.schedule + "' (expected constant or step)");
  require_in_unit_interval(v.lr_decay, "lr-decay");
  if (v.lr_decay_every < 1) throw UsageError("--lr-decay-every must be >= 1, got 0");
  if (v.nesterov && v.momentum == 0) throw UsageError("--nesterov needs --momentum > 0");
  const Activation hidden = parse_activation(v.activation, "--activation");
  if (!is_hidden_activation(hidden))
    throw UsageError("--activation: " + v.activation + " is an output unit, not a hidden one");
  if (hidden == Activation::step)
    throw UsageError("--activation: step units cannot be trained (derivative zero almost everywhere); use sigmoid, tanh or relu");
  if (v.output != "auto") {
    const Activation out = parse_activation(v.output, "--output");
    if (out == Activation::step)
      throw UsageError("--output: step units cannot be trained; use sigmoid, tanh or linear");
  }
  if (v.loss != "auto") parse_loss(v.loss, "--loss");
  parse_initializer(v.init, "--init");
  parse_monitor(v.monitor, "--monitor");
  parse_size_list(v.hidden, "hidden");
  namespace fs = std::filesystem;
  if (fs::exists(v.out) && !fs::is_directory(v.out))
    throw UsageError("--out: " + v.out + " exists and is not a directory");
  if (fs::exists(fs::path(v.out) / "model.h5") && !v.overwrite)
    throw UsageError("--out: " + v.out + " already holds a run (model.h5); pass --overwrite to replace it");
}

Activation default_output(Loss loss) {
  switch (loss) {
    case Loss::categorical_cross_entropy: return Activation::softmax;
    case Loss::binary_cross_entropy: return Activation::sigmoid;
    case Loss::mse: return Activation::linear;
  }
  return Activation::linear;
}

std::string csv_number(double value) {
  if (std::isnan(value)) return "";
  std::ostringstream text;
  text << std::setprecision(9) << value;
  return text.str();
}

}  // namespace

int train_command(const Args& args) {
  po::options_description options("sinapsis train options");
  TrainCommandOptions v;
  describe(options, v);
  po::variables_map values;
  if (!parse("train", args, options, values, "--data TRAIN.h5 --out RUN_DIR [options]"))
    return kExitSuccess;
  validate(v);
  set_blas_threads(resolve_threads(v.threads));

  DataOptions input = v.input;
  input.seed = v.seed;
  PreparedData data = prepare_training_data(input);
  const Dataset& train_raw = data.train;
  std::optional<ModelFile> start;
  if (!v.init_model.empty()) {
    start.emplace(read_model_file(v.init_model));
    start->model.architecture().check_trainable();
  }
  const Loss loss = v.loss != "auto"           ? parse_loss(v.loss, "--loss")
                    : start && start->has_loss ? start->loss
                    : train_raw.task == Task::classification ? Loss::categorical_cross_entropy
                                                             : Loss::mse;
  std::optional<Model<float>> model;
  if (start) {
    model.emplace(std::move(start->model));
  } else {
    const Activation output = v.output == "auto" ? default_output(loss) : parse_activation(v.output, "--output");
    const auto hidden = parse_size_list(v.hidden, "hidden");
    model.emplace(Architecture::mlp(train_raw.dimension(), hidden, parse_activation(v.activation, "--activation"),
                                    output_units(train_raw, loss), output));
    initialize(*model, parse_initializer(v.init, "--init"), v.seed);
  }
  const Architecture& arch = model->architecture();
  check_loss_output(loss, arch.output_activation());
  if (arch.inputs() != train_raw.dimension())
    throw ModelError("model takes " + std::to_string(arch.inputs()) + " inputs but " + v.input.data +
                     " has " + std::to_string(train_raw.dimension()) + " features");
  const auto encode_part = [&](const std::optional<Dataset>& part, const std::string& file) {
    std::optional<EncodedData<float>> encoded;
    if (part) encoded = encode<float>(*part, loss, arch.output_activation(), arch.outputs(), file.empty() ? v.input.data : file);
    return encoded;
  };
  const auto train_data = encode<float>(train_raw, loss, arch.output_activation(), arch.outputs(), v.input.data);
  const auto val_data = encode_part(data.val, v.input.val_data);
  const auto test_data = encode_part(data.test, v.input.test_data);

  TrainOptions t;
  t.loss = loss;
  t.batch = v.batch;
  t.epochs = v.epochs;
  t.schedule = {v.lr, v.schedule == "step" ? ScheduleKind::step_decay : ScheduleKind::constant,
                v.lr_decay, v.lr_decay_every, v.warmup_steps};
  t.sgd = {v.momentum, v.nesterov, {v.l1, v.l2}};
  t.keep_prob = v.keep_prob;
  t.early_stopping = {v.patience, v.min_delta, !v.no_restore_best};
  t.monitor = parse_monitor(v.monitor, "--monitor");
  t.seed = v.seed;

  // Every check (shapes, units, loss) happens in the Trainer's constructor,
  // before anything is written to RUN_DIR.
  Trainer<float> trainer(*model, train_data, val_data ? &*val_data : nullptr, t, test_data ? &*test_data : nullptr);
  std::filesystem::create_directories(v.out);
  AtomicFile metrics((std::filesystem::path(v.out) / "metrics.csv").string());
  metrics.stream() << "epoch,train_loss,val_loss,val_accuracy,penalty,learning_rate,epoch_seconds,samples_per_second,test_loss,test_accuracy\n";
  if (!v.quiet)
    std::cout << "sinapsis train: " << arch.describe() << ", " << arch.parameter_count()
              << " parameters, loss " << loss_name(loss) << ", " << train_data.size()
              << " training samples" << (val_data ? ", " + std::to_string(val_data->size()) + " validation" : "")
              << std::endl;
  const std::size_t print_every = std::max<std::size_t>(1, v.epochs / 20);
  EpochMetrics last;
  const TrainResult result = trainer.run([&](const EpochMetrics& m) {
    last = m;
    metrics.stream() << m.epoch << ',' << csv_number(m.train_loss) << ',' << csv_number(m.val_loss) << ','
                     << csv_number(m.val_accuracy) << ',' << csv_number(m.penalty) << ','
                     << csv_number(m.learning_rate) << ',' << csv_number(m.epoch_seconds) << ','
                     << csv_number(m.samples_per_second) << ',' << csv_number(m.test_loss) << ','
                     << csv_number(m.test_accuracy) << '\n';
    if (!v.quiet && (m.epoch % print_every == 0 || m.epoch == v.epochs || m.epoch == 1))
      std::cout << "epoch " << m.epoch << "  train_loss " << m.train_loss
                << (val_data ? "  val_loss " + csv_number(m.val_loss) : "")
                << (val_data && !std::isnan(m.val_accuracy) ? "  val_accuracy " + csv_number(m.val_accuracy) : "")
                << (test_data ? "  test_loss " + csv_number(m.test_loss) : "")
                << "  penalty " << m.penalty << "  " << std::fixed << std::setprecision(0)
                << m.samples_per_second << " samples/s" << std::defaultfloat << std::setprecision(6)
                << std::endl;
  });
  write_model_file((std::filesystem::path(v.out) / "model.h5").string(), *model, loss, data.features.text(),
                   data.standardizer);
  metrics.commit();
  if (result.reason == StopReason::diverged)
    throw std::runtime_error("training diverged in epoch " + std::to_string(last.epoch) +
                             " (loss " + csv_number(last.train_loss) + "); " + v.out +
                             "/model.h5 holds the last finite weights. Lower --lr?");
  std::cout << "stopped: " << stop_reason_name(result.reason) << " after " << result.epochs_run
            << " epochs; last train_loss " << last.train_loss;
  if (result.best_epoch > 0 && t.early_stopping.patience_epochs > 0 && t.early_stopping.restore_best)
    std::cout << "; kept the weights of epoch " << result.best_epoch;
  // The model as saved, on the held-out parts.
  Workspace<float> ws(arch, 1024);
  for (const auto& [name, part] : {std::pair{"val", &val_data}, std::pair{"test", &test_data}})
    if (*part) {
      const Evaluation e = evaluate(*model, ws, **part, loss);
      std::cout << "\n" << name << "_loss " << e.loss;
      if (!std::isnan(e.accuracy)) std::cout << "  " << name << "_accuracy " << e.accuracy;
    }
  std::cout << "\nwrote " << v.out << "/model.h5 and " << v.out << "/metrics.csv" << std::endl;
  return kExitSuccess;
}

}  // namespace sinapsis::cli
