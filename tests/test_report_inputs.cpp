// What report reads, checked before it writes: metrics.csv parsed with empty
// fields as NaN, and every way the file can be broken refused with the file,
// the line and what is wrong; config.ini read as --config reads it.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "launch/report_inputs.hpp"

namespace sinapsis::cli {
namespace {

const std::string kHeader =
    "epoch,train_loss,val_loss,val_accuracy,penalty,learning_rate,epoch_seconds,samples_per_second,test_loss,"
    "test_accuracy,compute_seconds,comm_seconds,io_seconds\n";

TEST(MetricsCsv, ReadsColumnsByNameWithEmptyFieldsAsNaN) {
  const MetricsTable t = parse_metrics_csv(kHeader + "1,0.69,,,0,0.03,0.1,1000,,,0.05,0,0.01\n"
                                                     "2,0.5,,,0,0.03,0.1,1000,,,0.05,0,inf\n",
                                           "run/metrics.csv");
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.column("epoch"), (std::vector<double>{1, 2}));
  EXPECT_EQ(t.column("train_loss"), (std::vector<double>{0.69, 0.5}));
  EXPECT_TRUE(std::isnan(t.column("val_loss")[0]));
  EXPECT_TRUE(std::isinf(t.column("io_seconds")[1])) << "infinity is how a diverged value is written";
  EXPECT_TRUE(t.column("no_such_column").empty());
  // A run stopped before its first epoch ended has the header alone.
  EXPECT_TRUE(parse_metrics_csv(kHeader, "m").rows.empty());
}

TEST(MetricsCsv, RefusesEveryBrokenFileNamingTheLine) {
  const std::string row1 = "1,0.69,,,0,0.03,0.1,1000,,,0.05,0,0.01\n";
  const struct {
    std::string text, message;
  } cases[] = {
      {"", "run/metrics.csv: the file is empty"},
      {kHeader + row1 + "2,0.5,,,0,0.0", "run/metrics.csv line 3: cut short (the file does not end with a newline)"},
      {kHeader + "1,0.69,,\n", "run/metrics.csv line 2: 4 fields, but the header has 13"},
      {kHeader + "1,abc,,,0,0.03,0.1,1000,,,0.05,0,0.01\n", "run/metrics.csv line 2: train_loss 'abc' is not a number"},
      {kHeader + "1,0.5x,,,0,0.03,0.1,1000,,,0.05,0,0.01\n", "run/metrics.csv line 2: train_loss '0.5x' is not a number"},
      {kHeader + "1, 0.5,,,0,0.03,0.1,1000,,,0.05,0,0.01\n", "run/metrics.csv line 2: train_loss ' 0.5' is not a number"},
      {kHeader + "0.5,0.69,,,0,0.03,0.1,1000,,,0.05,0,0.01\n", "run/metrics.csv line 2: epoch '0.5' is not a whole number >= 1"},
      {kHeader + ",0.69,,,0,0.03,0.1,1000,,,0.05,0,0.01\n", "run/metrics.csv line 2: epoch '' is not a whole number >= 1"},
      {kHeader + row1 + row1, "run/metrics.csv line 3: epoch 1 after epoch 1 (epochs must increase)"},
      {kHeader + row1 + "\n", "run/metrics.csv line 3: empty"},
      {"epoch,trainloss\n1,0.5\n", "run/metrics.csv line 1: the header has no train_loss column (got 'epoch,trainloss')"},
      {"1,0.69\n2,0.5\n", "run/metrics.csv line 1: the header has no epoch column (got '1,0.69')"},
      {"epoch,train_loss,epoch\n", "run/metrics.csv line 1: the header names column epoch twice"},
      {"epoch,,train_loss\n", "run/metrics.csv line 1: the header has an empty column name"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    try {
      parse_metrics_csv(c.text, "run/metrics.csv");
      ADD_FAILURE() << "accepted";
    } catch (const DataError& e) {
      EXPECT_EQ(std::string(e.what()), c.message);
    }
  }
}

TEST(RunConfig, ReadsTheOptionsTheReportUses) {
  const RunConfig c = parse_run_config("# comment\n[train]\nbatch = 10\ndata = my data.h5\nval-split = 0.2\n"
                                       "test-split = 0.25\nseed = 7\npatience = 5\nno-restore-best = true\n",
                                       "run/config.ini");
  EXPECT_EQ(c.data.data, "my data.h5");
  EXPECT_EQ(c.data.val_split, 0.2);
  EXPECT_EQ(c.data.test_split, 0.25);
  EXPECT_EQ(c.data.seed, 7u);
  EXPECT_EQ(c.patience, 5u);
  EXPECT_FALSE(c.restore_best);
}

TEST(RunConfig, RefusesAMalformedFileNamingIt) {
  const struct {
    std::string text, what;
  } cases[] = {
      {"", "no 'data = ...' under [train]"},
      {"[predict]\ndata = d.h5\n", "no 'data = ...' under [train]"},
      {"[train]\ndata = d.h5\nthis line is not an option\n", "this line is not an option"},
      {"[train]\ndata = d.h5\nval-split = abc\n", "abc"},
      {"[train]\ndata = d.h5\nval-split = 0.7\ntest-split = 0.5\n", "--val-split + --test-split must be < 1"},
      {"[train]\ndata = d.h5\ndata = e.h5\n", "data"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    try {
      parse_run_config(c.text, "run/config.ini");
      ADD_FAILURE() << "accepted";
    } catch (const DataError& e) {
      const std::string message = e.what();
      EXPECT_EQ(message.rfind("run/config.ini: ", 0), 0u) << message;
      EXPECT_NE(message.find(c.what), std::string::npos) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
    }
  }
}

}  // namespace
}  // namespace sinapsis::cli
