// What train prints while it runs: plain timestamped lines without control
// characters when not on a terminal, at a limited rate (first and last
// epoch always); a redrawn progress bar on a terminal; the rank prefix of
// --log-all-ranks.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "launch/progress.hpp"
#include "tests/mpi_cli.hpp"

namespace sinapsis::cli {
namespace {

using Clock = Progress::Clock;
using std::chrono::seconds;

EpochMetrics metrics(std::size_t epoch) {
  EpochMetrics m;
  m.epoch = epoch;
  m.train_loss = 0.5;
  m.samples_per_second = 1000;
  return m;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(Progress, PlainLinesAreTimestampedRateLimitedAndFreeOfControlCharacters) {
  std::ostringstream out;
  Progress::Options o;
  o.plain_interval = 10;
  Progress p(out, o, 0, 100, false, false);
  const auto t0 = Clock::now();
  // 100 epochs of 1 s, 4 steps each.
  for (std::size_t e = 1; e <= 100; ++e) {
    for (std::size_t s = 1; s <= 4; ++s) p.step(e, s, 4, 25, t0 + seconds(e - 1) + std::chrono::milliseconds(250 * s));
    p.epoch(metrics(e), t0 + seconds(e));
  }
  const std::string text = out.str();
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  // First, last, and one every 10 s in between; no step lines (epochs are short).
  EXPECT_GE(count(text, "\n"), 10u);
  EXPECT_LE(count(text, "\n"), 12u);
  EXPECT_NE(text.find("epoch 1/100  train_loss 0.5"), std::string::npos) << text;
  EXPECT_NE(text.find("epoch 100/100  train_loss 0.5"), std::string::npos) << text;
  EXPECT_EQ(text.find("step "), std::string::npos) << text;
  const std::regex stamped(R"(^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] epoch \d+/100 .*)");
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) EXPECT_TRUE(std::regex_match(line, stamped)) << line;
}

TEST(Progress, ALongEpochGetsProgressLinesWithRateAndEta) {
  std::ostringstream out;
  Progress::Options o;
  o.plain_interval = 10;
  Progress p(out, o, 0, 2, false, false);
  const auto t0 = Clock::now();
  for (std::size_t s = 1; s <= 60; ++s) p.step(1, s, 60, 100, t0 + seconds(s));  // 60 s epoch
  const std::string text = out.str();
  EXPECT_GE(count(text, "epoch 1/2: step "), 4u) << text;
  EXPECT_LE(count(text, "epoch 1/2: step "), 6u) << text;
  EXPECT_NE(text.find("samples/s, ETA "), std::string::npos) << text;
}

TEST(Progress, ATerminalGetsARedrawnBarThenTheSummaryOnACleanLine) {
  std::ostringstream out;
  Progress::Options o;
  o.terminal = true;
  Progress p(out, o, 0, 3, true, false);
  const auto t0 = Clock::now();
  for (std::size_t s = 1; s <= 10; ++s) p.step(1, s, 10, 8, t0 + std::chrono::milliseconds(200 * s));
  EpochMetrics m = metrics(1);
  m.val_loss = 0.25;
  p.epoch(m, t0 + seconds(2));
  const std::string text = out.str();
  EXPECT_NE(text.find("\repoch 1/3 [=="), std::string::npos) << text;
  EXPECT_NE(text.find("100%"), std::string::npos) << text;
  EXPECT_NE(text.find("\r\x1b[Kepoch 1/3  train_loss 0.5  val_loss 0.25"), std::string::npos) << text;
}

TEST(Progress, LogAllRanksPrefixesEveryLineWithItsRankUnderMpirun) {
  const std::string data = "/tmp/sinapsis_progress_" + std::to_string(::getpid()) + ".h5";
  ASSERT_EQ(test::run_sinapsis("data make --dataset xor --samples 200 --out " + data).status, 0);
  const auto r = test::run_mpi("train --data " + data + " --epochs 2 --out " + data + ".run --log-all-ranks", 3);
  ASSERT_EQ(r.status, 0) << r.output;
  for (int rank = 0; rank < 3; ++rank)
    EXPECT_NE(r.output.find("[rank " + std::to_string(rank) + "] ["), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("comm "), std::string::npos) << r.output;
  // Without it, rank 0 alone prints, and a pipe gets no control characters.
  const auto quiet_ranks = test::run_mpi("train --data " + data + " --epochs 2 --overwrite --out " + data + ".run", 3);
  ASSERT_EQ(quiet_ranks.status, 0) << quiet_ranks.output;
  EXPECT_EQ(quiet_ranks.output.find("[rank "), std::string::npos) << quiet_ranks.output;
  EXPECT_EQ(count(quiet_ranks.output, "epoch 1/2"), 1u) << quiet_ranks.output;
  EXPECT_EQ(quiet_ranks.output.find('\r'), std::string::npos);
  test::run_command("rm -rf " + data + " " + data + ".run");
}

}  // namespace
}  // namespace sinapsis::cli
