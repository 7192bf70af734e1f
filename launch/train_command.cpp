// sinapsis train: one model, trained on the ranks of a job, from a data file
// to RUN_DIR (run_recorder.hpp lists its files). The options are settled by
// train_plan.hpp; this file runs the phases in order:
//
//   start()    lock RUN_DIR, place the BLAS threads and the exchange, read
//              each rank's part of the data, build the model, encode the
//              data, set up the trainer (resuming from a checkpoint)
//   train()    the epochs, with progress, checks, metrics and checkpoints
//   finish()   the held-out evaluation, model.h5 and summary.json (or, when
//              stopped by a signal or the time limit, summary.json alone)
//
// Everything that can fail on one rank happens inside agree(), and every
// rank learns the outcome; collectives happen only between those phases.
#include <sys/resource.h>  // getrusage: peak resident memory
#include <unistd.h>        // isatty

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>
#include <span>

#include "core/blas_runtime.hpp"
#include "core/init.hpp"
#include "core/trainer.hpp"
#include "dist/communicator_group.hpp"
#include "io/data_file.hpp"
#include "io/model_file.hpp"
#include "launch/agreement.hpp"
#include "launch/config_file.hpp"
#include "launch/host_layout.hpp"
#include "launch/memory_check.hpp"
#include "launch/pipeline.hpp"
#include "launch/progress.hpp"
#include "launch/run_recorder.hpp"
#include "launch/sinapsis.hpp"
#include "launch/stop_signals.hpp"
#include "launch/train_plan.hpp"

namespace sinapsis::cli {
namespace {

using Clock = std::chrono::steady_clock;

Activation default_output(Loss loss) {
  switch (loss) {
    case Loss::categorical_cross_entropy: return Activation::softmax;
    case Loss::binary_cross_entropy: return Activation::sigmoid;
    case Loss::mse: return Activation::linear;
  }
  return Activation::linear;
}

// The classes a model's output layer tells apart (0: none, it regresses):
// one unit per class under softmax, two classes for one sigmoid unit.
std::size_t class_count(const Architecture& a) {
  if (a.output_activation() == Activation::softmax) return a.outputs();
  if (a.output_activation() == Activation::sigmoid && a.outputs() == 1) return 2;
  return 0;
}

// The model to train: from --init-model or the checkpoint, or a new one of
// the asked shape (its parameters are set afterwards, on rank 0, and broadcast).
Model<float> make_model(const TrainCommandOptions& v, std::optional<ModelFile>& start, const Dataset& train,
                        Loss loss) {
  if (start) return std::move(start->model);
  const Activation output = v.output == "auto" ? default_output(loss) : parse_activation(v.output, "--output");
  Architecture arch = Architecture::mlp(train.dimension(), parse_size_list(v.hidden, "hidden"),
                                        parse_activation(v.activation, "--activation"), output_units(train, loss),
                                        output);
  require_training_memory(arch, Trainer<float>::workspace_rows(v.batch, train.size()), option_text("hidden", v.hidden),
                          Optimizer<float>::slots(optimizer_options(v)));
  return Model<float>(std::move(arch));
}

// FNV-1a over the parameters' bytes: equal on every rank iff the replicas are.
std::uint64_t parameter_hash(std::span<const float> values) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  const auto* bytes = reinterpret_cast<const unsigned char*>(values.data());
  for (std::size_t i = 0; i < values.size_bytes(); ++i) hash = (hash ^ bytes[i]) * 0x100000001b3ull;
  return hash;
}

// Test hook for the fault tests: SINAPSIS_INJECT_FAULT=RANK:EPOCH makes that
// rank throw after that epoch, mid-training, as an I/O error or a bug would.
// Returns the epoch for this rank (0: none).
std::size_t injected_fault_epoch(int rank) {
  const char* spec = std::getenv("SINAPSIS_INJECT_FAULT");
  if (spec == nullptr) return 0;
  int fault_rank = -1;
  std::size_t epoch = 0;
  if (std::sscanf(spec, "%d:%zu", &fault_rank, &epoch) != 2)
    throw UsageError(std::string("SINAPSIS_INJECT_FAULT: expected RANK:EPOCH, got '") + spec + "'");
  return fault_rank == rank ? epoch : 0;
}

// This process's peak resident memory.
std::int64_t peak_memory_kib() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return std::int64_t(usage.ru_maxrss);
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// One `sinapsis train` on the ranks of `comm`, phase by phase (see the top).
class TrainingRun {
 public:
  TrainingRun(TrainPlan plan, Communicator& comm, const StopSignals& signals, Clock::time_point started, bool silent)
      : plan_(std::move(plan)), v_(plan_.options), comm_(comm), signals_(signals), started_(started),
        silent_(silent), lead_(comm.rank() == 0),
        deadline_(Deadline::after_minutes(v_.time_limit_minutes, started)) {}

  TrainOutcome run() {
    try {
      start();
      const TrainResult result = train();
      return finish(result);
    } catch (const std::exception& e) {
      record_failure(e.what());
      throw;
    }
  }

 private:
  void start();
  void lock_run_directory();
  void place_on_hosts();
  void resolve_data_residency();
  void read_data();
  void build_model();
  void check_same_setup();
  void start_trainer();
  void start_progress();
  TrainResult train();
  void on_epoch(const EpochMetrics& m);
  TrainOutcome finish(const TrainResult& result);
  TrainOutcome stopped(const TrainResult& result);
  void record_epoch(const EpochMetrics& m);
  void record_failure(const std::string& error);
  std::vector<std::pair<std::string, Evaluation>> evaluate_held_out();
  RunSummary summary(const TrainResult& result, const std::string& stop_reason,
                     std::vector<std::pair<std::string, Evaluation>> held_out) const;
  RunSummary summary_so_far(const std::string& status) const;
  void print_result(const RunSummary& s) const;

  TrainPlan plan_;
  const TrainCommandOptions& v_;
  Communicator& comm_;
  const StopSignals& signals_;
  const Clock::time_point started_;
  const bool silent_, lead_;  // rank 0 alone prints and writes files
  // The time limit counts from the start, and holds from the start: a rank
  // held up by a stalled peer ends the job at deadline_.end_at.
  const Deadline deadline_;
  StallOptions stalls_;
  std::optional<RunRecorder> recorder_;  // rank 0's
  std::optional<HostLayout> layout_;
  bool overlap_ = false;
  std::optional<CommunicatorGroup> group_;
  DataOptions input_;
  PreparedData data_;
  std::optional<ModelFile> start_;
  std::optional<Model<float>> model_;
  Loss loss_ = Loss::mse;
  std::optional<EncodedData<float>> train_data_, val_data_, test_data_;
  TrainOptions options_;
  ModelInputs inputs_;  // what model.h5 and checkpoints say of the inputs and classes
  std::optional<StreamedBatches<float>> streamed_batches_;  // --data-in-memory off (or auto, too large)
  std::optional<StreamedEvaluation<float>> streamed_val_, streamed_test_;  // then val and test stream too
  std::optional<Trainer<float>> trainer_;
  std::size_t total_samples_ = 0;
  std::uint64_t memory_budget_ = 0;  // bytes, the same on every rank
  std::optional<Progress> progress_;
  EpochMetrics last_;
  RunTotals totals_;
  std::size_t fault_epoch_ = 0;
};

void TrainingRun::start() {
  stalls_.timeout_seconds = v_.stall_timeout_seconds;
  stalls_.hard_deadline = deadline_.end_at;
  stalls_.error_prefix = "sinapsis train: error: ";
  comm_.watch_stalls(stalls_);  // the setup phase: reading data may keep ranks waiting long
  agree(comm_, [&] { plan_.check(); });
  lock_run_directory();
  place_on_hosts();
  read_data();
  build_model();
  check_same_setup();
  // The encoded data is what training reads: free what is left of the raw
  // rows, keeping each part's description (task, classes: streamed rows are
  // read and encoded by it).
  for (Dataset* part : {&data_.train, data_.val ? &*data_.val : nullptr, data_.test ? &*data_.test : nullptr})
    if (part) *part = select_rows(*part, {});
  // Every rank starts from rank 0's parameters (a resumed run takes them
  // from the checkpoint, like --init-model).
  if (!start_ && lead_) initialize(*model_, parse_initializer(v_.init, "--init"), v_.seed);
  comm_.broadcast(model_->parameters(), 0);
  start_trainer();
  total_samples_ = trainer_->total_rows();
  start_progress();
}

// Rank 0 writes RUN_DIR: it locks it for the whole job before anything
// else can fail or write (a second job on it is refused here). The lock's
// holder record is written after the agreement on the options, which every
// rank joined: launch/slurm/*.sbatch read it as "every rank is up" (past
// MPI_Init, its signal handlers installed) before passing on a signal.
// Keep the lock after a collective.
void TrainingRun::lock_run_directory() {
  agree(comm_, [&] {
    if (!lead_) return;
    const auto mode = plan_.resumed ? RunDirectory::Mode::resume
                      : v_.overwrite ? RunDirectory::Mode::overwrite
                                     : RunDirectory::Mode::fresh;
    recorder_.emplace(v_.out, mode, plan_.resumed ? "--resume" : "--out", plan_.config_text());
  });
}

// BLAS threads per rank: this host's cores shared by its ranks, unless
// --threads. The overlapped exchange can only pay where the sum crosses a
// network and its thread has a core of its own: on one host shared memory
// is fast and one fused call is cheaper, and a thread sharing the compute
// core slowed the step down on emulated hosts of one core (BENCHMARKS.md,
// "Overlap").
void TrainingRun::place_on_hosts() {
  layout_ = host_layout(comm_);
  set_blas_threads(resolve_threads(v_.threads, *layout_));
  const bool spare_core = usable_cpus() > resolve_threads(v_.threads, *layout_);
  overlap_ = v_.overlap == "on" || (v_.overlap == "auto" && layout_->hosts().size() > 1 && spare_core);
  group_.emplace(comm_, overlap_);
}

// Whether the training rows are held or streamed (--data-in-memory), and
// how many rows a streamed rank reads at a time, decided alike on every
// rank: the budget is the smallest of the ranks' (auto: half of each host's
// memory shared by its ranks), the rows a rank would hold are those of the
// largest part (--shuffle global: the whole data set). A streamed rank
// keeps its buffer of --shuffle-buffer rows, two batches and a chunk within
// the budget; a budget that cannot hold the buffer and the batches is
// refused, naming both.
void TrainingRun::resolve_data_residency() {
  input_.shuffle = parse_shuffle_mode(v_.shuffle, "--shuffle");
  const std::uint64_t host_share =
      memory_limit_bytes() / 2 / std::uint64_t(std::max(1, layout_->ranks_on(layout_->rank_hosts[std::size_t(comm_.rank())])));
  const std::uint64_t mine = v_.memory_budget == "auto" ? host_share : *parse_byte_size(v_.memory_budget);
  memory_budget_ = std::uint64_t(comm_.allreduce(std::int64_t(std::min<std::uint64_t>(mine, INT64_MAX)), ReduceOp::min));
  std::optional<DataSource> source;
  agree(comm_, [&] { source = open_data_source(v_.input.data); });
  // A row as held: its input features (--features may compute more than
  // the file's columns) and a target or two.
  const FeatureSet features = FeatureSet::parse(v_.input.features, "--features");
  const std::uint64_t row_bytes = ((features.raw() ? source->dimension : features.features.size()) + 2) * sizeof(float);
  std::size_t held_rows = source->total_rows();
  if (input_.shuffle != ShuffleMode::global) {
    held_rows = 0;
    for (std::size_t r = 0; r < std::size_t(comm_.size()); ++r)
      held_rows = std::max(held_rows, rows_in([&] {
                             std::vector<RowRange> part;
                             for (const RowSlice& s : plan_part(source->rows, r, std::size_t(comm_.size())))
                               part.push_back({s.begin, s.end});
                             return part;
                           }()));
  }
  const auto held_bytes = checked_product({held_rows, row_bytes});
  input_.streamed = v_.data_in_memory == "off" ||
                    (v_.data_in_memory == "auto" && (!held_bytes || *held_bytes > memory_budget_));
  // --shuffle shard orders held rows (a full shuffle of the part) and
  // streamed ones (blocks through the buffer) differently: a resumed run
  // keeps the one it trained with (global and none have one order).
  if (const auto& resumed = plan_.resumed;
      resumed && resumed->data_streamed && input_.shuffle == ShuffleMode::shard && *resumed->data_streamed != input_.streamed) {
    if (v_.data_in_memory != "auto")
      throw AgreedFailure("--data-in-memory " + v_.data_in_memory + ": this run " +
                              (*resumed->data_streamed ? "streamed" : "held") +
                              " its training rows with --shuffle shard, which orders held and streamed rows "
                              "differently; resume it with --data-in-memory auto or " +
                              (*resumed->data_streamed ? "off" : "on") + " (--shuffle global and none keep one order)",
                          kExitUsage);
    input_.streamed = *resumed->data_streamed;
  }
  if (!input_.streamed) return;
  // A buffer larger than the rows it draws from (a rank's stretch: with
  // global, its share of the data set) holds only those rows.
  const std::uint64_t stretch_rows =
      input_.shuffle == ShuffleMode::global ? (held_rows + std::size_t(comm_.size()) - 1) / std::size_t(comm_.size())
                                            : held_rows;
  const std::uint64_t batch_rows = std::min<std::uint64_t>(v_.batch, stretch_rows);
  const std::uint64_t buffer_rows = std::min<std::uint64_t>(v_.shuffle_buffer, stretch_rows);
  const auto fixed = checked_product({buffer_rows + 2 * batch_rows, row_bytes});
  if (!fixed || *fixed >= memory_budget_)
    throw AgreedFailure("--memory-budget " + bytes_text(memory_budget_) + " cannot hold the --shuffle-buffer of " +
                            std::to_string(v_.shuffle_buffer) + " rows and two batches of " +
                            std::to_string(batch_rows) + " (" + bytes_text(fixed) + " at " + bytes_text(row_bytes) +
                            " a row): give a smaller --shuffle-buffer or a larger --memory-budget",
                        kExitUsage);
  // A chunk is read, transformed and encoded: about four copies of its rows.
  // Whole blocks when it holds one: reads then start where blocks (and the
  // chunks of a file `data shard` laid out for them) start.
  input_.chunk_rows = std::size_t(std::clamp<std::uint64_t>((memory_budget_ - *fixed) / (4 * row_bytes), 1, 65536));
  if (input_.chunk_rows >= v_.shuffle_block) input_.chunk_rows -= input_.chunk_rows % v_.shuffle_block;
}

// Each rank's part of the data, then the class count and standardization
// every rank agrees on.
void TrainingRun::read_data() {
  input_ = v_.input;
  input_.seed = v_.seed;
  input_.block_rows = v_.shuffle_block;
  input_.class_labels = v_.loss == "bce" || v_.loss == "cce";
  resolve_data_residency();
  auto& resumed = plan_.resumed;
  agree(comm_, [&] {
    if (!v_.init_model.empty()) {
      start_.emplace(read_model_file(v_.init_model));
      start_->model.architecture().check_trainable();
    }
    // A model to continue fixes the class count: the training labels must
    // fit it (checked as they are read, naming file and row).
    const ModelFile* fixed = start_ ? &*start_ : resumed ? &resumed->model : nullptr;
    if (fixed) {
      input_.classes = class_count(fixed->model.architecture());
      input_.classes_from = "the model " + (start_ ? v_.init_model : v_.out + "/checkpoint.h5");
    }
    data_ = read_training_data(input_, std::size_t(comm_.rank()), std::size_t(comm_.size()));
  });
  finish_training_data(data_, input_, comm_, resumed ? &resumed->model.standardizer : nullptr);
  inputs_ = {data_.features.text(), data_.standardizer, data_.train.schema, data_.train.class_names};
  if (resumed) start_.emplace(std::move(resumed->model));
}

// The loss, the model and the encoded data, which takes the features over
// (a rank holds its part once).
void TrainingRun::build_model() {
  agree(comm_, [&] {
    loss_ = v_.loss != "auto"                          ? parse_loss(v_.loss, "--loss")
            : start_ && start_->has_loss               ? start_->loss
            : data_.train.task == Task::classification ? Loss::categorical_cross_entropy
                                                       : Loss::mse;
    model_.emplace(make_model(v_, start_, data_.train, loss_));
    const Architecture& arch = model_->architecture();
    check_loss_output(loss_, arch.output_activation());
    if (arch.inputs() != data_.train.dimension())
      throw ModelError("model takes " + std::to_string(arch.inputs()) + " inputs but " + v_.input.data + " has " +
                       std::to_string(data_.train.dimension()) + " features");
    const auto encode_part = [&](Dataset& part, const std::string& file) {
      return encode_moving(std::move(part), loss_, arch.output_activation(), arch.outputs(),
                           file.empty() ? v_.input.data : file);
    };
    train_data_ = encode_part(data_.train, v_.input.data);  // streamed: no rows, the columns
    if (data_.val) val_data_ = encode_part(*data_.val, v_.input.val_data);
    if (data_.test) test_data_ = encode_part(*data_.test, v_.input.test_data);
    options_ = trainer_options(v_, loss_, usable_cpus());
    options_.order.files = data_.train_files;
    if (overlap_)
      options_.bucket_floats = std::max<std::size_t>(1, std::size_t(v_.bucket_mb * 1024 * 1024 / sizeof(float)));
  });
}

// The model, the data schema and the options that shape the computation
// are the same on every rank, or every rank stops naming the difference.
void TrainingRun::check_same_setup() {
  const Architecture& a = model_->architecture();
  const TrainOptions& t = options_;
  std::ostringstream mine;
  mine << "model " << a.describe() << " with " << a.parameter_count() << " parameters; data D="
       << train_data_->features.cols << " classes=" << data_.train.classes
       << " task=" << (data_.train.task == Task::classification ? "classification" : "regression")
       << " features=" << data_.features.text() << "; loss " << loss_name(loss_) << " batch " << t.batch
       << " epochs " << t.epochs << " lr " << t.schedule.base << " momentum " << t.optimizer.momentum << " l1 "
       << t.optimizer.penalty.l1 << " l2 " << t.optimizer.penalty.l2 << " keep_prob " << t.keep_prob << " patience "
       << t.early_stopping.patience_epochs << " seed " << t.seed;
  require_same_on_every_rank(comm_, "before training", mine.str());
}

void TrainingRun::start_trainer() {
  // The trainer's constructor meets the other ranks (it sums the row counts):
  // it runs outside agree() on every rank; its checks fail alike everywhere.
  try {
    std::optional<StreamedTraining<float>> streamed;
    if (input_.streamed) {
      const Architecture& arch = model_->architecture();
      StreamedBatches<float>::Plan plan;
      plan.mode = options_.order.shuffle;
      plan.files = data_.train_files;
      plan.part = data_.train_part;
      plan.block_rows = options_.order.block_rows;
      plan.buffer = options_.order.buffer;
      plan.chunk_rows = input_.chunk_rows;
      plan.rank = std::size_t(comm_.rank());
      plan.ranks = std::size_t(comm_.size());
      plan.seed = options_.seed;
      const std::size_t rows = rows_in(plan.mode == ShuffleMode::global
                                           ? std::vector<RowRange>{{0, global_rank_rows(rows_in(plan.files), plan.rank,
                                                                                        plan.ranks)}}
                                           : plan.part);
      streamed_batches_.emplace(training_reader(data_, input_, loss_, arch.output_activation(), arch.outputs()), plan,
                                arch.inputs(), arch.outputs(), std::min(options_.batch, std::max<std::size_t>(rows, 1)),
                                options_.prefetch != TrainOptions::Prefetch::off);
      streamed_val_ = evaluation_reader(data_, input_, "val", loss_, arch.output_activation(), arch.outputs());
      streamed_test_ = evaluation_reader(data_, input_, "test", loss_, arch.output_activation(), arch.outputs());
      streamed.emplace(StreamedTraining<float>{*streamed_batches_, rows, data_.train.task == Task::classification,
                                               streamed_val_ ? &*streamed_val_ : nullptr,
                                               streamed_test_ ? &*streamed_test_ : nullptr});
    }
    trainer_.emplace(*model_, *train_data_, val_data_ ? &*val_data_ : nullptr, options_,
                     test_data_ ? &*test_data_ : nullptr, &*group_, streamed ? &*streamed : nullptr);
  } catch (const UsageError& e) {  // the same on every rank: its checks see agreed values
    throw AgreedFailure(e.what(), kExitUsage);
  } catch (const std::exception& e) {
    throw AgreedFailure(e.what(), kExitFailure);
  }
  if (const auto& resumed = plan_.resumed) {
    // A partial epoch stopped before its last step, or after it when its
    // streamed evaluation data could not be read (trained, not judged);
    // with the same ranks the epoch has the same steps (with others,
    // restore() clips).
    if (resumed->ranks == comm_.size() && resumed->state.steps_into_epoch > trainer_->steps_per_epoch())
      throw AgreedFailure(v_.out + "/checkpoint.h5: /checkpoint attribute steps_into_epoch is " +
                              std::to_string(resumed->state.steps_into_epoch) + ", past the " +
                              std::to_string(trainer_->steps_per_epoch()) + " steps of an epoch",
                          kExitFailure);
    trainer_->restore(resumed->state);
  }
  stalls_.training = true;
  comm_.watch_stalls(stalls_);
  trainer_->watch_stop_request([&] {
    if (signals_.received() != 0) return StopRequest::asked;
    return deadline_.passed(Clock::now()) ? StopRequest::deadline : StopRequest::none;
  });
  // Rank 0 keeps the metrics rows; a resumed run starts from the rows it had.
  agree(comm_, [&] {
    if (plan_.resumed && lead_) recorder_->continue_metrics(*plan_.resumed);
  });
}

// Rank 0 prints progress (every rank with --log-all-ranks).
void TrainingRun::start_progress() {
  const Architecture& arch = model_->architecture();
  if (lead_ && !v_.quiet)
    std::cout << "sinapsis train: " << arch.describe() << ", " << arch.parameter_count() << " parameters, loss "
              << loss_name(loss_) << ", " << total_samples_ << " training samples on " << comm_.size() << " rank(s), "
              << (input_.streamed ? "streamed from the files (--memory-budget " + bytes_text(memory_budget_) + " a rank)"
                                  : std::string("held in memory"))
              << std::endl;
  if (v_.quiet || !(lead_ || v_.log_all_ranks)) return;
  Progress::Options p;
  p.terminal = !v_.log_all_ranks && (v_.progress == "bar" || (v_.progress == "auto" && ::isatty(STDOUT_FILENO) &&
                                                              !under_mpi_launcher()));
  if (v_.log_all_ranks) p.prefix = "[rank " + std::to_string(comm_.rank()) + "] ";
  p.show_timing = v_.log_all_ranks;
  progress_.emplace(std::cout, p, trainer_->epochs_done(), v_.epochs, val_data_.has_value(), test_data_.has_value());
  trainer_->watch_steps([&](std::size_t epoch, std::size_t step, std::size_t steps, std::size_t samples) {
    progress_->step(epoch, step, steps, samples, Progress::Clock::now());
  });
}

TrainResult TrainingRun::train() {
  fault_epoch_ = injected_fault_epoch(comm_.rank());
  const TrainResult result = trainer_->run([&](const EpochMetrics& m) { on_epoch(m); });
  if (progress_) progress_->finish();
  // A rank could not read its batch (a file of streamed data gone or
  // damaged): every rank stopped before that step and checkpointed; the run
  // fails on every rank with that rank's error.
  if (result.data_failed)
    agree(comm_, [&] {
      if (!result.data_error.empty()) throw DataError(result.data_error);
    });
  return result;
}

void TrainingRun::on_epoch(const EpochMetrics& m) {
  last_ = m;
  if (m.epoch == fault_epoch_)
    throw std::runtime_error("injected fault after epoch " + std::to_string(m.epoch) + " (SINAPSIS_INJECT_FAULT)");
  if (v_.check_consistency && comm_.size() > 1) {
    const std::uint64_t hash = parameter_hash(model_->parameters());
    if (comm_.allreduce(hash, ReduceOp::min) != comm_.allreduce(hash, ReduceOp::max))
      throw AgreedFailure("replicas differ after epoch " + std::to_string(m.epoch) +
                              " (--check-consistency): the ranks no longer hold the same parameters",
                          kExitFailure);
  }
  if (progress_) progress_->epoch(m, Progress::Clock::now());
  if (lead_) totals_.add(m, total_samples_);
  // A write that fails on rank 0 ends the run the same way on every rank (a
  // trial of a sweep fails alone).
  agree(comm_, [&] {
    if (lead_) record_epoch(m);
  });
}

// Rank 0: the epoch's metrics row (a partial epoch continues on resume; its
// row comes then), the checkpoint the coordinator asked for (never of a
// diverged epoch: the last checkpoint keeps finite weights), and now and
// then a "running" summary.json.
void TrainingRun::record_epoch(const EpochMetrics& m) {
  if (!m.partial) recorder_->add_epoch(m);
  if (m.checkpoint)
    recorder_->write_checkpoint(*model_, loss_, inputs_, trainer_->state(),
                                {plan_.arguments, plan_.given, plan_.working_directory}, comm_.size());
  if (!m.partial && m.diverged_step == 0 && recorder_->running_summary_due())
    recorder_->write_summary(summary_so_far("running"));
}

// A run that fails after saying "running" says "failed" and why (rank 0, as
// it can: the failure itself may be a file system that refuses writes).
void TrainingRun::record_failure(const std::string& error) {
  if (!lead_ || !recorder_ || !recorder_->summary_running()) return;
  try {
    RunSummary s = summary_so_far("failed");
    s.error = error;
    recorder_->write_summary(s);
  } catch (const std::exception&) {
  }
}

TrainOutcome TrainingRun::finish(const TrainResult& result) {
  if (result.reason == StopReason::requested) return stopped(result);
  // The model as kept, on the held-out parts.
  const auto held_out = evaluate_held_out();
  RunSummary s = summary(result, std::string(stop_reason_name(result.reason)), held_out);
  if (result.reason == StopReason::diverged) s.status = "diverged";
  agree(comm_, [&] {
    if (lead_) recorder_->write_final(*model_, loss_, inputs_, s);
  });
  if (result.reason == StopReason::diverged)
    throw AgreedFailure("training diverged: NaN or Inf in the loss or gradients in epoch " +
                            std::to_string(result.diverged_epoch) + ", step " + std::to_string(result.diverged_step) +
                            "; " + v_.out + "/model.h5 holds the weights of the last finite epoch (" +
                            std::to_string(result.diverged_epoch - 1) + "). Lower --lr?",
                        kExitFailure);
  TrainOutcome outcome;
  const Architecture& arch = model_->architecture();
  outcome.stop_reason = stop_reason_name(result.reason);
  outcome.epochs_run = result.epochs_run;
  outcome.parameters = arch.parameter_count();
  outcome.inputs = arch.inputs();
  outcome.architecture = arch.describe();
  outcome.best_epoch = result.best_epoch;
  outcome.best_monitored = result.best_monitored;
  for (const auto& [name, e] : held_out) {
    (name == "val" ? outcome.val_loss : outcome.test_loss) = e.loss;
    (name == "val" ? outcome.val_accuracy : outcome.test_accuracy) = e.accuracy;
  }
  outcome.seconds = seconds_since(started_);
  if (lead_ && !silent_) print_result(s);
  return outcome;
}

// Stopped by a signal or --time-limit: every rank got here after the same
// step and rank 0 wrote the checkpoint; every rank agreed on the kind, the
// signal's name is known where it came.
TrainOutcome TrainingRun::stopped(const TrainResult& result) {
  const bool asked = result.request == StopRequest::asked;
  const std::string stop_reason = asked ? "signal" : "time_limit";
  RunSummary s = summary(result, stop_reason, {});
  s.status = "stopped";
  agree(comm_, [&] {
    if (lead_) recorder_->write_summary(s);
  });
  if (lead_ && !silent_) {
    const std::string why = !asked                     ? "--time-limit"
                            : signals_.received() != 0 ? StopSignals::name(signals_.received())
                                                       : "a signal to another rank";
    std::cout << "stopped by " << why << (last_.partial ? " in epoch " : " at the end of epoch ") << last_.epoch
              << (last_.partial ? ", after step " + std::to_string(last_.steps_done) : std::string()) << "; wrote "
              << v_.out << "/checkpoint.h5\nresume with: sinapsis train --resume " << v_.out << std::endl;
  }
  TrainOutcome outcome;
  outcome.status = kExitResume;
  outcome.stop_reason = stop_reason;
  return outcome;
}

std::vector<std::pair<std::string, Evaluation>> TrainingRun::evaluate_held_out() {
  std::vector<std::pair<std::string, Evaluation>> held_out;
  const bool confusion = output_classes(model_->architecture().outputs()) <= kSummaryConfusionClasses;
  for (const auto& [name, part, streamed] : {std::tuple{"val", &val_data_, &streamed_val_},
                                              std::tuple{"test", &test_data_, &streamed_test_}})
    if (*streamed)
      held_out.emplace_back(name, evaluate(*model_, **streamed, loss_, comm_, confusion));
    else if (*part)
      held_out.emplace_back(name, evaluate(*model_, **part, loss_, comm_, confusion));
  return held_out;
}

// Also the one collective of the end: the peak resident memory of the
// largest rank (the data is rank-local, so it shrinks with more ranks).
RunSummary TrainingRun::summary(const TrainResult& result, const std::string& stop_reason,
                                std::vector<std::pair<std::string, Evaluation>> held_out) const {
  RunSummary s = summary_so_far("finished");
  s.result = result;
  s.stop_reason = stop_reason;
  s.held_out = std::move(held_out);
  s.peak_memory_mib_per_rank = double(comm_.allreduce(peak_memory_kib(), ReduceOp::max)) / 1024;
  return s;
}

// The summary as far as the run got, on rank 0 alone (no collective): the
// epochs done, the best so far, rank 0's peak memory.
RunSummary TrainingRun::summary_so_far(const std::string& status) const {
  const Architecture& arch = model_->architecture();
  RunSummary s;
  s.status = status;
  s.run_dir = v_.out;
  s.configuration = option_values(plan_.values, {"resume"});
  s.ranks = comm_.size();
  s.hosts = layout_->hosts();
  s.blas_threads_per_rank = resolve_threads(v_.threads, *layout_);
  s.architecture = arch.describe();
  s.parameters = arch.parameter_count();
  s.loss = loss_name(loss_);
  s.training_samples = total_samples_;
  if (trainer_) {
    s.result.epochs_run = trainer_->epochs_done();
    s.result.best_epoch = trainer_->best_epoch();
    s.result.best_monitored = trainer_->best_monitored();
  }
  s.class_names = inputs_.class_names;
  s.monitor = val_data_ ? v_.monitor : std::string("train_loss");
  s.last = last_;
  s.totals = totals_;
  s.wall_seconds = seconds_since(started_);
  s.overlap = overlap_ && group_->background();
  s.bucket_mb = overlap_ ? v_.bucket_mb : 0.0;
  s.grad_precision = v_.grad_precision;
  s.peak_memory_mib_per_rank = double(peak_memory_kib()) / 1024;
  return s;
}

void TrainingRun::print_result(const RunSummary& s) const {
  const TrainResult& result = s.result;
  std::cout << "stopped: " << stop_reason_name(result.reason) << " after " << result.epochs_run << " epochs";
  if (last_.epoch > 0)
    std::cout << "; last train_loss " << last_.train_loss;
  else  // resumed at or past --epochs: nothing left to train
    std::cout << " (the checkpoint was already at epoch " << result.epochs_run << "; nothing left to train)";
  if (result.best_epoch > 0 && options_.early_stopping.patience_epochs > 0 && options_.early_stopping.restore_best)
    std::cout << "; kept the weights of epoch " << result.best_epoch;
  for (const auto& [name, e] : s.held_out) {
    std::cout << "\n" << name << "_loss " << e.loss;
    if (!std::isnan(e.accuracy)) std::cout << "  " << name << "_accuracy " << e.accuracy;
  }
  std::cout << "\npeak memory per rank: " << std::int64_t(s.peak_memory_mib_per_rank) << " MiB";
  std::cout << "\nwrote " << v_.out << "/model.h5, metrics.csv, summary.json and config.ini" << std::endl;
}

}  // namespace

int train_command(const Args& args, Communicator& comm) { return run_training(args, comm).status; }

std::vector<CommandOptions> train_options() { return {described<TrainCommandOptions>("train")}; }

void check_train_arguments(const Args& args, bool open_data) {
  po::options_description options("sinapsis train options");
  TrainCommandOptions v;
  describe(options, v);
  po::variables_map values;
  if (!parse("train", args, options, values, "")) return;
  v.validate();
  if (!open_data) return;
  for (const std::string* spec : {&v.input.data, &v.input.val_data, &v.input.test_data})
    if (!spec->empty()) open_data_source(*spec);
}

TrainOutcome run_training(const Args& args, Communicator& comm, bool silent) {
  const auto started = Clock::now();
  const StopSignals signals;  // SIGTERM / SIGUSR1: checkpoint after the current step, exit kExitResume
  std::optional<TrainPlan> plan = read_train_plan(args, comm, silent);
  if (!plan) return {};  // --help
  return TrainingRun(std::move(*plan), comm, signals, started, silent).run();
}

}  // namespace sinapsis::cli
