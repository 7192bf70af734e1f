// The sweep grid and its records, without running anything: list and range
// parsing, the fixed trial order (depth 0 once, whatever the widths), the
// train arguments of a trial, CSV rows that read back, and the lecture's
// "simplest" order.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <set>

#include "core/error.hpp"
#include "launch/sweep_plan.hpp"

namespace sinapsis::cli {
namespace {

TEST(SweepPlan, ParsesRangesAndListsAndRefusesNonsense) {
  EXPECT_EQ(parse_count_list("0:3", "depth", 0), (std::vector<std::size_t>{0, 1, 2, 3}));
  EXPECT_EQ(parse_count_list("1,2,4", "width", 1), (std::vector<std::size_t>{1, 2, 4}));
  EXPECT_THROW(parse_count_list("0,2", "width", 1), UsageError);
  EXPECT_THROW(parse_count_list("3:1", "depth", 0), UsageError);
  EXPECT_THROW(parse_count_list("a", "depth", 0), UsageError);
  EXPECT_THROW(parse_count_list("", "depth", 0), UsageError);
  EXPECT_EQ(split_list("x1,x2; x1,x2,x1sq ;", ';'), (std::vector<std::string>{"x1,x2", "x1,x2,x1sq"}));
}

TEST(SweepPlan, RefusesRangesAndGridsTooLargeToQueue) {
  EXPECT_EQ(parse_count_list("18446744073709551614:18446744073709551615", "width", 1).size(), 2u);
  for (const char* range : {"0:1000000", "1:18446744073709551615", "0:100000"}) {
    try {
      parse_count_list(range, "depth", 0);
      ADD_FAILURE() << range;
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()), "--depth: '" + std::string(range) +
                                           "' is a range of more than the 100000 trials a sweep's grid may hold");
    }
  }
  EXPECT_EQ(parse_count_list("0:99999", "depth", 0).size(), kMaxGridTrials);
  EXPECT_THROW(parse_count_list("-1", "depth", 0), UsageError);
  EXPECT_THROW(parse_count_list("1:-1", "width", 1), UsageError);

  SweepGrid g;
  g.depths = parse_count_list("0:300", "depth", 0);
  g.widths = parse_count_list("1:1000", "width", 1);
  EXPECT_EQ(grid_trials(g), std::optional<std::uint64_t>(1 + 300 * 1000));
  try {
    check_grid_fits(g, "--depth: '0:300' with --width: '1:1000'");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()),
              "--depth: '0:300' with --width: '1:1000' make a grid of 300001 trials, more than the 100000 a "
              "sweep's grid may hold");
  }
  g.lrs = {"0.1", "0.2"};
  g.depths = {0, 1};
  g.widths = {2, 4};
  EXPECT_EQ(grid_trials(g), std::optional<std::uint64_t>((1 + 2) * 2));
  EXPECT_NO_THROW(check_grid_fits(g, "--depth"));
  // One trial, but its network has 10^18 weights.
  g.depths = {1000000};
  g.widths = {1000000};
  EXPECT_EQ(grid_trials(g), std::optional<std::uint64_t>(2));
  try {
    check_grid_fits(g, "--depth: '1000000' with --width: '1000000'");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(": training its largest network (1000000 hidden layers of 1000000 units) "
                                         "needs more than 2^64 bytes"),
              std::string::npos)
        << e.what();
  }
}

TEST(SweepPlan, ExpandsTheGridInAFixedOrderWithDepthZeroOnce) {
  SweepGrid g;
  g.depths = {0, 1, 2};
  g.widths = {2, 4};
  g.feature_sets = {"x1,x2", "x1,x2,x1sq"};
  g.lrs = {"0.01", "0.1"};
  const auto trials = expand_grid(g);
  ASSERT_EQ(trials.size(), 2u * (1 + 2 + 2) * 2);
  for (std::size_t i = 0; i < trials.size(); ++i) EXPECT_EQ(trials[i].id, i);
  EXPECT_EQ(trials[0].depth, 0u);
  EXPECT_EQ(trials[0].width, 0u);
  EXPECT_EQ(trials[0].features, "x1,x2");
  EXPECT_EQ(trials[1].lr, "0.1");
  EXPECT_EQ(trials[2].depth, 1u);
  EXPECT_EQ(trials[10].features, "x1,x2,x1sq");
  const Args args = trial_arguments(trials[0], 99);
  EXPECT_EQ(args, (Args{"--hidden", "none", "--seed", "99", "--lr", "0.01", "--features", "x1,x2"}));
  EXPECT_EQ(trial_arguments(trials[6], 1)[1], "2,2");
  EXPECT_EQ(trial_arguments(trials[8], 1)[1], "4,4");
}

TEST(SweepPlan, RowsReadBackExactly) {
  TrialRecord r;
  r.config.id = 17;
  r.config.depth = 2;
  r.config.width = 4;
  r.config.features = "x1,x2,sinx1";
  r.config.lr = "0.03";
  r.inputs = 3;
  r.parameters = 41;
  r.epochs_run = 27;
  r.rung = 2;
  r.status = "failed";
  r.stop_reason = "max_epochs";
  r.val_loss = 0.125;
  r.test_loss = 0.25;
  r.message = "training diverged, in epoch 3\nstep 2";
  r.config.optimizer = "adamw";
  r.config.batch = "64";
  const auto columns = trial_csv_columns(trial_csv_header(), "header");
  const TrialRecord back = parse_trial_row(columns, trial_csv_row(r), "test");
  EXPECT_EQ(back.config.features, "x1,x2,sinx1");
  EXPECT_EQ(back.config.depth, 2u);
  EXPECT_EQ(back.elements(), 3u + 8u);
  EXPECT_EQ(back.val_loss, 0.125);
  EXPECT_TRUE(std::isnan(back.val_accuracy));
  EXPECT_EQ(back.message, "training diverged; in epoch 3 step 2");
  EXPECT_EQ(back.config.optimizer, "adamw");
  EXPECT_EQ(back.config.batch, "64");
  EXPECT_EQ(back.config.lr, "0.03");
  EXPECT_EQ(trial_csv_row(back), trial_csv_row(parse_trial_row(columns, trial_csv_row(back), "again")));
  EXPECT_THROW(parse_trial_row(columns, "1,2,3", "short.csv"), DataError);
}

// A sweep begun by an earlier version (trials.csv and rung files without the
// optimizer, lr_schedule, batch and momentum columns) reads on: the missing
// knobs are train's defaults. Headers of anything else are refused.
TEST(SweepPlan, RowsOfAnEarlierVersionReadWithTheKnobsItHadNot) {
  const std::string header =
      "trial,features,depth,width,activation,lr,l1,l2,keep_prob,test_split,inputs,hidden_units,parameters,"
      "epochs_run,rung,status,stop_reason,best_val_loss,val_loss,val_accuracy,test_loss,test_accuracy,seconds,"
      "ranks,message";
  const auto columns = trial_csv_columns(header, "old.csv");
  const TrialRecord r =
      parse_trial_row(columns, "3,x1 x2,2,4,tanh,0.03,,0.001,0.9,,2,8,41,27,1,done,max_epochs,0.5,0.5,0.75,0.625,0.5,"
                      "1.5,2,", "old.csv line 2");
  EXPECT_EQ(r.config.id, 3u);
  EXPECT_EQ(r.config.features, "x1,x2");
  EXPECT_EQ(r.config.activation, "tanh");
  EXPECT_EQ(r.config.lr, "0.03");
  EXPECT_EQ(r.config.l1, "");
  EXPECT_EQ(r.config.l2, "0.001");
  EXPECT_EQ(r.config.keep_prob, "0.9");
  EXPECT_EQ(r.config.optimizer, "");
  EXPECT_EQ(r.config.momentum, "");
  EXPECT_EQ(r.inputs, 2u);
  EXPECT_EQ(r.test_accuracy, 0.5);
  EXPECT_EQ(r.ranks, 2u);
  // Written back, the row has this version's columns.
  const TrialRecord again =
      parse_trial_row(trial_csv_columns(trial_csv_header(), "new"), trial_csv_row(r), "new line 2");
  EXPECT_EQ(trial_csv_row(again), trial_csv_row(r));
  for (const std::string& bad : std::vector<std::string>{header + ",extra", header + ",lr", "trial,features,depth,width",
                                                         "a,b", ""}) {
    try {
      trial_csv_columns(bad, "t.csv line 1");
      ADD_FAILURE() << bad;
    } catch (const DataError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("t.csv line 1: not a header sinapsis sweep writes: ", 0), 0u)
          << e.what();
    }
  }
  // The column at fault is named: neither version's header lacks lr.
  const auto refusal = [](const std::string& bad) {
    try {
      trial_csv_columns(bad, "t.csv");
    } catch (const DataError& e) {
      const std::string text = e.what();
      return text.substr(0, text.find(" (expected"));
    }
    return std::string("accepted");
  };
  EXPECT_EQ(refusal(std::regex_replace(header, std::regex(",lr,"), ",")),
            "t.csv: not a header sinapsis sweep writes: no column 'lr'");
  EXPECT_EQ(refusal(std::regex_replace(trial_csv_header(), std::regex(",optimizer,"), ",")),
            "t.csv: not a header sinapsis sweep writes: no column 'optimizer'");
  EXPECT_EQ(refusal(header + ",Seconds"), "t.csv: not a header sinapsis sweep writes: unknown column 'Seconds'");
  EXPECT_EQ(refusal(header + ",lr"), "t.csv: not a header sinapsis sweep writes: column 'lr' twice");
}

// The optimizer and the schedule are knobs like the others; momentum is
// swept for the optimizers that take it (sgd, rmsprop) and left out of the
// others' trials, so a grid never holds an Adam trial train would refuse
// nor two Adam trials that differ in nothing.
TEST(SweepPlan, OptimizersAreSweptWithMomentumOnlyWhereItApplies) {
  SweepGrid g;
  g.depths = {1};
  g.widths = {4, 8};
  g.optimizers = {"sgd", "adam", "rmsprop", "adamw"};
  g.momenta = {"0", "0.9"};
  g.lr_schedules = {"constant", "cosine"};
  g.batches = {"16", "64"};
  const auto trials = expand_grid(g);
  // Per width: (sgd 2 + adam 1 + rmsprop 2 + adamw 1) momenta x 2 schedules x 2 batches.
  ASSERT_EQ(trials.size(), 2u * 6 * 2 * 2);
  EXPECT_EQ(grid_trials(g), std::optional<std::uint64_t>(trials.size()));
  std::set<std::string> distinct;
  for (const auto& t : trials) {
    EXPECT_EQ(t.momentum.empty(), t.optimizer == "adam" || t.optimizer == "adamw") << t.id;
    const Args args = trial_arguments(t, 5);
    EXPECT_EQ(std::count(args.begin(), args.end(), "--momentum"), t.momentum.empty() ? 0 : 1);
    distinct.insert(std::to_string(t.width) + " " + knob_text(t));
  }
  EXPECT_EQ(distinct.size(), trials.size());
  // The grid's order: the optimizer varies slower than the schedule, the schedule slower than the batch.
  EXPECT_EQ(trial_arguments(trials[0], 5),
            (Args{"--hidden", "4", "--seed", "5", "--optimizer", "sgd", "--lr-schedule", "constant", "--batch", "16",
                  "--momentum", "0"}));
  EXPECT_EQ(knob_text(trials[1]), "optimizer sgd, lr_schedule constant, batch 16, momentum 0.9");
  EXPECT_EQ(knob_text(trials[2]), "optimizer sgd, lr_schedule constant, batch 64, momentum 0");
  EXPECT_EQ(knob_text(trials[8]), "optimizer adam, lr_schedule constant, batch 16");
  EXPECT_NO_THROW(check_grid_fits(g, "--depth"));

  // Without --optimizer the trials are train's default, sgd: momentum is swept.
  g.optimizers.clear();
  EXPECT_EQ(expand_grid(g).size(), 2u * 2 * 2 * 2);
  EXPECT_EQ(grid_trials(g), std::optional<std::uint64_t>(16));
  // Momentum swept for Adam alone is a mistake, named.
  g.optimizers = {"adam", "adamw"};
  try {
    check_grid_fits(g, "--depth");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()),
              "--momentum is swept but no optimizer of the grid (adam,adamw) takes it: sgd's and rmsprop's do; "
              "adam's is --beta1");
  }
}

TEST(SweepPlan, SimplestMeansFewestElementsThenLayersThenLoss) {
  TrialRecord wide, deep, small;
  wide.inputs = deep.inputs = small.inputs = 2;
  wide.config.depth = 1, wide.config.width = 6;  // 8 elements, 1 layer
  deep.config.depth = 2, deep.config.width = 3;  // 8 elements, 2 layers
  small.config.depth = 2, small.config.width = 2;  // 6 elements
  EXPECT_TRUE(simpler(small, wide, 0.9, 0.1));
  EXPECT_TRUE(simpler(wide, deep, 0.2, 0.1));
  EXPECT_TRUE(simpler(deep, TrialRecord(deep), 0.1, 0.2));
}

}  // namespace
}  // namespace sinapsis::cli
