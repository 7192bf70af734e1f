// Data-parallel training across ranks (run by ctest under mpirun -n 2 and
// -n 3): a distributed step is the single-process step on the union of the
// local batches; uneven parts finish without hanging and keep replicas
// identical; early stopping, divergence and a stop request on one rank end
// every rank in the same epoch; resume from a trainer's state is
// bit-identical.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <optional>

#include "core/init.hpp"
#include "core/trainer.hpp"
#include "dist/communicator_group.hpp"
#include "tests/mpi_environment.hpp"

namespace sinapsis {
namespace {

Communicator& world() { return *test::world; }

// `n` deterministic samples of a 3-class problem in 4-D, starting at row `first`.
Dataset samples(std::size_t first, std::size_t n) {
  Dataset d;
  d.task = Task::classification;
  d.classes = 3;
  d.features = Matrix<float>(n, 4);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t row = first + i;
    d.labels.push_back(std::int64_t(row % 3));
    for (std::size_t j = 0; j < 4; ++j) d.features(i, j) = float(std::sin(0.7 * double(row) + 1.3 * double(j)));
  }
  return d;
}

Model<float> fresh_model() {
  Model<float> m(Architecture::mlp(4, std::vector<std::size_t>{6, 5}, Activation::tanh, 3, Activation::softmax));
  initialize(m, Initializer::glorot, 11);
  return m;
}

TrainOptions options(std::size_t batch, std::size_t epochs) {
  TrainOptions o;
  o.loss = Loss::categorical_cross_entropy;
  o.batch = batch;
  o.epochs = epochs;
  o.schedule.base = 0.2;
  o.optimizer = {0.9, false, {0.001, 0.01}};
  o.seed = 5;
  return o;
}

EncodedData<float> encoded(const Dataset& d) {
  return encode<float>(d, Loss::categorical_cross_entropy, Activation::softmax, 3, "test");
}

// Parameters are bit-identical on every rank.
void expect_replicas_identical(const Model<float>& model) {
  std::vector<float> mine(model.parameters().begin(), model.parameters().end()), low(mine), high(mine);
  world().allreduce(std::span<float>(low), ReduceOp::min);
  world().allreduce(std::span<float>(high), ReduceOp::max);
  EXPECT_EQ(low, high) << "replicas differ across ranks";
}

// The ranks' group; with `background`, the overlapped exchange's thread at
// the compute thread's priority. (The trainer's default niceness 19 keeps it
// from taking a shared core's time from compute; on a machine also running
// other work, such as a parallel build, a nice 19 thread waits behind it for
// most of every sum, and these tests of hundreds of small sums took minutes
// instead of a second. What they check, bit for bit, does not depend on it.)
CommunicatorGroup ranks_group(bool background) {
  ExchangeWait wait;
  wait.nice = 0;
  return CommunicatorGroup(world(), background, wait);
}

// Every distributed test runs twice: with the one fused gradient sum after
// backward (false) and with the overlapped exchange (true): buckets of 8
// values, so even these small nets are summed in several parts, started from
// backward and run on the background thread.
class Distributed : public ::testing::TestWithParam<bool> {
 protected:
  static TrainOptions options(std::size_t batch, std::size_t epochs) {
    TrainOptions o = sinapsis::options(batch, epochs);
    if (GetParam()) o.bucket_floats = 8;
    return o;
  }
};
INSTANTIATE_TEST_SUITE_P(Exchange, Distributed, ::testing::Values(false, true),
                         [](const auto& test) { return test.param ? "overlapped" : "fused"; });

TEST_P(Distributed, OneStepEqualsSingleProcessStepOnTheUnion) {
  const auto rank = std::size_t(world().rank()), ranks = std::size_t(world().size());
  // Rank r holds rows [10 r, 10 r + 10 + r): uneven parts.
  std::vector<std::size_t> sizes(ranks), starts(ranks);
  for (std::size_t r = 0; r < ranks; ++r) sizes[r] = 10 + r;
  std::exclusive_scan(sizes.begin(), sizes.end(), starts.begin(), std::size_t{0});
  const std::size_t total = starts.back() + sizes.back();
  const auto local = encoded(samples(starts[rank], sizes[rank]));
  // A global batch large enough that each rank's whole part is one step.
  const std::size_t batch = ranks * sizes.back();
  CommunicatorGroup group = ranks_group(GetParam());
  Model<float> distributed = fresh_model();
  Trainer<float>(distributed, local, nullptr, options(batch, 1), nullptr, &group).run();

  Model<float> single = fresh_model();
  const auto all = encoded(samples(0, total));
  Trainer<float>(single, all, nullptr, options(total, 1)).run();
  for (std::size_t i = 0; i < single.parameters().size(); ++i) {
    const double a = distributed.parameters()[i], b = single.parameters()[i];
    EXPECT_LE(std::abs(a - b), 1e-5 * std::max(1.0, std::abs(b))) << "parameter " << i;
  }
  expect_replicas_identical(distributed);
}

TEST_P(Distributed, UnevenPartsFinishWithoutHangingAndStayIdentical) {
  const auto rank = std::size_t(world().rank());
  // Rank 0 has 23 rows, rank 1 has 2 (fewer than its local batch of 4), any
  // further rank has 1.
  const std::size_t mine = rank == 0 ? 23 : rank == 1 ? 2 : 1;
  const auto local = encoded(samples(100 * rank, mine));
  CommunicatorGroup group = ranks_group(GetParam());
  Model<float> model = fresh_model();
  TrainOptions o = options(8, 4);
  o.keep_prob = 0.8;
  Trainer<float> trainer(model, local, nullptr, o, nullptr, &group);
  const std::size_t ranks = std::size_t(world().size());
  const std::size_t rank0_batch = 8 / ranks + (8 % ranks > 0 ? 1 : 0);
  EXPECT_EQ(trainer.steps_per_epoch(), (23 + rank0_batch - 1) / rank0_batch) << "rank 0's part sets the pace";
  const TrainResult r = trainer.run();
  EXPECT_EQ(r.epochs_run, 4u);
  expect_replicas_identical(model);
}

TEST_P(Distributed, EarlyStoppingEndsEveryRankInTheSameEpoch) {
  const auto rank = std::size_t(world().rank());
  const auto local = encoded(samples(50 * rank, 12));
  const auto val = encoded(samples(1000 + 50 * rank, 5 + rank));
  CommunicatorGroup group = ranks_group(GetParam());
  Model<float> model(Architecture::mlp(4, std::vector<std::size_t>{64}, Activation::tanh, 3, Activation::softmax));
  initialize(model, Initializer::glorot, 3);
  TrainOptions o = options(6, 300);
  o.schedule.base = 0.5;
  o.early_stopping = {3, 0, true};
  const TrainResult r = Trainer<float>(model, local, &val, o, nullptr, &group).run();
  const auto epochs = std::int64_t(r.epochs_run);
  EXPECT_EQ(world().allreduce(epochs, ReduceOp::min), world().allreduce(epochs, ReduceOp::max));
  EXPECT_EQ(r.reason, StopReason::early_stopping);
  expect_replicas_identical(model);
}

TEST_P(Distributed, PlateauAndClippingDecideAlikeOnEveryRankAndAdamStateResumes) {
  // Uneven validation parts: the agreed val_loss (summed over the ranks)
  // decides the plateau, so every rank lowers its rate in the same epochs;
  // clipping sees the summed gradient, the same on every rank.
  const auto rank = std::size_t(world().rank());
  const auto local = encoded(samples(40 * rank, 31 + 3 * rank));
  const auto val = encoded(samples(3000 + 20 * rank, 7 + 2 * rank));
  CommunicatorGroup group = ranks_group(GetParam());
  TrainOptions o = options(8, 14);
  o.optimizer = {};
  o.optimizer.kind = OptimizerKind::adam;
  o.schedule.base = 0.05;
  o.schedule.kind = ScheduleKind::plateau;
  o.plateau_patience = 1;
  o.plateau_factor = 0.5;
  o.clip_norm = 0.05;
  o.clip_value = 0.01;
  Model<float> whole = fresh_model();
  std::vector<double> rates;
  Trainer<float>(whole, local, &val, o, nullptr, &group).run([&](const EpochMetrics& m) {
    rates.push_back(m.learning_rate);
  });
  std::vector<double> low(rates), high(rates);
  world().allreduce(std::span<double>(low), ReduceOp::min);
  world().allreduce(std::span<double>(high), ReduceOp::max);
  EXPECT_EQ(low, high) << "ranks changed rate in different epochs";
  EXPECT_LT(rates.back(), rates.front()) << "the plateau never lowered the rate: the test shows nothing";
  expect_replicas_identical(whole);

  // Stopped after 5 epochs (its state as a checkpoint holds it) and resumed:
  // Adam's moments, its step count and the plateau's state carry it on bit for bit.
  Model<float> parts = fresh_model();
  TrainOptions first = o;
  first.epochs = 5;
  Trainer<float> before(parts, local, &val, first, nullptr, &group);
  std::optional<Trainer<float>::State> state;
  before.run([&](const EpochMetrics&) { state = before.state(); });
  ASSERT_TRUE(state.has_value());
  Trainer<float> after(parts, local, &val, o, nullptr, &group);
  after.restore(*state);
  std::vector<double> later;
  after.run([&](const EpochMetrics& m) { later.push_back(m.learning_rate); });
  EXPECT_EQ(later, std::vector<double>(rates.begin() + 5, rates.end()));
  EXPECT_TRUE(std::equal(whole.parameters().begin(), whole.parameters().end(), parts.parameters().begin()))
      << "resumed weights differ from the uninterrupted run";
}

TEST_P(Distributed, NaNOnOneRankStopsEveryRankInTheSameStep) {
  const auto rank = std::size_t(world().rank());
  Dataset d = samples(40 * rank, 20);
  // Rank 1's part holds a NaN (as a fault mid-training would produce; files
  // with NaN are refused at load).
  if (rank == 1) d.features(13, 2) = std::numeric_limits<float>::quiet_NaN();
  const auto local = encoded(d);
  CommunicatorGroup group = ranks_group(GetParam());
  Model<float> model = fresh_model();
  TrainOptions o = options(6, 10);
  const TrainResult r = Trainer<float>(model, local, nullptr, o, nullptr, &group).run();
  EXPECT_EQ(r.reason, StopReason::diverged);
  EXPECT_GE(r.diverged_step, 1u);
  for (const auto value : {std::int64_t(r.diverged_epoch), std::int64_t(r.diverged_step)})
    EXPECT_EQ(world().allreduce(value, ReduceOp::min), world().allreduce(value, ReduceOp::max));
  for (float p : model.parameters()) ASSERT_TRUE(std::isfinite(p));
  expect_replicas_identical(model);
}

TEST_P(Distributed, StopRequestOnOneRankStopsEveryRankAfterTheSameStepAndResumesBitIdentical) {
  const int last = world().size() - 1;
  const auto local = encoded(samples(30 * std::size_t(world().rank()), 30));
  CommunicatorGroup group = ranks_group(GetParam());
  TrainOptions o = options(6, 8);
  o.keep_prob = 0.8;
  o.checkpoints = {0, 1e-9};  // by rank 0's clock: due every epoch, on every rank alike
  Model<float> whole = fresh_model();
  Trainer<float>(whole, local, nullptr, o, nullptr, &group).run();

  Model<float> parts = fresh_model();
  Trainer<float> trainer(parts, local, nullptr, o, nullptr, &group);
  // Only the last rank is "signalled" (asked), at its 4th step of epoch 3;
  // rank 0's deadline comes due in the same step. Every rank learns that
  // it was asked: the asked kind wins.
  std::size_t epochs_seen = 0, polls = 0;
  trainer.watch_stop_request([&] {
    if (epochs_seen != 2 || ++polls < 4) return StopRequest::none;
    return world().rank() == last ? StopRequest::asked : world().rank() == 0 ? StopRequest::deadline : StopRequest::none;
  });
  std::vector<std::int64_t> checkpoints;
  EpochMetrics stopped;
  const TrainResult r = trainer.run([&](const EpochMetrics& m) {
    ++epochs_seen;
    checkpoints.push_back(m.checkpoint);
    stopped = m;
  });
  EXPECT_EQ(r.reason, StopReason::requested);
  EXPECT_EQ(r.request, StopRequest::asked);
  EXPECT_TRUE(stopped.partial);
  EXPECT_EQ(stopped.epoch, 3u);
  EXPECT_EQ(stopped.steps_done, 4u);
  ASSERT_EQ(checkpoints.size(), 3u);
  std::vector<std::int64_t> low(checkpoints), high(checkpoints);
  world().allreduce(std::span<std::int64_t>(low), ReduceOp::min);
  world().allreduce(std::span<std::int64_t>(high), ReduceOp::max);
  EXPECT_EQ(low, high) << "ranks took different checkpoint decisions";
  EXPECT_EQ(checkpoints, (std::vector<std::int64_t>{1, 1, 1}));
  expect_replicas_identical(parts);

  // A restarted trainer continues epoch 3 at step 5 and ends where the
  // uninterrupted run did.
  const auto state = trainer.state();
  EXPECT_EQ(state.steps_into_epoch, 4u);
  Model<float> restarted = fresh_model();
  std::copy(parts.parameters().begin(), parts.parameters().end(), restarted.parameters().begin());
  Trainer<float> after(restarted, local, nullptr, o, nullptr, &group);
  after.restore(state);
  const TrainResult finished = after.run();
  EXPECT_EQ(finished.reason, StopReason::max_epochs);
  EXPECT_TRUE(std::equal(whole.parameters().begin(), whole.parameters().end(), restarted.parameters().begin()))
      << "resumed weights differ from the uninterrupted run";
}

TEST_P(Distributed, ResumeFromTheTrainerStateIsBitIdentical) {
  const auto rank = std::size_t(world().rank());
  const auto local = encoded(samples(40 * rank, 37 + rank));
  const auto val = encoded(samples(2000 + 20 * rank, 9));
  CommunicatorGroup group = ranks_group(GetParam());
  TrainOptions o = options(8, 6);
  o.keep_prob = 0.8;  // the dropout streams must resume too
  o.early_stopping = {100, 0, true};
  Model<float> whole = fresh_model();
  Trainer<float>(whole, local, &val, o, nullptr, &group).run();

  Model<float> parts = fresh_model();
  TrainOptions first = o;
  first.epochs = 3;
  Trainer<float> before(parts, local, &val, first, nullptr, &group);
  // What a checkpoint holds: the state and weights after the epoch (not the
  // best weights run() restores when it ends).
  std::optional<Trainer<float>::State> state;
  std::vector<float> saved;
  before.run([&](const EpochMetrics&) {
    state = before.state();
    saved.assign(parts.parameters().begin(), parts.parameters().end());
  });
  // A fresh trainer (as after a restart) from the saved state and weights.
  Model<float> restarted = fresh_model();
  std::copy(saved.begin(), saved.end(), restarted.parameters().begin());
  Trainer<float> after(restarted, local, &val, o, nullptr, &group);
  after.restore(*state);
  after.run();
  EXPECT_TRUE(std::equal(whole.parameters().begin(), whole.parameters().end(), restarted.parameters().begin()))
      << "resumed weights differ from the uninterrupted run";
  expect_replicas_identical(restarted);
}

// The overlapped exchange sums the same values as the fused one, only in
// parts started during backward: the weights it trains match the fused
// run's (bit for bit with 2 ranks, whose sum a + b has one order; to
// rounding with 3), and a second run repeats the first bit for bit whatever
// the timing of the background thread.
// --shuffle global (issue 17): every rank holds the whole data set, or
// streams it through a buffer of 13 rows read in chunks of 7 from two
// "files" of rows: the same rows in the same steps, so the same weights bit
// for bit, with and without the helper thread; a run stopped mid-epoch and
// resumed streamed ends where the uninterrupted one did; and a read error
// on one rank is raised by the wait for that batch.
TEST_P(Distributed, StreamedGlobalShuffleTrainsAsTheWholeDataInMemoryAndResumes) {
  const auto whole_data = encoded(samples(0, 101));
  CommunicatorGroup group = ranks_group(GetParam());
  TrainOptions o = options(6, 4);
  o.keep_prob = 0.8;
  o.order = {ShuffleMode::global, {{0, 45}, {45, 101}}, 10, 13};
  Model<float> held = fresh_model();
  Trainer<float>(held, whole_data, nullptr, o, nullptr, &group).run();
  expect_replicas_identical(held);

  int reads = 0, fail_at = -1;  // the read that throws (-1: none)
  const StreamedBatches<float>::Reader reader = [&](const std::vector<RowRange>& ranges, MatrixView<float> x,
                                                    MatrixView<float> t) {
    if (reads++ == fail_at) throw DataError("shard-00001-of-00002.h5: /features: read failed");
    std::size_t at = 0;
    for (const RowRange& r : ranges)
      for (std::size_t row = r.begin; row < r.end; ++row, ++at) {
        std::copy_n(whole_data.features.values.data() + row * 4, 4, x.row(at));
        std::copy_n(whole_data.targets.values.data() + row * 3, 3, t.row(at));
      }
    ASSERT_EQ(at, x.rows);
  };
  const auto plan = [&] {
    StreamedBatches<float>::Plan p;
    p.files = o.order.files;
    p.block_rows = 10;
    p.buffer = 13;
    p.chunk_rows = 7;
    p.rank = std::size_t(world().rank());
    p.ranks = std::size_t(world().size());
    p.seed = o.seed;
    return p;
  };
  const EncodedData<float> none_data{Matrix<float>(0, 4), Matrix<float>(0, 3), {}};
  const std::size_t rows = global_rank_rows(101, std::size_t(world().rank()), std::size_t(world().size()));
  for (const bool prefetch : {false, true}) {
    StreamedBatches<float> batches(reader, plan(), 4, 3, 6, prefetch);
    const StreamedTraining<float> streamed{batches, rows, true};
    Model<float> model = fresh_model();
    Trainer<float>(model, none_data, nullptr, o, nullptr, &group, &streamed).run();
    EXPECT_TRUE(std::equal(held.parameters().begin(), held.parameters().end(), model.parameters().begin()))
        << "streamed weights differ from the held ones (prefetch " << prefetch << ")";
  }

  // Stopped after step 3 of epoch 2, resumed by a new trainer and buffer.
  StreamedBatches<float> first_batches(reader, plan(), 4, 3, 6, true);
  const StreamedTraining<float> first_stream{first_batches, rows, true};
  Model<float> parts = fresh_model();
  Trainer<float> before(parts, none_data, nullptr, o, nullptr, &group, &first_stream);
  std::size_t epochs_seen = 0, polls = 0;
  before.watch_stop_request([&] {
    return epochs_seen == 1 && ++polls >= 3 ? StopRequest::asked : StopRequest::none;
  });
  const TrainResult r = before.run([&](const EpochMetrics&) { ++epochs_seen; });
  ASSERT_EQ(r.reason, StopReason::requested);
  const auto state = before.state();
  EXPECT_EQ(state.steps_into_epoch, 3u);
  StreamedBatches<float> second_batches(reader, plan(), 4, 3, 6, true);
  const StreamedTraining<float> second_stream{second_batches, rows, true};
  Trainer<float> after(parts, none_data, nullptr, o, nullptr, &group, &second_stream);
  after.restore(state);
  after.run();
  EXPECT_TRUE(std::equal(held.parameters().begin(), held.parameters().end(), parts.parameters().begin()))
      << "resumed streamed weights differ from the uninterrupted run";

  // --shuffle none: each rank's part in file order, held or streamed alike.
  {
    const std::size_t rank = std::size_t(world().rank()), ranks = std::size_t(world().size());
    const std::size_t first = 101 * rank / ranks, last = 101 * (rank + 1) / ranks;
    const auto part = encoded(samples(first, last - first));
    TrainOptions none = o;
    none.order = {ShuffleMode::none, {}, 10, 13};
    Model<float> held_part = fresh_model();
    Trainer<float>(held_part, part, nullptr, none, nullptr, &group).run();
    StreamedBatches<float>::Plan p = plan();
    p.mode = ShuffleMode::none;
    p.part = {{first, last}};
    StreamedBatches<float> batches(reader, p, 4, 3, 6, true);
    const StreamedTraining<float> streamed{batches, last - first, true};
    Model<float> model = fresh_model();
    Trainer<float>(model, none_data, nullptr, none, nullptr, &group, &streamed).run();
    EXPECT_TRUE(std::equal(held_part.parameters().begin(), held_part.parameters().end(), model.parameters().begin()))
        << "--shuffle none: streamed weights differ from the held ones";
  }

  // A read that fails on the last rank (its 5th) is thrown there from run().
  if (world().rank() == world().size() - 1) {
    reads = 0;
    fail_at = 4;
    StreamedBatches<float> failing(reader, plan(), 4, 3, 6, GetParam());
    failing.start_epoch(0, 0);
    bool thrown = false;
    try {
      for (int s = 0; s < 20; ++s) {
        failing.request(s % 2, 2);
        failing.wait(s % 2);
      }
    } catch (const DataError& e) {
      thrown = std::string(e.what()).find("shard-00001-of-00002.h5") != std::string::npos;
    }
    EXPECT_TRUE(thrown);
  }
}

TEST(Overlap, BucketedExchangeMatchesTheFusedOneAndRepeatsBitForBit) {
  const auto rank = std::size_t(world().rank());
  const auto local = encoded(samples(30 * rank, 25 + 3 * rank));
  TrainOptions o = options(9, 5);
  o.keep_prob = 0.9;
  const auto train = [&](bool overlap, std::size_t bucket_floats) {
    CommunicatorGroup group = ranks_group(overlap);
    EXPECT_EQ(group.background(), overlap && world().size() > 1);
    TrainOptions with = o;
    with.bucket_floats = bucket_floats;
    Model<float> model = fresh_model();
    Trainer<float>(model, local, nullptr, with, nullptr, &group).run();
    expect_replicas_identical(model);
    return std::vector<float>(model.parameters().begin(), model.parameters().end());
  };
  const std::vector<float> fused = train(false, 0);
  for (const std::size_t bucket : {std::size_t{1}, std::size_t{8}, std::size_t{40}, std::size_t{1} << 20}) {
    const std::vector<float> overlapped = train(true, bucket), again = train(true, bucket);
    EXPECT_EQ(overlapped, again) << "bucket of " << bucket << " values: two runs differ";
    for (std::size_t i = 0; i < fused.size(); ++i) {
      if (world().size() == 2) {
        EXPECT_EQ(overlapped[i], fused[i]) << "parameter " << i << ", bucket " << bucket;
      }
      EXPECT_NEAR(overlapped[i], fused[i], 1e-5 * std::max(1.0f, std::abs(fused[i])))
          << "parameter " << i << ", bucket " << bucket;
    }
  }
}

// Gradients exchanged as 16-bit values: every rank still holds the same
// weights, a second run repeats the first bit for bit (fused and
// overlapped), and the result stays near the fp32 run's.
TEST(Compressed, SixteenBitExchangesKeepReplicasIdenticalRepeatAndStayNearFp32) {
  const auto rank = std::size_t(world().rank());
  const auto local = encoded(samples(30 * rank, 40 + rank));
  const auto train = [&](GradPrecision precision, bool overlap) {
    CommunicatorGroup group = ranks_group(overlap);
    TrainOptions o = options(12, 6);
    o.grad_precision = precision;
    o.bucket_floats = overlap ? 8 : 0;
    Model<float> model = fresh_model();
    std::size_t skipped = 0;
    Trainer<float>(model, local, nullptr, o, nullptr, &group).run([&](const EpochMetrics& m) {
      skipped += m.skipped_steps;
      EXPECT_EQ(m.bytes_per_step, double((model.parameters().size() + Model<float>::kControlSlots) *
                                         (precision == GradPrecision::fp32 ? 4 : 2)));
    });
    EXPECT_EQ(skipped, 0u) << "nothing here comes near fp16's range";
    expect_replicas_identical(model);
    return std::vector<float>(model.parameters().begin(), model.parameters().end());
  };
  const std::vector<float> exact = train(GradPrecision::fp32, false);
  for (const GradPrecision precision : {GradPrecision::bf16, GradPrecision::fp16})
    for (const bool overlap : {false, true}) {
      SCOPED_TRACE(std::string(grad_precision_name(precision)) + (overlap ? ", overlapped" : ", fused"));
      const std::vector<float> first = train(precision, overlap), second = train(precision, overlap);
      EXPECT_EQ(first, second) << "two runs differ";
      double worst = 0;
      for (std::size_t i = 0; i < exact.size(); ++i) worst = std::max(worst, double(std::abs(first[i] - exact[i])));
      EXPECT_LT(worst, precision == GradPrecision::bf16 ? 0.05 : 0.01) << "far from the fp32 run";
      EXPECT_GT(worst, 0.0) << "16-bit rounding left no trace: was the exchange compressed?";
    }
}

// With fp16 a step whose summed gradients overflow is skipped on every rank
// (none applies it), the loss scale halves until the gradients fit, and the
// run goes on; resuming from a state taken after skips is bit-identical.
TEST(Compressed, Fp16OverflowSkipsTheStepOnEveryRankAndResumesBitIdentical) {
  const auto rank = std::size_t(world().rank());
  Dataset d = samples(30 * rank, 24);
  // Inputs of 1e3: with the initial scale of 2^16 the first layer's
  // gradients are far past 65504.
  for (auto& v : d.features.values) v *= 1000.0f;
  const auto local = encoded(d);
  CommunicatorGroup group(world());
  TrainOptions o = options(8, 4);
  o.schedule.base = 1e-4;
  o.grad_precision = GradPrecision::fp16;
  Model<float> whole = fresh_model();
  std::size_t skipped = 0;
  Trainer<float> trainer(whole, local, nullptr, o, nullptr, &group);
  trainer.run([&](const EpochMetrics& m) { skipped += m.skipped_steps; });
  EXPECT_GT(skipped, 0u);
  EXPECT_LT(skipped, trainer.steps_per_epoch() * 4) << "the scale never came down far enough";
  const auto all = std::int64_t(skipped);
  EXPECT_EQ(world().allreduce(all, ReduceOp::min), world().allreduce(all, ReduceOp::max));
  expect_replicas_identical(whole);
  for (float v : whole.parameters()) ASSERT_TRUE(std::isfinite(v));

  Model<float> parts = fresh_model();
  TrainOptions first = o;
  first.epochs = 1;
  Trainer<float> before(parts, local, nullptr, first, nullptr, &group);
  std::optional<Trainer<float>::State> state;
  before.run([&](const EpochMetrics&) { state = before.state(); });
  EXPECT_LT(state->loss_scale, 65536.0) << "the skips lowered the scale";
  Trainer<float> after(parts, local, nullptr, o, nullptr, &group);
  after.restore(*state);
  after.run();
  EXPECT_TRUE(std::equal(whole.parameters().begin(), whole.parameters().end(), parts.parameters().begin()))
      << "resumed weights differ from the uninterrupted run";
}

}  // namespace
}  // namespace sinapsis
