// The training loop of one rank: batch (the rows core/sampler.hpp plans),
// forward, backward, sum over the ranks, SGD step, evaluate, decide. Every buffer (workspace, batch, snapshots) is
// planned before the first step; steps allocate nothing.
//
// Reported per epoch (EpochMetrics):
//   train_loss    sample-weighted mean of the minibatch losses seen during the
//                 epoch (Keras' convention; with dropout on, it includes the
//                 dropout noise). Never includes the penalty.
//   train_accuracy  the fraction of training samples the model classed right
//                 in the step that trained on them (the same convention: the
//                 weights moved during the epoch, dropout noise included);
//                 NaN for regression
//   val_loss, val_accuracy   one pass over the validation data in inference
//                 mode (NaN when there is none; accuracy NaN for regression)
//   test_loss, test_accuracy the same over the test data, if given (what the
//                 Playground plots as "test loss"; never used for decisions)
//   penalty       l1 * sum|w| + 0.5 * l2 * sum w^2 at the end of the epoch
//   learning_rate the rate of the epoch's last step
//   epoch_seconds wall time of the epoch, evaluation included
//   samples_per_second  training samples / time spent in training steps
//   compute_seconds, comm_seconds, io_seconds  where the epoch's step time
//                 went: forward/backward/update, summing gradients across
//                 ranks, assembling batches from the shuffled rows. With an
//                 overlapped exchange comm_seconds is the exposed part (the
//                 time the step waited for its sums after backward);
//   comm_hidden_seconds  the exchange's time that ran behind compute
//   bytes_per_step gradient bytes each rank puts into the exchange per step
//                 (2 per value with --grad-precision bf16/fp16)
//   skipped_steps  steps not applied because the fp16 exchange overflowed
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "core/batch_assembler.hpp"
#include "core/coordinator.hpp"
#include "core/dataset.hpp"
#include "core/network.hpp"
#include "core/optimizer.hpp"
#include "core/rank_group.hpp"
#include "core/sampler.hpp"
#include "core/schedule.hpp"
#include "core/stream_plan.hpp"
#include "core/streamed_batches.hpp"

namespace sinapsis {

enum class Monitor { val_loss, val_accuracy, train_loss };

// Why a rank asks the run to stop after the current step: someone asked
// (a signal from an operator or a scheduler), or a deadline is near.
// Each kind has its own vote slot, so every rank learns the real reason.
enum class StopRequest { none, asked, deadline };

std::string_view stop_reason_name(StopReason reason);
Monitor parse_monitor(std::string_view name, std::string_view what);

struct TrainOptions {
  Loss loss = Loss::mse;
  std::size_t batch = 10;
  std::size_t epochs = 100;
  LearningRateSchedule schedule;
  OptimizerOptions optimizer;
  double keep_prob = 1;
  EarlyStoppingOptions early_stopping;
  CheckpointPolicy checkpoints;  // when EpochMetrics::checkpoint asks for one
  Monitor monitor = Monitor::val_loss;  // train_loss is used when there is no validation data
  std::uint64_t seed = 1;
  // Assemble the next batch on a helper thread while this one computes:
  // automatic = when a batch holds at least kPrefetchFloats values.
  enum class Prefetch { automatic, on, off } prefetch = Prefetch::automatic;
  // 0: one fused sum of the whole gradient after backward. Otherwise the
  // gradient is summed in buckets of about this many values, started from
  // backward as soon as they are final and run in the background
  // (core/gradient_buckets.hpp); one rank has nothing to exchange either way.
  std::size_t bucket_floats = 0;
  // How gradients cross the wire (core/half.hpp; float models only). With
  // fp16 the loss gradient is multiplied by a loss scale (2^16 at first) so
  // small gradients do not flush to zero; a step whose summed gradients
  // overflowed (non-finite: the same bits on every rank) is skipped on every
  // rank and the scale halved; after kScaleGrowthSteps good steps it doubles.
  GradPrecision grad_precision = GradPrecision::fp32;
  // --lr-schedule plateau: ReduceLROnPlateau's factor and patience (epochs),
  // on the monitored metric.
  double plateau_factor = 0.1;
  std::size_t plateau_patience = 10;
  // Applied to the gradient summed over the ranks (the same on every rank),
  // before the optimizer, as PyTorch's clip_grad_norm_ (max_norm: scaled by
  // clip_norm / (norm + 1e-6) when that is below 1; the L2 norm over the whole
  // gradient) and clip_grad_value_ (each value clamped to [-v, v]). 0: off.
  double clip_norm = 0, clip_value = 0;
  // Which rows each rank trains on in each epoch, in what order
  // (core/sampler.hpp, core/stream_plan.hpp). shard: the rows the rank was
  // given, shuffled whole every epoch; none: those rows in order; global:
  // every rank holds the whole data set (files: its files as row ranges,
  // or the blocks that train when --val-split holds some out) or streams
  // it, and trains on its stretch of the epoch's block permutation through
  // a shuffle buffer of `buffer` rows.
  struct RowOrder {
    ShuffleMode shuffle = ShuffleMode::shard;
    std::vector<RowRange> files;
    std::size_t block_rows = 1, buffer = 1;
  } order;
};

// Training rows read as they are needed instead of held (--data-in-memory
// off): the batches, this rank's rows per epoch, and whether they are
// classes (train_accuracy).
template <class T>
struct StreamedEvaluation;

template <class T>
struct StreamedTraining {
  StreamedBatches<T>& batches;
  std::size_t rows = 0;
  bool classes = false;
  // Validation and test data streamed too (the trainer's val_data/test_data
  // then hold no rows): read a chunk at a time at each evaluation. A chunk a
  // rank cannot read is voted in the epoch's sum: every rank stops with the
  // epoch trained but not judged, as a stop request mid-epoch would.
  const StreamedEvaluation<T>* val = nullptr;
  const StreamedEvaluation<T>* test = nullptr;
};

struct EpochMetrics {
  std::size_t epoch = 0;  // 1-based
  double train_loss = 0;
  double train_accuracy = std::numeric_limits<double>::quiet_NaN();
  double val_loss = std::numeric_limits<double>::quiet_NaN();
  double val_accuracy = std::numeric_limits<double>::quiet_NaN();
  double test_loss = std::numeric_limits<double>::quiet_NaN();
  double test_accuracy = std::numeric_limits<double>::quiet_NaN();
  double penalty = 0;
  double learning_rate = 0;
  double epoch_seconds = 0;
  double samples_per_second = 0;
  double compute_seconds = 0;
  double comm_seconds = 0;
  double io_seconds = 0;
  double comm_hidden_seconds = 0;
  double bytes_per_step = 0;
  std::size_t skipped_steps = 0;
  bool improved = false;
  bool checkpoint = false;  // the coordinator asks rank 0 to write a checkpoint of this epoch
  // The epoch was cut short by an agreed stop request after `steps_done`
  // steps: only the checkpoint matters (no metrics; the epoch continues on
  // resume).
  bool partial = false;
  std::size_t steps_done = 0;
  std::size_t diverged_step = 0;  // 1-based step whose gradients were not finite (0: none)
};

struct TrainResult {
  StopReason reason = StopReason::max_epochs;
  StopRequest request = StopRequest::none;  // with StopReason::requested: asked if any rank was asked
  std::size_t diverged_epoch = 0;  // 1-based, with `diverged_step` (1-based within the epoch)
  std::size_t diverged_step = 0;
  std::size_t epochs_run = 0;    // epochs done by the end, earlier parts of a resumed run included
  std::size_t best_epoch = 0;    // 1-based; the weights kept when restore_best
  double best_monitored = std::numeric_limits<double>::quiet_NaN();
  // A rank could not read a batch (streamed data: a file gone or damaged):
  // every rank stopped before that step, as on a stop request (reason
  // requested, the state checkpointable); `data_error` is this rank's error
  // ("" on the ranks that read theirs).
  bool data_failed = false;
  std::string data_error;
};

struct Evaluation {
  double loss = 0;      // mean as documented in loss.hpp, no penalty
  double accuracy = std::numeric_limits<double>::quiet_NaN();
  // [true class][predicted class] counts, when asked for (classifiers)
  std::vector<std::vector<std::size_t>> confusion;
};

// The classes a model's output tells apart: K for K > 1 units, 2 for one.
inline std::size_t output_classes(std::size_t outputs) { return outputs == 1 ? 2 : outputs; }

// Summed loss terms and correct predictions over `data`, in batches of
// ws.capacity() rows: what ranks add up before dividing. With `confusion`
// (classifiers; output_classes(K)^2 values, zeroed here), also the count of
// each (true class, predicted class) pair, row-major.
struct EvaluationSums {
  double loss = 0, correct = 0, samples = 0;
};

// Adds `data`'s loss terms, correct predictions and rows to `sums` (and
// the pairs to `confusion`, already sized), batch after batch: rows
// evaluated in several pieces whose sizes are multiples of ws.capacity()
// give the same sums, bit for bit, as in one.
template <class T>
void add_evaluation(const Model<T>& model, Workspace<T>& ws, const EncodedData<T>& data, Loss loss,
                    EvaluationSums& sums, std::vector<double>* confusion) {
  const std::size_t n = data.size();
  const std::size_t k = model.architecture().outputs();
  const Activation out_act = model.architecture().output_activation();
  for (std::size_t start = 0; start < n; start += ws.capacity()) {
    const std::size_t rows = std::min(ws.capacity(), n - start);
    ConstMatrixView<T> x{data.features.values.data() + start * data.features.cols, rows,
                         data.features.cols};
    ConstMatrixView<T> t{data.targets.values.data() + start * k, rows, k};
    MatrixView<T> out = forward(model, ws, x);
    sums.loss += loss_sum<T>(loss, ws.logits(rows), out, t);
    if (!data.class_ids.empty())
      for (std::size_t r = 0; r < rows; ++r) {
        const std::int32_t predicted = predicted_class(out.row(r), k, out_act), truth = data.class_ids[start + r];
        sums.correct += predicted == truth ? 1.0 : 0.0;
        if (confusion) (*confusion)[std::size_t(truth) * output_classes(k) + std::size_t(predicted)] += 1;
      }
  }
  sums.samples += double(n);
}

template <class T>
EvaluationSums evaluation_sums(const Model<T>& model, Workspace<T>& ws, const EncodedData<T>& data, Loss loss,
                               std::vector<double>* confusion = nullptr) {
  const std::size_t k = model.architecture().outputs();
  if (confusion) confusion->assign(output_classes(k) * output_classes(k), 0.0);
  EvaluationSums sums;
  add_evaluation(model, ws, data, loss, sums, confusion);
  return sums;
}

// Evaluation rows not held in memory (streamed data): `read(first, n)`
// gives rows [first, first + n) of this rank's part, encoded (class ids
// for classifiers), or throws DataError naming the file; they are read
// `chunk_rows` at a time, so one chunk is held at once.
template <class T>
struct StreamedEvaluation {
  std::function<EncodedData<T>(std::size_t first, std::size_t n)> read;
  std::size_t rows = 0;        // this rank's part
  std::size_t chunk_rows = 1;
  bool classes = false;        // class ids (accuracy)
};

template <class T>
EvaluationSums evaluation_sums(const Model<T>& model, Workspace<T>& ws, const StreamedEvaluation<T>& data, Loss loss,
                               std::vector<double>* confusion = nullptr) {
  const std::size_t k = model.architecture().outputs();
  if (confusion) confusion->assign(output_classes(k) * output_classes(k), 0.0);
  // Chunks of whole workspace batches: the sums held rows give, whatever the chunk.
  const std::size_t chunk = std::max(ws.capacity(), data.chunk_rows / ws.capacity() * ws.capacity());
  EvaluationSums sums;
  for (std::size_t first = 0; first < data.rows; first += chunk)
    add_evaluation(model, ws, data.read(first, std::min(chunk, data.rows - first)), loss, sums, confusion);
  return sums;
}

// Mean loss and accuracy from (possibly rank-summed) sums.
inline Evaluation finish_evaluation(const EvaluationSums& sums, Loss loss, std::size_t outputs, bool classes) {
  Evaluation e;
  e.loss = sums.loss / loss_normalizer(loss, std::size_t(sums.samples), outputs);
  if (classes) e.accuracy = sums.correct / sums.samples;
  return e;
}

// Loss and accuracy of `model` on `data` (one process).
template <class T>
Evaluation evaluate(const Model<T>& model, Workspace<T>& ws, const EncodedData<T>& data, Loss loss) {
  return finish_evaluation(evaluation_sums(model, ws, data, loss), loss, model.architecture().outputs(),
                           !data.class_ids.empty());
}

template <class T>
class Trainer {
 public:
  // Batches of at least this many floats are assembled a step ahead by default.
  static constexpr std::size_t kPrefetchFloats = 32768;

  using EpochCallback = std::function<void(const EpochMetrics&)>;

  // val_data and test_data may be null. With several ranks, each passes its
  // own part of every data set and the same options; `group` must outlive
  // the trainer. With `streamed`, the training rows come from it and
  // train_data holds none (only its column counts are read).
  Trainer(Model<T>& model, const EncodedData<T>& train_data, const EncodedData<T>* val_data,
          TrainOptions options, const EncodedData<T>* test_data = nullptr, RankGroup* group = nullptr,
          const StreamedTraining<T>* streamed = nullptr)
      : group_(group ? *group : single_rank_),
        model_(model),
        streamed_(streamed ? std::optional<StreamedTraining<T>>(*streamed) : std::nullopt),
        rank_rows_(streamed ? streamed->rows
                   : options.order.shuffle == ShuffleMode::global
                       ? global_rank_rows(options.order.files.empty() ? train_data.size() : rows_in(options.order.files),
                                          std::size_t(group_.rank()), std::size_t(group_.size()))
                       : train_data.size()),
        train_(train_data),
        val_(val_data),
        test_(test_data),
        options_(options),
        optimizer_(model.parameters().size(), model.weight_count(), options.optimizer),
        ws_(model.architecture(), workspace_rows(options.batch, rank_rows_)),
        batches_(train_data.features, train_data.targets, streamed ? 0 : std::min(options.batch, train_data.size()),
                 !streamed && use_prefetch(options, train_data)),
        coordinator_(options.early_stopping,
                     options.monitor == Monitor::val_accuracy && val_data ? Goal::maximize : Goal::minimize,
                     options.checkpoints, options.epochs),
        best_parameters_(model.parameters().begin(), model.parameters().end()),
        good_parameters_(best_parameters_) {
    if (options.grad_precision != GradPrecision::fp32 && !std::is_same_v<T, float>)
      throw UsageError("--grad-precision " + std::string(grad_precision_name(options.grad_precision)) +
                       " needs a float32 model");
    if (options.grad_precision == GradPrecision::fp16) loss_scale_ = kInitialLossScale;
    if (options.bucket_floats > 0 && group_.size() > 1)
      buckets_.emplace(model.architecture(), Model<T>::kControlSlots, options.bucket_floats);
    model.architecture().check_trainable();
    check_loss_output(options.loss, model.architecture().output_activation());
    if (options.batch == 0) throw UsageError("--batch must be >= 1, got 0");
    if (!(options.keep_prob > 0 && options.keep_prob <= 1))
      throw UsageError("--keep-prob must be in (0, 1], got " + std::to_string(options.keep_prob));
    if (!(options.schedule.base > 0))
      throw UsageError("--lr must be > 0, got " + std::to_string(options.schedule.base));
    plan_ranks();
    options_.schedule.epochs = options.epochs;
    options_.schedule.steps_per_epoch = sampler_->steps_per_epoch();
    plateau_.reduce_by = options.plateau_factor;
    plateau_.patience = options.plateau_patience;
    plateau_.maximize = options.monitor == Monitor::val_accuracy && val_data != nullptr;
    if (!(options.plateau_factor > 0 && options.plateau_factor < 1))
      throw UsageError("--plateau-factor must be in (0, 1), got " + std::to_string(options.plateau_factor));
    if (!(options.clip_norm >= 0) || !(options.clip_value >= 0))
      throw UsageError("--clip-norm and --clip-value must be >= 0");
    if (train_data.features.cols != model.architecture().inputs())
      throw ModelError("the data has " + std::to_string(train_data.features.cols) +
                       " features but the model takes " +
                       std::to_string(model.architecture().inputs()) + " inputs");
  }

  // Everything a checkpoint needs to continue this run exactly: with the
  // same ranks, resuming from it gives bit-identical weights, since every
  // random stream is derived from (seed, epoch or step, rank).
  // A run stopped on request mid-epoch also saves how far into the epoch it
  // got and the epoch's training-loss sum so far (over all ranks).
  struct State {
    std::size_t epochs_done = 0;
    std::uint64_t global_step = 0;
    EarlyStopping::State early;
    std::vector<T> optimizer_state, best_parameters, good_parameters;  // optimizer_state: Optimizer::state()
    std::size_t steps_into_epoch = 0;
    double epoch_loss_sum = 0;
    double epoch_correct = 0;           // training samples classed right so far in that epoch
    double loss_scale = 1;              // --grad-precision fp16's
    std::size_t scale_good_steps = 0;   // steps since it last changed
    std::uint64_t optimizer_steps = 0;  // the updates applied (Adam's bias correction counts them)
    PlateauTracker::State plateau;      // --lr-schedule plateau's
    // The training rows were streamed: --shuffle shard orders held and
    // streamed rows differently, so a resume keeps the one it had.
    bool streamed = false;
  };
  State state() const {
    const auto v = optimizer_.state();
    return {epochs_done_,     global_step_,     coordinator_.state(), std::vector<T>(v.begin(), v.end()),
            best_parameters_, good_parameters_, steps_into_epoch_,    carried_loss_,
            carried_correct_, loss_scale_,      scale_good_steps_,    optimizer_.steps(),
            plateau_.state,   streamed_.has_value()};
  }
  // Continues from `state` (taken on the same model shape). Throws ModelError
  // if its buffers do not fit the model.
  void restore(const State& state) {
    const std::size_t n = model_.parameters().size();
    if (state.best_parameters.size() != n || state.good_parameters.size() != n)
      throw ModelError("checkpoint state holds buffers of another model size");
    if (state.optimizer_state.size() != optimizer_.state().size())
      throw ModelError("the checkpoint's optimizer state holds " + std::to_string(state.optimizer_state.size()) +
                       " values, --optimizer " + std::string(optimizer_name(options_.optimizer.kind)) + " keeps " +
                       std::to_string(optimizer_.state().size()));
    epochs_done_ = state.epochs_done;
    global_step_ = state.global_step;
    coordinator_.restore(state.early);
    std::copy(state.optimizer_state.begin(), state.optimizer_state.end(), optimizer_.state().begin());
    optimizer_.set_steps(state.optimizer_steps);
    plateau_.state = state.plateau;
    best_parameters_ = state.best_parameters;
    good_parameters_ = state.good_parameters;
    // With another number of ranks an epoch has other steps: continue at the
    // same step index, clipped (the same state, not bit for bit).
    steps_into_epoch_ = std::min(state.steps_into_epoch, sampler_->steps_per_epoch());
    carried_loss_ = state.epoch_loss_sum;
    carried_correct_ = state.epoch_correct;
    if (options_.grad_precision == GradPrecision::fp16) {
      loss_scale_ = state.loss_scale;
      scale_good_steps_ = state.scale_good_steps;
    }
  }

  // Trains from epoch epochs_done() + 1 to options.epochs (or an earlier stop).
  // on_epoch runs on every rank after each epoch, once the epoch's decisions
  // are made (state() then includes that epoch; m.checkpoint says whether
  // rank 0 should write a checkpoint now). See coordinator.hpp.
  TrainResult run(const EpochCallback& on_epoch = {}) {
    TrainResult result;
    result.epochs_run = epochs_done_;  // a resumed run counts its earlier epochs
    const bool restore_best = coordinator_.early_stopping_enabled() && options_.early_stopping.restore_best;
    const auto note_best = [&] {
      result.best_epoch = coordinator_.best_epoch();
      result.best_monitored = coordinator_.best();
    };
    note_best();
    last_checkpoint_ = Clock::now();
    // Resumed from a stop mid-epoch with nothing left to train (--epochs at
    // most the epochs done): the model is the last finished epoch's, not
    // the partial one's.
    if (epochs_done_ >= options_.epochs && steps_into_epoch_ > 0)
      std::copy(good_parameters_.begin(), good_parameters_.end(), model_.parameters().begin());
    for (std::size_t epoch = epochs_done_; epoch < options_.epochs; ++epoch) {
      EpochReport report;
      EpochMetrics m = run_epoch(epoch, report);
      report.monitored = monitored(m);
      report.finite = m.diverged_step == 0 && std::isfinite(m.train_loss) && all_finite(model_.parameters());
      report.stop_requested = stop_agreed_ || data_failed_;
      report.partial = m.partial;
      const EpochDecision d = coordinator_.decide(report);
      result.epochs_run = epoch + 1;
      m.improved = d.improved;
      m.checkpoint = d.checkpoint;
      if (d.diverged) {
        std::copy(good_parameters_.begin(), good_parameters_.end(), model_.parameters().begin());
        result.reason = StopReason::diverged;
        result.diverged_epoch = epoch + 1;
        result.diverged_step = m.diverged_step > 0 ? m.diverged_step : sampler_->steps_per_epoch();
        if (on_epoch) on_epoch(m);
        return result;
      }
      if (m.partial) {
        // Stopped on request mid-epoch: the state (steps into the epoch,
        // the loss so far) is what the checkpoint saves; nothing is judged.
        if (on_epoch) on_epoch(m);
        result.reason = StopReason::requested;
        result.request = agreed_request_;
        result.data_failed = data_failed_;
        result.data_error = batch_error_;
        result.epochs_run = epoch;
        return result;
      }
      std::copy(model_.parameters().begin(), model_.parameters().end(), good_parameters_.begin());
      if (d.improved && restore_best)
        std::copy(model_.parameters().begin(), model_.parameters().end(), best_parameters_.begin());
      note_best();
      // Every rank sees the same agreed metric: the rate changes everywhere alike.
      if (options_.schedule.kind == ScheduleKind::plateau) plateau_.observe(report.monitored);
      epochs_done_ = epoch + 1;
      if (on_epoch) on_epoch(m);
      if (d.checkpoint) last_checkpoint_ = Clock::now();
      if (d.stop) {
        result.reason = d.reason;
        break;
      }
    }
    // (A run stopped on request keeps its last weights: it will continue.)
    if (restore_best && result.reason != StopReason::requested)
      std::copy(best_parameters_.begin(), best_parameters_.end(), model_.parameters().begin());
    return result;
  }

  // A stop request (a signal, a deadline) seen by this rank: polled before
  // every step and voted on in that step's gradient sum; if any rank's
  // returns other than StopRequest::none, every rank stops after that same
  // step, run() hands on_epoch a partial epoch with checkpoint set and
  // returns StopReason::requested with the agreed kind (asked wins over
  // deadline). Resuming from that checkpoint continues the epoch where it
  // stopped.
  void watch_stop_request(std::function<StopRequest()> requested) { stop_requested_ = std::move(requested); }

  // Called after every step with (epoch, step, steps per epoch, global
  // samples of the step), all 1-based: for progress displays.
  using StepCallback = std::function<void(std::size_t, std::size_t, std::size_t, std::size_t)>;
  void watch_steps(StepCallback on_step) { on_step_ = std::move(on_step); }

  std::size_t epochs_done() const { return epochs_done_; }
  // The best epoch so far (1-based; 0: none yet) and its monitored value.
  std::size_t best_epoch() const { return coordinator_.best_epoch(); }
  double best_monitored() const { return coordinator_.best(); }

  // One SGD step of a single process on the rows at first..first+n-1 of
  // the sampler's order (before the first epoch, rows first..first+n-1);
  // returns the batch loss sum.
  double step(std::size_t first, std::size_t n, double learning_rate) {
    batches_.request(0, sampler_->rows(first, n));
    const auto [x, t] = batches_.wait(0);
    return step_batch(x, t, n, learning_rate);
  }

  // Samples the workspace holds: no step takes more than the batch or this
  // rank's rows (a batch larger than the data is the whole data, full-batch
  // gradient descent, and allocates no more than the data), and at least 256
  // for evaluating in chunks.
  static std::size_t workspace_rows(std::size_t batch, std::size_t train_rows) {
    return std::max<std::size_t>(std::min(batch, train_rows), 256);
  }

  // Global batch size and steps per epoch as planned across ranks.
  std::size_t local_batch() const { return sampler_->local_batch(); }
  std::size_t steps_per_epoch() const { return sampler_->steps_per_epoch(); }
  // Training rows of an epoch, over all ranks.
  std::size_t total_rows() const { return sampler_->total_rows(); }

 private:
  using Clock = std::chrono::steady_clock;

  // The batch plan across the ranks (core/sampler.hpp), from every rank's
  // row count.
  void plan_ranks() {
    // The row counts, and one more slot: does any rank's part hold classes
    // (a rank with no rows has no class ids to tell).
    std::vector<double> counts(std::size_t(group_.size()) + 1, 0);
    counts[std::size_t(group_.rank())] = double(rank_rows_);
    counts.back() = (streamed_ ? streamed_->classes : !train_.class_ids.empty()) ? 1.0 : 0.0;
    group_.sum(std::span<double>(counts));
    classes_ = counts.back() > 0;
    counts.pop_back();
    sampler_.emplace(std::vector<std::size_t>(counts.begin(), counts.end()), options_.batch,
                     std::size_t(group_.rank()), options_.seed);
    const auto& o = options_.order;
    sampler_->set_order(o.shuffle, o.files, o.block_rows, o.buffer);
  }

  // Batch assembly from held rows (the sampler's order) or streamed ones.
  // A streamed batch read inline that fails is voted on in its step's sum
  // (batch_error_), as one that failed on the helper thread.
  void request_batch(int slot, std::size_t s) {
    if (!streamed_) return batches_.request(slot, sampler_->step_rows(s));
    try {
      streamed_->batches.request(slot, sampler_->rows_in_step(std::size_t(group_.rank()), s));
    } catch (const std::exception& e) {
      batch_error_ = e.what();
    }
  }
  std::pair<ConstMatrixView<T>, ConstMatrixView<T>> wait_batch(int slot) {
    return streamed_ ? streamed_->batches.wait(slot) : batches_.wait(slot);
  }

  static bool use_prefetch(const TrainOptions& o, const EncodedData<T>& data) {
    if (o.prefetch != TrainOptions::Prefetch::automatic) return o.prefetch == TrainOptions::Prefetch::on;
    return std::min(o.batch, data.size()) * (data.features.cols + data.targets.cols) >= kPrefetchFloats;
  }

  // Forward and backward on this rank's batch (x, t), gradients summed over
  // the ranks and divided by the global loss normalizer of `global_rows`,
  // one SGD step. Returns this rank's loss sum; adds the rows it classed
  // right to correct_ (classification).
  double step_batch(ConstMatrixView<T> x, ConstMatrixView<T> t, std::size_t global_rows, double learning_rate) {
    const std::size_t n = x.rows, k = t.cols;
    const auto assembled = Clock::now();
    // The background exchange is idle between steps: its time from here on is this step's.
    const double background_start = buckets_ ? group_.background_seconds() : 0;
    model_.zero_gradients();
    // The votes ride in the step's (last) sum, so they are cast first.
    const StopRequest request = stop_requested_ ? stop_requested_() : StopRequest::none;
    model_.control()[0] = request == StopRequest::asked ? T{1} : T{0};
    model_.control()[1] = request == StopRequest::deadline ? T{1} : T{0};
    model_.control()[2] = batch_error_.empty() ? T{0} : T{1};
    const std::span<T> exchanged = model_.gradients_and_control();
    // With buckets, backward starts each one's sum as soon as it is final; a
    // rank with no rows this step starts them all at once (same sums, same order).
    std::size_t block = 0;
    const auto start_sums = [&](std::size_t, std::size_t) {
      for (const auto& r : buckets_->after(block++)) start_sum(exchanged.subspan(r.offset, r.count));
    };
    double loss = 0;
    if (n > 0) {
      const DropoutPlan dropout{options_.keep_prob,
                                derive_seed({options_.seed, std::uint64_t(group_.rank())}), global_step_};
      forward(model_, ws_, x, dropout);
      loss = loss_sum<T>(options_.loss, ws_.logits(n), ws_.output(n), t);
      if (classes_) count_correct(ws_.output(n), t);
      const T scale = T(loss_scale_ / loss_normalizer(options_.loss, global_rows, k));
      if (buckets_)
        backward(model_, ws_, x, t, options_.loss, scale, options_.keep_prob, buckets_->chunk_rows(), start_sums);
      else
        backward(model_, ws_, x, t, options_.loss, scale, options_.keep_prob);
    } else if (buckets_) {
      while (block < buckets_->blocks()) start_sums(0, 0);
    }
    const auto computed = Clock::now();
    if (buckets_) group_.wait_sums();
    else sum(exchanged);
    const auto synced = Clock::now();
    if (model_.control()[0] > T{0}) agreed_request_ = StopRequest::asked;
    else if (model_.control()[1] > T{0}) agreed_request_ = StopRequest::deadline;
    if (agreed_request_ != StopRequest::none) stop_agreed_ = true;
    // A rank without its batch: no rank applies this step (its sum lacks
    // rows); every rank stops before it.
    if (model_.control()[2] > T{0}) {
      data_failed_ = true;
      return 0;
    }
    // fp16: a sum that overflowed is skipped on every rank alike (unscale_gradients).
    if (options_.grad_precision != GradPrecision::fp16 || unscale_gradients()) {
      // The gradients were summed over the ranks, so a NaN on any rank is seen
      // by every rank in this same step. A NaN or Inf anywhere in a forward
      // pass reaches the output, hence the output layer's bias gradient: those
      // K sums are checked every step (a full scan would cost ~1 % of a wide
      // step); the end-of-epoch check of every parameter catches the rest.
      for (T g : model_.bias_gradient(model_.layer_count() - 1))
        if (!std::isfinite(g)) non_finite_ = true;
      clip(model_.gradients());
      optimizer_.step(model_.parameters(), model_.gradients(), learning_rate);
    } else {
      ++skipped_steps_;
    }
    ++global_step_;
    const auto done = Clock::now();
    compute_seconds_ += seconds_between(assembled, computed) + seconds_between(synced, done);
    const double exposed = seconds_between(computed, synced);
    comm_seconds_ += exposed;
    // Of the background exchange's time this step, what the wait did not expose ran behind compute.
    if (buckets_) hidden_seconds_ += std::max(0.0, group_.background_seconds() - background_start - exposed);
    return loss;
  }

  // Rows whose predicted class is the target's (the target row is one-hot,
  // or one unit's 0/1: predicted_class reads both alike).
  void count_correct(ConstMatrixView<T> out, ConstMatrixView<T> t) {
    const std::size_t k = t.cols;
    const Activation act = model_.architecture().output_activation();
    for (std::size_t r = 0; r < out.rows; ++r)
      correct_ += predicted_class(out.row(r), k, act) == predicted_class(t.row(r), k, act);
  }

  // --clip-norm, then --clip-value (TrainOptions), on the summed gradient.
  void clip(std::span<T> g) const {
    if (options_.clip_norm > 0) {
      double squares = 0;
      for (const T v : g) squares += double(v) * double(v);
      const double coefficient = options_.clip_norm / (std::sqrt(squares) + 1e-6);
      if (coefficient < 1)
        for (T& v : g) v *= T(coefficient);
    }
    if (options_.clip_value > 0) {
      const T limit = T(options_.clip_value);
      for (T& v : g) v = std::clamp(v, -limit, limit);
    }
  }

  // The step's gradient sum, or a part of it started in the background.
  void sum(std::span<T> values) {
    if constexpr (std::is_same_v<T, float>) group_.sum_gradients(values, options_.grad_precision);
    else group_.sum(values);
  }
  void start_sum(std::span<T> values) {
    if constexpr (std::is_same_v<T, float>) group_.start_sum(values, options_.grad_precision);
    else group_.start_sum(values);
  }

  // fp16: after the sum, divides the gradients by the loss scale (a power of
  // two: exact) and grows the scale after kScaleGrowthSteps good steps; or,
  // if any summed gradient is not finite, halves it and returns false (skip
  // the step). Every rank holds the same sums, so every rank decides alike.
  // At a scale of 1 nothing is left to lower: the non-finite values are real
  // and the step goes on to the divergence check.
  bool unscale_gradients() {
    const std::span<T> g = model_.gradients();
    bool finite = true;
    for (T v : g) finite &= std::isfinite(v);
    if (!finite && loss_scale_ > 1) {
      loss_scale_ /= 2;
      scale_good_steps_ = 0;
      return false;
    }
    const T inverse = T(1 / loss_scale_);
    for (T& v : g) v *= inverse;
    if (++scale_good_steps_ >= kScaleGrowthSteps && loss_scale_ < kMaxLossScale) {
      loss_scale_ *= 2;
      scale_good_steps_ = 0;
    }
    return true;
  }

  // One epoch; fills report's agreed control values (epoch, checkpoint
  // clock, stop request) from the same sum as the metrics.
  EpochMetrics run_epoch(std::size_t epoch, EpochReport& report) {
    const auto start = Clock::now();
    EpochMetrics m;
    m.epoch = epoch + 1;
    report.epoch = epoch + 1;
    Sampler& sampler = *sampler_;
    if (streamed_) {
      std::size_t drawn = 0;  // this rank's rows in the steps before the first
      for (std::size_t s = 0; s < steps_into_epoch_; ++s) drawn += sampler.rows_in_step(std::size_t(group_.rank()), s);
      try {
        streamed_->batches.start_epoch(epoch, drawn);
      } catch (const std::exception& e) {  // voted in the first step's sum, as a batch not read
        batch_error_ = e.what();
      }
    } else {
      sampler.start_epoch(epoch);
    }
    const std::size_t k = train_.targets.cols, me = std::size_t(group_.rank());
    const std::size_t steps = sampler.steps_per_epoch();
    // A resumed epoch starts where the stopped one left off; rank 0 carries
    // the loss sum of its earlier steps (already summed over the ranks).
    const std::size_t first = steps_into_epoch_;
    double loss_total = me == 0 ? carried_loss_ : 0.0;
    correct_ = me == 0 ? carried_correct_ : 0.0;
    steps_into_epoch_ = 0;
    carried_loss_ = carried_correct_ = 0;
    std::size_t samples_trained = 0;
    io_seconds_ = compute_seconds_ = comm_seconds_ = hidden_seconds_ = 0;
    skipped_steps_ = 0;
    // Batch s+1 is assembled (on the helper thread, when prefetching) while
    // step s computes; io_seconds is the time a step waited for its batch.
    // (An epoch resumed after its last step, evaluated only, reports the rate it ended with.)
    m.learning_rate = options_.schedule.rate(epoch, global_step_ > 0 && first == steps ? global_step_ - 1 : global_step_,
                                             plateau_.state.factor);
    if (first < steps && batch_error_.empty()) request_batch(int(first % 2), first);
    for (std::size_t s = first; s < steps; ++s) {
      const std::size_t global_rows = sampler.global_rows(s);
      m.learning_rate = options_.schedule.rate(epoch, global_step_, plateau_.state.factor);
      const auto waiting = Clock::now();
      std::pair<ConstMatrixView<T>, ConstMatrixView<T>> batch{ConstMatrixView<T>{nullptr, 0, model_.architecture().inputs()},
                                                              ConstMatrixView<T>{nullptr, 0, k}};
      if (batch_error_.empty()) {
        try {
          batch = wait_batch(int(s % 2));
        } catch (const std::exception& e) {  // voted in this step's sum: every rank stops before it
          batch_error_ = e.what();
        }
      }
      const bool next_requested = s + 1 < steps && batch_error_.empty();
      if (next_requested)  // inline when not prefetching: then it is all io time
        request_batch(int((s + 1) % 2), s + 1);
      // (A batch s + 1 read inline that failed is voted on in this step:
      // every rank stops before it, one step early, the state as consistent.)
      io_seconds_ += seconds_since(waiting);
      const auto [x, t] = batch;
      const double correct_before = correct_;
      const double step_loss = step_batch(x, t, global_rows, m.learning_rate);
      if (data_failed_) {
        if (next_requested) {
          try {
            wait_batch(int((s + 1) % 2));  // let the helper finish
          } catch (const std::exception&) {
          }
        }
        correct_ = correct_before;
        std::array<double, 2> so_far{loss_total, correct_};
        group_.sum(std::span<double>(so_far));
        m.partial = true;
        m.steps_done = steps_into_epoch_ = s;
        carried_loss_ = so_far[0];
        carried_correct_ = so_far[1];
        return m;
      }
      loss_total += step_loss;
      samples_trained += global_rows;
      if (on_step_) on_step_(epoch + 1, s + 1, steps, global_rows);
      if (non_finite_) {
        m.diverged_step = s + 1;
        break;
      }
      if (stop_agreed_ && s + 1 < steps) {
        // Every rank saw the same vote in this step's sum: all stop here.
        wait_batch(int((s + 1) % 2));  // let the helper finish the batch it is assembling
        std::array<double, 2> so_far{loss_total, correct_};
        group_.sum(std::span<double>(so_far));
        m.partial = true;
        m.steps_done = steps_into_epoch_ = s + 1;
        carried_loss_ = so_far[0];
        carried_correct_ = so_far[1];
        return m;
      }
    }
    const double train_seconds = seconds_since(start);
    // One sum for every metric (train loss, then val and test sums) and the
    // coordinator's control values: rank 0's checkpoint clock, stop requests.
    EvaluationSums val, test;
    std::string eval_error;  // streamed evaluation data this rank could not read
    try {
      if (val_ != nullptr) val = sums_of(*val_, streamed_ ? streamed_->val : nullptr);
      if (test_ != nullptr) test = sums_of(*test_, streamed_ ? streamed_->test : nullptr);
    } catch (const std::exception& e) {
      eval_error = e.what();
    }
    const bool lead = group_.rank() == 0;
    std::array<double, 10> sums{loss_total, val.loss, val.correct, val.samples, test.loss, test.correct, test.samples,
                                lead ? seconds_since(last_checkpoint_) : 0.0, correct_, eval_error.empty() ? 0.0 : 1.0};
    group_.sum(std::span<double>(sums));
    if (sums[9] > 0) {
      // A rank could not read its evaluation rows: the epoch is trained but
      // not judged; every rank stops, and a resumed run evaluates it again.
      data_failed_ = true;
      batch_error_ = eval_error;
      m.partial = true;
      m.steps_done = steps_into_epoch_ = steps;
      carried_loss_ = sums[0];
      carried_correct_ = sums[8];
      return m;
    }
    report.seconds_since_checkpoint = sums[7];
    const std::size_t total = sampler.total_rows();
    m.train_loss = sums[0] / loss_normalizer(options_.loss, total, k);
    if (classes_) m.train_accuracy = sums[8] / double(total);
    if (val_ != nullptr) {
      // Accuracy when the training data has classes (agreed): a rank whose
      // part of the evaluation data is empty has no class ids to tell.
      const Evaluation e = finish_evaluation({sums[1], sums[2], sums[3]}, options_.loss, k, classes_);
      m.val_loss = e.loss;
      m.val_accuracy = e.accuracy;
    }
    if (test_ != nullptr) {
      const Evaluation e = finish_evaluation({sums[4], sums[5], sums[6]}, options_.loss, k, classes_);
      m.test_loss = e.loss;
      m.test_accuracy = e.accuracy;
    }
    m.penalty = options_.optimizer.penalty.value<T>(model_.parameters().first(model_.weight_count()));
    m.epoch_seconds = seconds_since(start);
    m.samples_per_second = double(samples_trained) / std::max(train_seconds, 1e-9);
    m.compute_seconds = compute_seconds_;
    m.comm_seconds = comm_seconds_;
    m.io_seconds = io_seconds_;
    m.comm_hidden_seconds = hidden_seconds_;
    const std::size_t wire_bytes = options_.grad_precision == GradPrecision::fp32 ? sizeof(T) : 2;
    m.bytes_per_step = group_.size() > 1 ? double(model_.gradients_and_control().size() * wire_bytes) : 0.0;
    m.skipped_steps = skipped_steps_;
    return m;
  }

  // Evaluation data held, or streamed when `streamed` is given.
  EvaluationSums sums_of(const EncodedData<T>& held, const StreamedEvaluation<T>* streamed) {
    return streamed ? evaluation_sums(model_, ws_, *streamed, options_.loss)
                    : evaluation_sums(model_, ws_, held, options_.loss);
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
  static double seconds_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  }
  static double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  }

  SingleRank single_rank_;
  RankGroup& group_;
  Model<T>& model_;
  std::optional<StreamedTraining<T>> streamed_;
  std::size_t rank_rows_;  // this rank's training rows per epoch
  const EncodedData<T>& train_;
  const EncodedData<T>* val_;
  const EncodedData<T>* test_;
  TrainOptions options_;
  Optimizer<T> optimizer_;
  Workspace<T> ws_;
  std::optional<Sampler> sampler_;  // set by plan_ranks()
  BatchAssembler<T> batches_;
  Coordinator coordinator_;
  std::function<StopRequest()> stop_requested_;
  StopRequest agreed_request_ = StopRequest::none;  // the kind every rank agreed on
  StepCallback on_step_;
  Clock::time_point last_checkpoint_ = Clock::now();
  std::vector<T> best_parameters_;
  std::vector<T> good_parameters_;
  std::uint64_t global_step_ = 0;
  double io_seconds_ = 0, compute_seconds_ = 0, comm_seconds_ = 0, hidden_seconds_ = 0;  // this epoch so far
  std::optional<BucketPlan> buckets_;  // with an overlapped exchange
  static constexpr double kInitialLossScale = 65536, kMaxLossScale = 16777216;  // 2^16, 2^24
  static constexpr std::size_t kScaleGrowthSteps = 2000;
  double loss_scale_ = 1;
  std::size_t scale_good_steps_ = 0;
  std::size_t skipped_steps_ = 0;  // this epoch
  bool non_finite_ = false;  // a step's summed gradients held NaN or Inf
  bool stop_agreed_ = false;  // a step's summed votes asked to stop
  bool data_failed_ = false;  // a step's summed votes said a rank had no batch
  std::string batch_error_;   // this rank's: why it had none
  std::size_t steps_into_epoch_ = 0;  // where the next epoch starts (a resumed, stopped one)
  double carried_loss_ = 0;           // its loss sum so far, over all ranks
  double carried_correct_ = 0;        // and its training samples classed right
  double correct_ = 0;                // this epoch's, on this rank
  bool classes_ = false;              // the training labels are classes (train_accuracy)
  PlateauTracker plateau_;            // --lr-schedule plateau
  std::size_t epochs_done_ = 0;
};

}  // namespace sinapsis
