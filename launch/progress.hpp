// What `train` prints while it runs. Rank 0 alone writes to the terminal
// (with --log-all-ranks every rank does, each line prefixed by its rank).
//
// On a terminal: a progress bar for the current epoch (step, percent,
// samples/s, ETA of the run), redrawn at most 10 times a second, and a
// one-line summary per epoch, at most a few per second (always the first and
// the last).
// Elsewhere (SLURM logs, pipes): plain lines, each with a timestamp, no
// control characters; an epoch summary at most every `plain_interval`
// seconds (always the first and the last), and a progress line within an
// epoch that runs longer than that.
#pragma once

#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>

#include "core/trainer.hpp"

namespace sinapsis::cli {

class Progress {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    bool terminal = false;        // stdout is a TTY: progress bar and \r redraws
    std::string prefix;           // "[rank 2] " with --log-all-ranks
    double plain_interval = 10;   // seconds between plain lines
    double terminal_interval = 0.25;
    bool show_timing = false;     // add this rank's compute/comm/io seconds to epoch lines
  };

  Progress(std::ostream& out, Options options, std::size_t first_epoch, std::size_t epochs, bool has_val,
           bool has_test);

  // After every step; `samples` is the global samples of that step.
  void step(std::size_t epoch, std::size_t step, std::size_t steps, std::size_t samples, Clock::time_point now);
  // After every epoch (a partial one is not summarized).
  void epoch(const EpochMetrics& m, Clock::time_point now);
  // Ends a pending progress bar so that other output starts on a fresh line.
  void finish();

  // The one-line epoch summary (without prefix, timestamp or newline).
  std::string summary(const EpochMetrics& m) const;

 private:
  void line(const std::string& text);

  std::ostream& out_;
  Options options_;
  std::size_t first_epoch_, epochs_;
  bool has_val_, has_test_;
  Clock::time_point start_ = Clock::now(), last_line_{}, last_draw_{}, epoch_start_ = Clock::now();
  std::size_t epoch_samples_ = 0;
  bool bar_shown_ = false, any_line_ = false;
};

// A human timestamp for plain lines: "2026-11-27 04:05:54".
std::string timestamp();

}  // namespace sinapsis::cli
