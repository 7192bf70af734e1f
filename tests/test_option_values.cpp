// Every numeric option of every command, given as a hostile or careless
// user gives it: negative counts (which Boost's own parse wraps to 2^64-1),
// text, trailing junk, NaN, infinities, numbers out of the type's range and
// out of the option's bounds. Each must be refused by the real binary with
// exit status 2 and ONE line naming the option and the value, having
// written nothing. The options come from every_command_options() (the
// describe() each command parses with) and are found numeric by their
// type, so an option added to any command is covered without touching this
// file. A second table gives values that are valid numbers but would
// allocate absurd amounts (a network of 10^16 weights, a grid of 10^6
// trials, 10^15 points): one line naming the option, the value and the
// memory against the host's, before allocating.
//
// Every run goes through `timeout 60`: a value that slipped through and
// started a run forever fails the test instead of blocking the suite.
#include <gtest/gtest.h>

#include <unistd.h>  // getpid

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <typeinfo>

#include "io/checkpoint.hpp"
#include "io/data_file.hpp"
#include "io/model_file.hpp"
#include "launch/options.hpp"
#include "tests/mpi_cli.hpp"
#include "tests/run_command.hpp"

namespace sinapsis::cli {
namespace {

namespace fs = std::filesystem;
using test::CommandResult;

// A numeric option of a command, as found in its options_description.
struct NumericOption {
  std::string name;
  bool whole = false;                                    // an integer variable
  boost::shared_ptr<const po::value_semantic> semantic;  // keeps `declared` alive
  const NumericValue* declared = nullptr;                // null: not declared with number()
};

// Numeric by the type Boost stores: any arithmetic type but bool.
std::optional<NumericOption> numeric_option(const po::option_description& option) {
  const auto* typed = dynamic_cast<const po::typed_value_base*>(option.semantic().get());
  if (typed == nullptr) return std::nullopt;
  const std::type_info& type = typed->value_type();
  const std::type_info* const wholes[] = {&typeid(short), &typeid(unsigned short), &typeid(int), &typeid(unsigned),
                                          &typeid(long), &typeid(unsigned long), &typeid(long long),
                                          &typeid(unsigned long long)};
  const std::type_info* const reals[] = {&typeid(float), &typeid(double), &typeid(long double)};
  const auto is = [&](const auto& types) {
    return std::any_of(std::begin(types), std::end(types), [&](const std::type_info* t) { return *t == type; });
  };
  if (!is(wholes) && !is(reals)) return std::nullopt;
  return NumericOption{option.long_name(), is(wholes), option.semantic(),
                       dynamic_cast<const NumericValue*>(option.semantic().get())};
}

std::vector<NumericOption> numeric_options(const std::string& command) {
  std::vector<NumericOption> found;
  for (const auto& entry : every_command_options())
    if (entry.command == command)
      for (const auto& option : entry.options->options())
        if (auto numeric = numeric_option(*option)) found.push_back(*numeric);
  return found;
}

std::vector<std::string> command_names() {
  std::vector<std::string> names;
  for (const auto& entry : every_command_options()) names.push_back(entry.command);
  return names;
}

// Files that do not exist, under `inputs`, and outputs under `outputs`: on
// such a line only the option under test can be wrong, and a value that
// slipped through fails fast or writes where the test looks.
std::string required_options(const std::string& command, const fs::path& inputs, const fs::path& outputs) {
  const std::string missing = (inputs / "missing.h5").string(), out = (outputs / "out").string();
  if (command == "train" || command == "sweep") return "--data " + missing + " --out " + out;
  if (command == "sweep merge") return "--dirs " + (inputs / "missing").string() + " --out " + out;
  if (command == "predict") return "--model " + missing + " --data " + missing + " --out " + out;
  if (command == "eval") return "--model " + missing + " --data " + missing;
  if (command == "report") return "--dir " + (inputs / "missing").string();
  if (command == "info") return "--no-measure";
  if (command == "data make") return "--dataset circle --out " + out;
  if (command == "data shard") return "--input " + missing + " --shards 2 --out-dir " + out;
  if (command == "data import") return "--format csv --input " + missing + " --label y --out " + out;
  if (command == "data inspect") return "--input " + missing;
  if (command == "data subset") return "--input " + missing + " --rows 0:1 --out " + out;
  if (command == "plan") return "--inputs 4 --outputs 2 --ranks 1,2 --gflops 10 --memory-gbs 10";
  ADD_FAILURE() << "no command line for '" << command << "': add one to required_options()";
  return "";
}

// Values no numeric option accepts, by the kind of variable.
std::vector<std::string> bad_values(const NumericOption& option) {
  std::vector<std::string> values{"abc", "5x", "", "nan", "inf", "-inf", "1e400", "0x10"};
  if (option.whole) values.insert(values.end(), {"-1", "-5", "18446744073709551616", "1.5", "1e3", "+-1"});
  // Just outside the declared bounds: the range checks are part of the parse.
  if (option.declared) {
    const Bounds& b = option.declared->bounds();
    const auto text = [](double v) {
      std::ostringstream out;
      out.precision(17);
      out << v;
      return out.str();
    };
    if (std::isfinite(b.low)) values.push_back(text(b.low_open ? b.low : b.low - 1));
    if (std::isfinite(b.high)) values.push_back(text(b.high_open ? b.high : b.high + (option.whole ? 1 : 0.5)));
  }
  return values;
}

std::size_t count_lines(const std::string& text) { return std::size_t(std::count(text.begin(), text.end(), '\n')); }

// Scratch directories: inputs the test makes, and the outputs directory a
// command runs in and may write to, which must stay empty.
class CliScratch : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("sinapsis_option_values_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(inputs());
    fs::create_directories(outputs());
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path inputs() const { return root_ / "in"; }
  // Where a command may write (its --out) and its working directory: must
  // stay empty.
  fs::path outputs() const { return root_ / "out"; }

  CommandResult run(const std::string& arguments) const {
    return test::run_command("cd " + outputs().string() + " && timeout 60 " SINAPSIS_BINARY " " + arguments);
  }

  // `arguments` must fail with exit 2 and one line that starts "sinapsis"
  // and holds every fragment, leaving the outputs directory empty.
  void expect_refused(const std::string& arguments, const std::vector<std::string>& fragments) {
    const CommandResult r = run(arguments);
    EXPECT_EQ(r.status, 2) << arguments << "\n" << r.output;
    EXPECT_EQ(count_lines(r.output), 1u) << arguments << "\n" << r.output;
    EXPECT_EQ(r.output.rfind("sinapsis", 0), 0u) << arguments << "\n" << r.output;
    for (const auto& fragment : fragments)
      EXPECT_NE(r.output.find(fragment), std::string::npos) << "'" << fragment << "' missing: " << arguments << "\n"
                                                            << r.output;
    EXPECT_TRUE(fs::is_empty(outputs())) << arguments << " wrote into " << outputs();
    fs::remove_all(outputs());
    fs::create_directories(outputs());
  }

  fs::path root_;
};

// "--data x --shards 2 --out-dir y" without "--shards 2".
std::string without_option(const std::string& line, const std::string& name) {
  std::istringstream tokens(line);
  std::string kept;
  for (std::string token; tokens >> token;) {
    if (token == "--" + name) {
      tokens >> token;  // its value
      continue;
    }
    kept += (kept.empty() ? "" : " ") + token;
  }
  return kept;
}

class OptionValues : public CliScratch, public ::testing::WithParamInterface<std::string> {};

TEST_P(OptionValues, EveryNumericOptionRefusesBadValuesInOneLine) {
  const std::string command = GetParam();
  const std::string line = command + " " + required_options(command, inputs(), outputs());
  for (const NumericOption& option : numeric_options(command)) {
    ASSERT_NE(option.declared, nullptr)
        << command << " --" << option.name << " holds a number but is not declared with number() (launch/options.hpp)";
    const std::string given = without_option(line, option.name);  // data shard's --shards
    for (const std::string& value : bad_values(option))
      expect_refused(given + " --" + option.name + " '" + value + "'", {"--" + option.name, "'" + value + "'"});
    // Boost reads "-1" after "--name" as the value, and after "--name=" too:
    // neither may become "the required argument is missing".
    if (!option.declared->bounds().contains(-1))
      expect_refused(given + " --" + option.name + "=-1", {"--" + option.name + ": '-1'"});
  }
}

INSTANTIATE_TEST_SUITE_P(EveryCommand, OptionValues, ::testing::ValuesIn(command_names()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string name = param.param;
                           std::replace(name.begin(), name.end(), ' ', '_');
                           return name;
                         });

// Options whose value is a list or range of numbers are strings to Boost,
// so the type cannot find them: they are listed here, and parse their
// numbers with the same read_number().
TEST_F(CliScratch, NumbersInsideListOptionsAreRefusedLikeNumericOptions) {
  const std::string required = required_options("sweep", inputs(), outputs());
  const std::vector<std::pair<std::string, std::string>> table{
      {"train " + required + " --hidden 8,-1", "--hidden: '8,-1'"},
      {"train " + required + " --hidden 18446744073709551616", "--hidden: '18446744073709551616'"},
      {"train " + required + " --hidden 8,nan", "--hidden: '8,nan'"},
      {"sweep " + required + " --depth -1", "--depth: '-1'"},
      {"sweep " + required + " --depth 0:-1", "--depth: '0:-1'"},
      {"sweep " + required + " --width 1:5x", "--width: '1:5x'"},
      {"sweep " + required + " --width 1:18446744073709551616", "--width: '1:18446744073709551616'"},
      {"sweep " + required + " --slice 0/-1", "--slice: '0/-1'"},
      {"sweep " + required + " --slice -1/2", "--slice: '-1/2'"},
      {"sweep " + required + " --slice 2/2", "--slice: '2/2'"},
  };
  for (const auto& [line, fragment] : table) expect_refused(line, {fragment});
}

// Under mpirun every rank parses the same options: each refuses, rank 0
// alone prints, and the job ends with status 2 (no rank left waiting).
TEST_F(CliScratch, UnderMpirunEveryRankRefusesAndOneLineIsPrinted) {
  const std::string required = required_options("train", inputs(), outputs());
  const std::vector<std::pair<std::string, std::string>> table{
      {"train " + required + " --epochs -1", "--epochs: '-1'"},
      {"train " + required + " --hidden 100000000,100000000", "--hidden: '100000000,100000000'"},
      {"sweep " + required + " --depth 0:1000000", "--depth: '0:1000000'"},
  };
  for (const auto& [line, fragment] : table) {
    const CommandResult r = test::run_mpi(line, 2);
    EXPECT_EQ(r.status, 2) << line << "\n" << r.output;
    const auto lines = test::sinapsis_lines(r.output);
    ASSERT_EQ(lines.size(), 1u) << line << "\n" << r.output;
    EXPECT_NE(lines[0].find(fragment), std::string::npos) << lines[0];
    EXPECT_TRUE(fs::is_empty(outputs())) << line;
  }
}

// The list really holds every command of `sinapsis --help` (and sweep's and
// data's actions), with their numeric options: the table above cannot
// silently become empty.
TEST(OptionList, CoversEveryCommandAndItsNumericOptions) {
  const CommandResult help = test::run_sinapsis("--help");
  ASSERT_EQ(help.status, 0) << help.output;
  // "commands:" and one "  NAME  what it does" line each, up to a blank line.
  std::istringstream lines(help.output.substr(help.output.find("commands:")));
  std::vector<std::string> commands;
  std::string line;
  std::getline(lines, line);
  while (std::getline(lines, line) && !line.empty()) commands.push_back(line.substr(2, line.find(' ', 2) - 2));
  ASSERT_GE(commands.size(), 7u) << help.output;
  const std::vector<std::string> listed = command_names();
  for (const auto& command : commands)
    EXPECT_TRUE(std::any_of(listed.begin(), listed.end(),
                            [&](const std::string& l) { return l == command || l.rfind(command + " ", 0) == 0; }))
        << "sinapsis " << command << " is missing from every_command_options()";
  for (const char* action : {"sweep merge", "data make", "data shard", "data import", "data inspect"})
    EXPECT_NE(std::find(listed.begin(), listed.end(), action), listed.end()) << action;

  EXPECT_GE(numeric_options("train").size(), 15u);
  EXPECT_GE(numeric_options("sweep").size(), 5u);
  EXPECT_GE(numeric_options("data make").size(), 3u);
  for (const char* command : {"sweep merge", "predict", "eval", "info", "data shard", "data inspect"})
    EXPECT_GE(numeric_options(command).size(), 1u) << command;
  std::size_t total = 0;
  for (const auto& command : listed) total += numeric_options(command).size();
  EXPECT_GE(total, 35u);
}

// Values that are numbers and within bounds, but would make sinapsis
// allocate absurd amounts or queue a grid that never ends: refused in one
// line naming the option and the value, before anything is allocated or
// written. {DATA}: a 500-point data file; {WIDE}: 4 rows of 10^4 features;
// {OUT}: where the output would go.
class AbsurdSizes : public CliScratch {};

TEST_F(AbsurdSizes, AreRefusedBeforeAllocatingNamingOptionValueAndMemory) {
  const std::string data = (inputs() / "circle.h5").string(), wide = (inputs() / "wide.h5").string();
  ASSERT_EQ(test::run_sinapsis("data make --dataset circle --out " + data).status, 0);
  write_data_file(wide, test::blobs(4, 10000));
  const std::vector<std::pair<std::string, std::vector<std::string>>> table{
      {"train --data {DATA} --out {OUT} --hidden 100000000,100000000",
       {"--hidden: '100000000,100000000': training 10000000400000001 parameters needs ", "more than this machine's memory"}},
      {"train --data {DATA} --out {OUT} --hidden 10000000000,10000000000",
       {"--hidden: '10000000000,10000000000'", "does not fit in 64 bits"}},
      // 10^12 weights from the data's 10^4 features: refused once the data is read
      {"train --data {WIDE} --out {OUT} --hidden 100000000", {"--hidden: '100000000': training ", "more than this machine's memory"}},
      {"sweep --data {DATA} --out {OUT} --depth 0:1000000", {"--depth: '0:1000000'", "100000"}},
      {"sweep --data {DATA} --out {OUT} --width 1:100000000", {"--width: '1:100000000'", "100000"}},
      {"sweep --data {DATA} --out {OUT} --width 1:18446744073709551615", {"--width: '1:18446744073709551615'"}},
      {"sweep --data {DATA} --out {OUT} --depth 0:300 --width 1:1000",
       {"--depth: '0:300'", "--width: '1:1000'", "300001 trials"}},
      {"sweep --data {DATA} --out {OUT} --depth 1000000 --width 1000000",
       {"--depth: '1000000'", "--width: '1000000'", "needs more than 2^64 bytes"}},
      {"data make --dataset circle --samples 1000000000000000 --out {OUT}",
       {"--samples: '1000000000000000': 1000000000000000 points needs", "more than this machine's memory"}},
      {"data shard --input {DATA} --shards 1000000000 --out-dir {OUT}", {"--shards 1000000000", "500 rows"}},
  };
  for (auto [line, fragments] : table) {
    for (const auto& [key, value] : {std::pair<std::string, std::string>{"{DATA}", data}, {"{WIDE}", wide},
                                     {"{OUT}", (outputs() / "out").string()}})
      if (const auto at = line.find(key); at != std::string::npos) line.replace(at, key.size(), value);
    expect_refused(line, fragments);
  }
}

// A batch larger than the training data is the whole data (full-batch
// gradient descent), as --help says: the same model as --batch N, and no
// workspace sized by the 10^12 asked for.
TEST_F(AbsurdSizes, ABatchLargerThanTheDataIsTheWholeData) {
  const std::string data = (inputs() / "circle.h5").string();
  ASSERT_EQ(test::run_sinapsis("data make --dataset circle --out " + data).status, 0);
  const auto train = [&](const std::string& batch, const std::string& run) {
    const CommandResult r = test::run_command("timeout 60 " SINAPSIS_BINARY " train --quiet --epochs 3 --data " + data +
                                              " --out " + (inputs() / run).string() + " --batch " + batch);
    EXPECT_EQ(r.status, 0) << r.output;
    return read_model_file((inputs() / run / "model.h5").string()).model;
  };
  const Model<float> huge = train("1000000000000", "huge"), whole = train("500", "whole");
  EXPECT_TRUE(std::equal(huge.parameters().begin(), huge.parameters().end(), whole.parameters().begin(),
                         whole.parameters().end()));
}

// Values from --config files, a resumed run's checkpoint and sweep.args
// reach the same parse as the command line.
class StoredOptionValues : public CliScratch {};

TEST_F(StoredOptionValues, ConfigFilesCheckpointsAndSweepArgsGoThroughTheSameParse) {
  const std::string data = (inputs() / "circle.h5").string();
  ASSERT_EQ(test::run_sinapsis("data make --dataset circle --out " + data).status, 0);
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream((inputs() / name).string()) << text;
    return (inputs() / name).string();
  };
  const std::string out = (outputs() / "run").string();
  expect_refused("train --config " + write("section.ini", "[train]\nepochs = -1\n") + " --data " + data + " --out " + out,
                 {"--epochs: '-1'"});
  expect_refused("train --config " + write("top.ini", "batch = 5x\n") + " --data " + data + " --out " + out,
                 {"--batch: '5x'"});

  // A checkpoint whose stored arguments were edited by hand.
  const fs::path run_dir = inputs() / "run";
  ASSERT_EQ(test::run_sinapsis("train --quiet --epochs 1 --checkpoint-every 1 --data " + data + " --out " + run_dir.string())
                .status,
            0);
  const std::string checkpoint = (run_dir / "checkpoint.h5").string();
  Checkpoint c = read_checkpoint(checkpoint);
  c.arguments.insert(c.arguments.end(), {"--patience", "-1"});
  write_checkpoint(checkpoint, c.model.model, c.model.loss, {c.model.features, c.model.standardizer, c.model.schema, c.model.class_names}, c.state,
                   c.arguments, c.ranks, c.metric_rows.value_or(std::vector<std::string>{}));
  const auto before = fs::last_write_time(run_dir / "metrics.csv");
  const CommandResult resumed = run("train --resume " + run_dir.string());
  EXPECT_EQ(resumed.status, 2) << resumed.output;
  EXPECT_EQ(count_lines(resumed.output), 1u) << resumed.output;
  EXPECT_NE(resumed.output.find("--patience: '-1'"), std::string::npos) << resumed.output;
  EXPECT_EQ(fs::last_write_time(run_dir / "metrics.csv"), before);

  // sweep.args: a resumed sweep refuses it as a usage error; merge, reading
  // another sweep's record, as a damaged file naming it.
  const fs::path sweep = inputs() / "sweep";
  fs::create_directories(sweep);
  std::ofstream((sweep / "sweep.args").string()) << "--max-epochs\n-1\n";
  expect_refused("sweep --resume --out " + sweep.string() + " --data " + data, {"--max-epochs: '-1'"});
  const CommandResult merged = run("sweep merge " + sweep.string() + " --out " + (outputs() / "merged").string());
  EXPECT_EQ(merged.status, 1) << merged.output;
  EXPECT_EQ(count_lines(merged.output), 1u) << merged.output;
  EXPECT_NE(merged.output.find((sweep / "sweep.args").string() + ": --max-epochs: '-1'"), std::string::npos)
      << merged.output;
  EXPECT_TRUE(fs::is_empty(outputs()));
}

}  // namespace
}  // namespace sinapsis::cli
