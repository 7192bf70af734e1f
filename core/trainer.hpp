// The single-process training loop: shuffle, batch, forward, backward, SGD
// step, evaluate, decide. Every buffer (workspace, batch, snapshots) is
// planned before the first step; steps allocate nothing.
//
// Reported per epoch (EpochMetrics):
//   train_loss    sample-weighted mean of the minibatch losses seen during the
//                 epoch (Keras' convention; with dropout on, it includes the
//                 dropout noise). Never includes the penalty.
//   val_loss, val_accuracy   one pass over the validation data in inference
//                 mode (NaN when there is none; accuracy NaN for regression)
//   test_loss, test_accuracy the same over the test data, if given (what the
//                 Playground plots as "test loss"; never used for decisions)
//   penalty       l1 * sum|w| + 0.5 * l2 * sum w^2 at the end of the epoch
//   learning_rate the rate of the epoch's last step
//   epoch_seconds wall time of the epoch, evaluation included
//   samples_per_second  training samples / time spent in training steps
#pragma once

#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <vector>

#include "core/dataset.hpp"
#include "core/early_stopping.hpp"
#include "core/network.hpp"
#include "core/optimizer.hpp"
#include "core/schedule.hpp"

namespace sinapsis {

enum class Monitor { val_loss, val_accuracy, train_loss };
enum class StopReason { max_epochs, early_stopping, diverged };

std::string_view stop_reason_name(StopReason reason);
Monitor parse_monitor(std::string_view name, std::string_view what);

struct TrainOptions {
  Loss loss = Loss::mse;
  std::size_t batch = 10;
  std::size_t epochs = 100;
  LearningRateSchedule schedule;
  SgdOptions sgd;
  double keep_prob = 1;
  EarlyStoppingOptions early_stopping;
  Monitor monitor = Monitor::val_loss;  // train_loss is used when there is no validation data
  std::uint64_t seed = 1;
  std::uint64_t rank = 0;  // this process' rank: each rank shuffles its part with its own stream
};

struct EpochMetrics {
  std::size_t epoch = 0;  // 1-based
  double train_loss = 0;
  double val_loss = std::numeric_limits<double>::quiet_NaN();
  double val_accuracy = std::numeric_limits<double>::quiet_NaN();
  double test_loss = std::numeric_limits<double>::quiet_NaN();
  double test_accuracy = std::numeric_limits<double>::quiet_NaN();
  double penalty = 0;
  double learning_rate = 0;
  double epoch_seconds = 0;
  double samples_per_second = 0;
  bool improved = false;
};

struct TrainResult {
  StopReason reason = StopReason::max_epochs;
  std::size_t epochs_run = 0;
  std::size_t best_epoch = 0;    // 1-based; the weights kept when restore_best
  double best_monitored = std::numeric_limits<double>::quiet_NaN();
};

struct Evaluation {
  double loss = 0;      // mean as documented in loss.hpp, no penalty
  double accuracy = std::numeric_limits<double>::quiet_NaN();
};

// Loss and accuracy of `model` on `data`, in batches of ws.capacity() rows.
template <class T>
Evaluation evaluate(const Model<T>& model, Workspace<T>& ws, const EncodedData<T>& data, Loss loss) {
  const std::size_t n = data.size();
  const std::size_t k = model.architecture().outputs();
  const Activation out_act = model.architecture().output_activation();
  double loss_total = 0;
  std::size_t correct = 0;
  for (std::size_t start = 0; start < n; start += ws.capacity()) {
    const std::size_t rows = std::min(ws.capacity(), n - start);
    ConstMatrixView<T> x{data.features.values.data() + start * data.features.cols, rows,
                         data.features.cols};
    ConstMatrixView<T> t{data.targets.values.data() + start * k, rows, k};
    MatrixView<T> out = forward(model, ws, x);
    loss_total += loss_sum<T>(loss, ws.logits(rows), out, t);
    if (!data.class_ids.empty())
      for (std::size_t r = 0; r < rows; ++r)
        correct += predicted_class(out.row(r), k, out_act) == data.class_ids[start + r];
  }
  Evaluation e;
  e.loss = loss_total / loss_normalizer(loss, n, k);
  if (!data.class_ids.empty()) e.accuracy = double(correct) / double(n);
  return e;
}

template <class T>
class Trainer {
 public:
  using EpochCallback = std::function<void(const EpochMetrics&)>;

  // val_data and test_data may be null.
  Trainer(Model<T>& model, const EncodedData<T>& train_data, const EncodedData<T>* val_data,
          TrainOptions options, const EncodedData<T>* test_data = nullptr)
      : model_(model),
        train_(train_data),
        val_(val_data),
        test_(test_data),
        options_(options),
        optimizer_(model.parameters().size(), model.weight_count(), options.sgd),
        ws_(model.architecture(), std::max<std::size_t>(options.batch, 256)),
        batch_x_(options.batch, train_data.features.cols),
        batch_t_(options.batch, model.architecture().outputs()),
        order_(train_data.size()),
        early_(options.early_stopping, options.monitor == Monitor::val_accuracy && val_data
                                             ? Goal::maximize
                                             : Goal::minimize),
        best_parameters_(model.parameters().begin(), model.parameters().end()),
        good_parameters_(best_parameters_) {
    std::iota(order_.begin(), order_.end(), std::size_t{0});
    model.architecture().check_trainable();
    check_loss_output(options.loss, model.architecture().output_activation());
    if (options.batch == 0) throw UsageError("--batch must be >= 1, got 0");
    if (!(options.keep_prob > 0 && options.keep_prob <= 1))
      throw UsageError("--keep-prob must be in (0, 1], got " + std::to_string(options.keep_prob));
    if (!(options.schedule.base > 0))
      throw UsageError("--lr must be > 0, got " + std::to_string(options.schedule.base));
    if (train_data.size() == 0) throw DataError("the training data set is empty");
    if (train_data.features.cols != model.architecture().inputs())
      throw ModelError("the data has " + std::to_string(train_data.features.cols) +
                       " features but the model takes " +
                       std::to_string(model.architecture().inputs()) + " inputs");
  }

  TrainResult run(const EpochCallback& on_epoch = {}) {
    TrainResult result;
    const bool restore = early_.enabled() && options_.early_stopping.restore_best;
    for (std::size_t epoch = 0; epoch < options_.epochs; ++epoch) {
      EpochMetrics m = run_epoch(epoch);
      result.epochs_run = epoch + 1;
      if (!std::isfinite(m.train_loss) || !all_finite(model_.parameters())) {
        // Keep the last weights that were finite; report and stop.
        std::copy(good_parameters_.begin(), good_parameters_.end(), model_.parameters().begin());
        result.reason = StopReason::diverged;
        if (on_epoch) on_epoch(m);
        return result;
      }
      std::copy(model_.parameters().begin(), model_.parameters().end(), good_parameters_.begin());
      const EarlyStopping::Decision d = early_.update(monitored(m));
      m.improved = d.improved;
      if (d.improved) {
        result.best_epoch = epoch + 1;
        result.best_monitored = early_.state().best;
        if (restore)
          std::copy(model_.parameters().begin(), model_.parameters().end(),
                    best_parameters_.begin());
      }
      if (on_epoch) on_epoch(m);
      if (d.stop) {
        result.reason = StopReason::early_stopping;
        break;
      }
    }
    if (restore)
      std::copy(best_parameters_.begin(), best_parameters_.end(), model_.parameters().begin());
    return result;
  }

  // One SGD step on the rows order_[first, first+n) (before the first epoch's
  // shuffle, rows first..first+n-1); returns the batch loss sum.
  double step(std::size_t first, std::size_t n, double learning_rate) {
    const std::size_t d = train_.features.cols, k = batch_t_.cols;
    for (std::size_t r = 0; r < n; ++r) {
      const std::size_t src = order_[first + r];
      std::copy_n(train_.features.values.data() + src * d, d, batch_x_.values.data() + r * d);
      std::copy_n(train_.targets.values.data() + src * k, k, batch_t_.values.data() + r * k);
    }
    ConstMatrixView<T> x = batch_x_.view().first_rows(n);
    ConstMatrixView<T> t = batch_t_.view().first_rows(n);
    const DropoutPlan dropout{options_.keep_prob, options_.seed, global_step_};
    model_.zero_gradients();
    forward(model_, ws_, x, dropout);
    const double loss = loss_sum<T>(options_.loss, ws_.logits(n), ws_.output(n), t);
    const T scale = T(1 / loss_normalizer(options_.loss, n, k));
    backward(model_, ws_, x, t, options_.loss, scale, options_.keep_prob);
    optimizer_.step(model_.parameters(), model_.gradients(), learning_rate);
    ++global_step_;
    return loss;
  }

 private:
  using Clock = std::chrono::steady_clock;

  EpochMetrics run_epoch(std::size_t epoch) {
    const auto start = Clock::now();
    EpochMetrics m;
    m.epoch = epoch + 1;
    Rng rng(derive_seed({options_.seed, std::uint64_t(Stream::shuffle), epoch, options_.rank}));
    for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng.below(i)]);
    const std::size_t n = train_.size(), k = batch_t_.cols;
    double loss_total = 0;
    for (std::size_t first = 0; first < n; first += options_.batch) {
      m.learning_rate = options_.schedule.rate(epoch, global_step_);
      loss_total += step(first, std::min(options_.batch, n - first), m.learning_rate);
    }
    const double train_seconds = seconds_since(start);
    m.train_loss = loss_total / loss_normalizer(options_.loss, n, k);
    if (val_ != nullptr) {
      const Evaluation e = evaluate(model_, ws_, *val_, options_.loss);
      m.val_loss = e.loss;
      m.val_accuracy = e.accuracy;
    }
    if (test_ != nullptr) {
      const Evaluation e = evaluate(model_, ws_, *test_, options_.loss);
      m.test_loss = e.loss;
      m.test_accuracy = e.accuracy;
    }
    m.penalty = options_.sgd.penalty.value<T>(model_.parameters().first(model_.weight_count()));
    m.epoch_seconds = seconds_since(start);
    m.samples_per_second = double(n) / std::max(train_seconds, 1e-9);
    return m;
  }

  double monitored(const EpochMetrics& m) const {
    if (val_ == nullptr || options_.monitor == Monitor::train_loss) return m.train_loss;
    return options_.monitor == Monitor::val_accuracy ? m.val_accuracy : m.val_loss;
  }

  static bool all_finite(std::span<const T> values) {
    for (T v : values)
      if (!std::isfinite(v)) return false;
    return true;
  }
  static double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  }

  Model<T>& model_;
  const EncodedData<T>& train_;
  const EncodedData<T>* val_;
  const EncodedData<T>* test_;
  TrainOptions options_;
  Sgd<T> optimizer_;
  Workspace<T> ws_;
  Matrix<T> batch_x_;
  Matrix<T> batch_t_;
  std::vector<std::size_t> order_;
  EarlyStopping early_;
  std::vector<T> best_parameters_;
  std::vector<T> good_parameters_;
  std::uint64_t global_step_ = 0;
};

}  // namespace sinapsis
