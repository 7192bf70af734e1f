// --config FILE.ini as a user writes it: sections per subcommand, the
// command line overriding the file, RUN_DIR/config.ini repeating a run
// exactly, and mistakes in the file refused with one line naming the file
// and the key (exit 2).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "io/json_text.hpp"
#include "tests/run_command.hpp"

namespace {

namespace fs = std::filesystem;
using sinapsis::JsonDocument;
using sinapsis::read_json;
using sinapsis::test::run_command;
using sinapsis::test::run_sinapsis;

const std::string kXor = std::string(SINAPSIS_SOURCE_DIR) + "/experiments/data/xor.h5";

class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sinapsis_config_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name)) << text;
    return path(name);
  }
  static std::string layers(const std::string& run_dir) {
    return run_command("h5dump -g /layers " + run_dir + "/model.h5 | tail -n +2").output;
  }
  static std::string value_in(const std::string& config, const std::string& key) {
    std::ifstream in(config);
    for (std::string line; std::getline(in, line);)
      if (line.rfind(key + " = ", 0) == 0) return line.substr(key.size() + 3);
    return "<missing>";
  }
  fs::path dir_;
};

TEST_F(ConfigFile, SectionsApplyToTheirCommandAndTheCommandLineWins) {
  const std::string ini = write("my.ini",
                                "# a comment\n"
                                "seed = 7\n"
                                "[train]\n"
                                "hidden = 3\n"
                                "lr = 0.2\n"
                                "epochs = 50\n"
                                "nesterov = true\n"
                                "momentum = 0.5\n"
                                "[eval]\n"
                                "bogus-for-eval-only = 1\n");
  const auto r = run_sinapsis("train --config " + ini + " --data " + kXor + " --epochs 3 --quiet --out " + path("run"));
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string effective = path("run/config.ini");
  EXPECT_EQ(value_in(effective, "hidden"), "3");
  EXPECT_EQ(value_in(effective, "lr"), "0.2");
  EXPECT_EQ(value_in(effective, "seed"), "7");
  EXPECT_EQ(value_in(effective, "nesterov"), "true");
  EXPECT_EQ(value_in(effective, "epochs"), "3") << "the command line overrides the file";
  EXPECT_EQ(value_in(effective, "batch"), "10") << "defaults are written too";
}

TEST_F(ConfigFile, TheRunsOwnConfigRepeatsItExactly) {
  const auto first = run_sinapsis("train --data " + kXor + " --hidden 4 --lr 0.3 --momentum 0.9 --keep-prob 0.8 " +
                                  "--epochs 20 --batch 2 --seed 5 --quiet --out " + path("first"));
  ASSERT_EQ(first.status, 0) << first.output;
  const auto again = run_sinapsis("train --config " + path("first/config.ini") + " --out " + path("again"));
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_FALSE(layers(path("first")).empty());
  EXPECT_EQ(layers(path("first")), layers(path("again")));
  // The same directory again is refused, as on the command line.
  const auto same = run_sinapsis("train --config " + path("first/config.ini"));
  EXPECT_EQ(same.status, 2) << same.output;
  EXPECT_NE(same.output.find("already holds a run"), std::string::npos) << same.output;
}

TEST_F(ConfigFile, MistakesAreOneLineNamingTheFileAndTheKey) {
  const std::string unknown = write("unknown.ini", "[train]\nlearning-rate = 0.1\n");
  auto r = run_sinapsis("train --config " + unknown + " --data " + kXor + " --out " + path("run"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find(unknown), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("'learning-rate' is not an option of sinapsis train"), std::string::npos) << r.output;

  const std::string bad_switch = write("switch.ini", "[train]\nnesterov = maybe\n");
  r = run_sinapsis("train --config " + bad_switch + " --data " + kXor + " --out " + path("run"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("nesterov is a switch"), std::string::npos) << r.output;

  const std::string bad_value = write("value.ini", "[train]\nlr = -1\n");
  r = run_sinapsis("train --config " + bad_value + " --data " + kXor + " --out " + path("run"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("--lr: '-1' is not a finite number > 0"), std::string::npos) << r.output;

  r = run_sinapsis("train --config " + path("missing.ini") + " --data " + kXor + " --out " + path("run"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("cannot read " + path("missing.ini")), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(path("run")));
}

TEST_F(ConfigFile, ASectionThatIsNoCommandIsRefusedWithTheNearestOne) {
  for (const auto& [text, fragment] : std::vector<std::pair<std::string, std::string>>{
           {"[trian]\nepochs = 3\n", "section [trian] is not a sinapsis command (did you mean [train]?)"},
           {"[data mkae]\nsamples = 3\n", "section [data mkae] is not a sinapsis command (did you mean [data make]?)"},
           {"[zzzzzz]\nepochs = 3\n", "section [zzzzzz] is not a sinapsis command"}}) {
    const std::string ini = write("sections.ini", text);
    const auto r = run_sinapsis("train --config " + ini + " --data " + kXor + " --out " + path("run"));
    EXPECT_EQ(r.status, 2) << text << r.output;
    EXPECT_NE(r.output.find(fragment), std::string::npos) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  }
  EXPECT_FALSE(fs::exists(path("run")));
}

TEST_F(ConfigFile, TopLevelKeysApplyWhereTheyAreOptionsAndAreIgnoredElsewhere) {
  // samples is data make's, not train's; seed and epochs are train's. One
  // file drives both commands.
  const std::string ini = write("shared.ini", "samples = 40\nseed = 4\nepochs = 2\n[train]\nquiet = true\n");
  auto r = run_sinapsis("data make --config " + ini + " --dataset xor --out " + path("xor.h5"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("40 points"), std::string::npos) << r.output;
  r = run_sinapsis("train --config " + ini + " --data " + path("xor.h5") + " --out " + path("run"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(value_in(path("run/config.ini"), "seed"), "4");
  EXPECT_EQ(value_in(path("run/config.ini"), "epochs"), "2");
  // A key no command has is a typo.
  const std::string typo = write("typo.ini", "epochz = 2\n");
  r = run_sinapsis("train --config " + typo + " --data " + kXor + " --out " + path("run2"));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("'epochz' is not an option of any sinapsis command"), std::string::npos) << r.output;
}

TEST_F(ConfigFile, EveryCommandTakesAConfigFile) {
  const std::string ini = write("eval.ini", "[eval]\nmodel = " + std::string(SINAPSIS_SOURCE_DIR) +
                                                "/experiments/seed_networks/xor_worked.h5\n");
  const auto r = run_sinapsis("eval --config " + ini + " --data " + kXor);
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST_F(ConfigFile, SummaryJsonRecordsTheRunAndWhyItStopped) {
  const auto r = run_sinapsis("train --data " + kXor + " --hidden 4 --epochs 500 --val-split 0.5 --patience 2 " +
                              "--min-delta 10 --quiet --out " + path("run"));
  ASSERT_EQ(r.status, 0) << r.output;
  std::ifstream in(path("run/summary.json"));
  const std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // --min-delta 10: no epoch after the first improves, so patience 2 stops at epoch 3.
  for (const std::string fragment :
       {"\"stop_reason\": \"early_stopping\"", "\"epochs_run\": 3", "\"ranks\": 1", "\"hosts\": [",
        "\"architecture\": \"2-4-", "\"best\": {\n    \"epoch\": 1,", "\"monitor\": \"val_loss\"",
        "\"val_loss\": ", "\"samples_per_second\": ", "\"communication\": ", "\"wall_seconds\": ",
        "\"lr\": \"0.03\"", "\"patience\": \"2\""})
    EXPECT_NE(json.find(fragment), std::string::npos) << "missing " << fragment << " in\n" << json;
  // The build: version and the git commit (12 hex digits, maybe -dirty, or unknown outside git).
  const JsonDocument summary = read_json(json, "summary.json");
  ASSERT_TRUE(summary.value().contains("commit")) << json;
  const std::string value = summary.value().at("commit").get<std::string>();
  EXPECT_TRUE(value == "unknown" || (value.size() >= 12 && value.find_first_not_of("0123456789abcdef") >= 12))
      << value;
  EXPECT_NE(json.find("\"sinapsis\": \"" SINAPSIS_VERSION "\""), std::string::npos) << json;
}

}  // namespace
