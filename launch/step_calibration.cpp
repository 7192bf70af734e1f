#include "launch/step_calibration.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <latch>
#include <mutex>
#include <optional>
#include <thread>

#include "core/init.hpp"
#include "core/random.hpp"
#include "core/trainer.hpp"
#include "launch/memory_check.hpp"
#include "launch/options.hpp"

namespace sinapsis::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Rows of uniform features and one-hot targets (class r mod outputs).
EncodedData<float> synthetic_data(const Architecture& architecture, std::size_t rows, std::uint64_t seed) {
  const std::size_t inputs = architecture.inputs(), outputs = architecture.outputs();
  EncodedData<float> data{Matrix<float>(rows, inputs), Matrix<float>(rows, outputs), {}};
  Rng rng(seed);
  for (float& x : data.features.values) x = float(rng.uniform(-1, 1));
  data.class_ids.resize(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    data.class_ids[r] = std::int32_t(r % outputs);
    data.targets(r, r % outputs) = 1;
  }
  return data;
}

std::size_t rows_per_trainer(const Architecture& architecture, std::size_t batch) {
  const std::size_t row_bytes = sizeof(float) * (architecture.inputs() + architecture.outputs());
  return std::max(batch * 2, kDataBytes / row_bytes + 1);
}

// What one trainer holds: its rows and their order, the two batches the
// prefetch alternates between, and what training the model takes.
std::optional<std::uint64_t> trainer_bytes(const Architecture& architecture, std::size_t batch, std::size_t rows) {
  const std::uint64_t row_floats = architecture.inputs() + architecture.outputs();
  const auto data = checked_product({rows, row_floats + 2, sizeof(float)});  // + the order and class id
  const auto batches = checked_product({2, batch, row_floats, sizeof(float)});
  return checked_sum(checked_sum(data, batches), training_bytes(architecture, batch));
}

}  // namespace

void require_timing_memory(const Architecture& architecture, std::size_t batch, std::size_t together) {
  const auto one = trainer_bytes(architecture, batch, rows_per_trainer(architecture, batch));
  require_memory(one ? checked_product({*one, together}) : std::nullopt,
                 option_text("batch-per-rank", std::to_string(batch)),
                 "timing " + std::to_string(together) + " trainer(s) at once on this host (give --gflops instead)");
}

std::vector<double> time_trainer_steps(const Architecture& architecture, const StepTimingOptions& options) {
  const std::size_t rows = rows_per_trainer(architecture, options.batch);
  require_timing_memory(architecture, options.batch, options.together);

  std::atomic<bool> stop{false};
  std::latch ready(std::ptrdiff_t(options.together));  // every trainer's data made: time them together
  std::mutex merged;
  std::vector<double> seconds;
  std::exception_ptr failure;
  const auto trainer = [&](std::size_t copy) {
    bool arrived = false;
    try {
      const EncodedData<float> data = synthetic_data(architecture, rows, derive_seed({copy, 0x57e9}));
      Model<float> model(architecture);
      initialize(model, Initializer::glorot, copy + 1);
      TrainOptions t;
      t.loss = Loss::mse;
      t.batch = options.batch;
      t.epochs = std::size_t{1} << 30;
      t.schedule.base = 1e-4;  // small enough never to diverge on these targets
      t.optimizer.momentum = options.momentum;
      t.seed = copy + 1;
      t.prefetch = options.prefetch ? TrainOptions::Prefetch::automatic : TrainOptions::Prefetch::off;
      Trainer<float> run(model, data, nullptr, t);
      std::vector<double> mine;
      std::size_t steps = 0;
      Clock::time_point last{}, started{}, timing_since{};
      run.watch_steps([&](std::size_t, std::size_t step, std::size_t, std::size_t) {
        const Clock::time_point now = Clock::now();
        ++steps;
        const bool warming = steps <= kWarmupSteps || now - started < kWarmupTime;
        if (!warming && timing_since == Clock::time_point{}) timing_since = last;
        if (!warming && step != 1) mine.push_back(std::chrono::duration<double>(now - last).count());
        last = now;
        if (!warming && mine.size() >= options.min_steps &&
            std::chrono::duration<double>(now - timing_since).count() >= options.seconds)
          stop = true;
      });
      run.watch_stop_request([&] { return stop ? StopRequest::asked : StopRequest::none; });
      arrived = true;
      ready.arrive_and_wait();
      started = last = Clock::now();
      run.run();
      stop = true;  // (a trainer that ended by itself ends the others' timing too)
      const std::lock_guard lock(merged);
      seconds.insert(seconds.end(), mine.begin(), mine.end());
    } catch (...) {
      stop = true;
      if (!arrived) ready.count_down();
      const std::lock_guard lock(merged);
      if (!failure) failure = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t copy = 1; copy < options.together; ++copy) threads.emplace_back(trainer, copy);
  trainer(0);
  for (auto& thread : threads) thread.join();
  if (failure) std::rethrow_exception(failure);
  return seconds;
}

}  // namespace sinapsis::cli
