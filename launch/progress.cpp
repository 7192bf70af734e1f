#include "launch/progress.hpp"

#include <cmath>
#include <ctime>
#include <iomanip>
#include <sstream>

#include "core/number_text.hpp"

namespace sinapsis::cli {
namespace {

double seconds(Progress::Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string clock_text(double total_seconds) {
  const auto s = static_cast<long long>(std::llround(std::max(0.0, total_seconds)));
  std::ostringstream text;
  if (s >= 3600) text << s / 3600 << ':' << std::setw(2) << std::setfill('0') << (s / 60) % 60;
  else text << s / 60;
  text << ':' << std::setw(2) << std::setfill('0') << s % 60;
  return text.str();
}

std::string number(double value) {
  return std::isnan(value) ? "-" : significant(value, 6);
}

}  // namespace

std::string timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  ::localtime_r(&now, &local);
  std::ostringstream text;
  text << std::put_time(&local, "%Y-%m-%d %H:%M:%S");
  return text.str();
}

Progress::Progress(std::ostream& out, Options options, std::size_t first_epoch, std::size_t epochs, bool has_val,
                   bool has_test)
    : out_(out), options_(std::move(options)), first_epoch_(first_epoch), epochs_(epochs), has_val_(has_val),
      has_test_(has_test) {}

void Progress::step(std::size_t epoch, std::size_t step, std::size_t steps, std::size_t samples,
                    Clock::time_point now) {
  if (step == 1) {
    epoch_start_ = now;
    epoch_samples_ = 0;
  }
  epoch_samples_ += samples;
  const double in_epoch = seconds(now - epoch_start_);
  const double rate = in_epoch > 0 ? double(epoch_samples_) / in_epoch : 0;
  // The run so far: epochs done in this invocation plus this one's fraction.
  const double done = double(epoch - first_epoch_) + double(step) / double(steps);
  const double left = double(epochs_ - first_epoch_) - done;
  const double elapsed = seconds(now - start_);
  const double eta_seconds = done > 0 ? elapsed / done * left : 0;
  if (options_.terminal) {
    if (seconds(now - last_draw_) < 0.1 && step != steps) return;
    last_draw_ = now;
    constexpr int kWidth = 24;
    const int filled = int(double(kWidth) * double(step) / double(steps));
    std::ostringstream bar;
    bar << "\r" << options_.prefix << "epoch " << epoch << "/" << epochs_ << " ["
        << std::string(std::size_t(filled), '=') << std::string(std::size_t(kWidth - filled), ' ') << "] "
        << std::setw(3) << 100 * step / steps << "%  " << std::fixed << std::setprecision(0) << rate
        << " samples/s  ETA " << clock_text(eta_seconds) << "\x1b[K";
    out_ << bar.str() << std::flush;
    bar_shown_ = true;
  } else if (in_epoch >= options_.plain_interval && seconds(now - last_line_) >= options_.plain_interval) {
    std::ostringstream text;
    text << "epoch " << epoch << "/" << epochs_ << ": step " << step << "/" << steps << " ("
         << 100 * step / steps << "%), " << std::fixed << std::setprecision(0) << rate << " samples/s, ETA "
         << clock_text(eta_seconds);
    line(text.str());
    last_line_ = now;
  }
}

std::string Progress::summary(const EpochMetrics& m) const {
  std::ostringstream text;
  text << "epoch " << m.epoch << "/" << epochs_ << "  train_loss " << number(m.train_loss);
  if (!std::isnan(m.train_accuracy)) text << "  train_accuracy " << number(m.train_accuracy);
  if (has_val_) text << "  val_loss " << number(m.val_loss);
  if (has_val_ && !std::isnan(m.val_accuracy)) text << "  val_accuracy " << number(m.val_accuracy);
  if (has_test_) text << "  test_loss " << number(m.test_loss);
  if (has_test_ && !std::isnan(m.test_accuracy)) text << "  test_accuracy " << number(m.test_accuracy);
  if (m.penalty > 0) text << "  penalty " << number(m.penalty);
  text << "  " << std::fixed << std::setprecision(0) << m.samples_per_second << " samples/s";
  if (options_.show_timing)
    text << std::setprecision(3) << "  compute " << m.compute_seconds << " s, comm " << m.comm_seconds << " s, io "
         << m.io_seconds << " s";
  return text.str();
}

void Progress::epoch(const EpochMetrics& m, Clock::time_point now) {
  if (m.partial) return;
  const double interval = options_.terminal ? options_.terminal_interval : options_.plain_interval;
  const bool edge = !any_line_ || m.epoch == epochs_;
  if (!edge && seconds(now - last_line_) < interval) return;
  line(summary(m));
  last_line_ = now;
  any_line_ = true;
}

void Progress::finish() {
  if (!bar_shown_) return;
  out_ << "\r\x1b[K" << std::flush;
  bar_shown_ = false;
}

void Progress::line(const std::string& text) {
  finish();
  if (options_.terminal) out_ << options_.prefix << text << std::endl;
  else out_ << options_.prefix << "[" << timestamp() << "] " << text << std::endl;
}

}  // namespace sinapsis::cli
