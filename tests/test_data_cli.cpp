// The data side of the sinapsis executable as a user runs it: data make /
// inspect / shard / import, training from a shard set, input features and
// standardization recorded in the model file and replayed by eval and
// predict, and every data error giving ONE line naming the file or option
// and the value, the documented exit status, and no output left behind.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>  // getpid

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/network.hpp"
#include "core/preprocess.hpp"
#include "io/data_file.hpp"
#include "io/model_file.hpp"
#include "tests/run_command.hpp"

namespace sinapsis {
namespace {

namespace fs = std::filesystem;

const std::string kBinary = SINAPSIS_BINARY;
const std::string kTennis = std::string(SINAPSIS_SOURCE_DIR) + "/experiments/data/tennis.csv";

using Result = test::CommandResult;

Result run(const std::string& arguments) { return test::run_sinapsis(arguments); }

std::size_t lines(const std::string& text) { return std::size_t(std::count(text.begin(), text.end(), '\n')); }

bool contains(const std::string& text, const std::string& fragment) { return text.find(fragment) != std::string::npos; }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class DataCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sinapsis_data_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // `data make`, asserting success; returns the file.
  std::string make(const std::string& dataset, const std::string& extra = "") {
    const std::string file = path(dataset + ".h5");
    const Result r = run("data make --dataset " + dataset + " --out " + file + " " + extra);
    EXPECT_EQ(r.status, 0) << r.output;
    return file;
  }
  // `train` into run directory `run_name`, asserting success; returns the model file.
  std::string train(const std::string& data, const std::string& run_name, const std::string& extra = "") {
    const std::string epochs = contains(extra, "--epochs") ? "" : " --epochs 2";
    const Result r = run("train --data " + data + " --out " + path(run_name) + epochs + " --quiet " + extra);
    EXPECT_EQ(r.status, 0) << r.output;
    return path(run_name) + "/model.h5";
  }

  // Runs `arguments`, expects `status` and one line holding every fragment,
  // and that `output` (a file or run directory) was not written.
  void expect_error(const std::string& arguments, int status, const std::vector<std::string>& fragments,
                    const std::string& output) {
    const Result r = run(arguments);
    EXPECT_EQ(r.status, status) << arguments << "\n" << r.output;
    EXPECT_EQ(lines(r.output), 1u) << arguments << "\n" << r.output;
    for (const auto& f : fragments) EXPECT_TRUE(contains(r.output, f)) << "missing '" << f << "' in: " << r.output;
    if (fs::is_directory(output)) {
      EXPECT_TRUE(fs::is_empty(output)) << arguments;
    } else {
      EXPECT_FALSE(fs::exists(output)) << arguments;
    }
    // No temporary left next to it either.
    for (const auto& entry : fs::directory_iterator(fs::path(output).parent_path()))
      EXPECT_FALSE(contains(entry.path().filename().string(), ".tmp")) << entry.path();
  }

  fs::path dir_;
};

TEST_F(DataCliTest, MakeWritesEverySetAndInspectDescribesIt) {
  struct Case {
    const char* name;
    std::size_t samples;
    bool regression;
  };
  for (const Case c : {Case{"circle", 500, false}, Case{"xor", 500, false}, Case{"gauss", 500, false},
                       Case{"spiral", 500, false}, Case{"reg-plane", 1200, true}, Case{"reg-gauss", 1200, true}}) {
    const std::string file = make(c.name, "--noise 0.1 --seed 3");
    const Result r = run("data inspect " + file);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_TRUE(contains(r.output, file + ": " + std::to_string(c.samples) + " samples x 2 features")) << r.output;
    EXPECT_TRUE(contains(r.output, "made by: data make --dataset " + std::string(c.name))) << r.output;
    EXPECT_TRUE(contains(r.output, "x1")) << r.output;
    if (c.regression) {
      EXPECT_TRUE(contains(r.output, "regression targets: 1 column")) << r.output;
    } else {
      EXPECT_TRUE(contains(r.output, "classes: 2")) << r.output;
      // gauss and spiral label by construction; circle and xor by noisy position.
      if (std::string(c.name) == "gauss" || std::string(c.name) == "spiral") {
        EXPECT_TRUE(contains(r.output, "(+1): 250")) << r.output;  // half the points per class
        EXPECT_TRUE(contains(r.output, "(-1): 250")) << r.output;
      }
    }
    // The file holds what the generator made.
    const Dataset d = read_data_file(file);
    EXPECT_EQ(d.size(), c.samples);
    EXPECT_EQ(d.generator, c.name);
    EXPECT_EQ(d.task, c.regression ? Task::regression : Task::classification);
  }
  const std::string small = make("spiral", "--samples 60 --overwrite");  // spiral.h5 exists
  EXPECT_EQ(read_data_file(small).size(), 60u);
}

TEST_F(DataCliTest, ShardThenTrainFromDirectoryAndGlob) {
  const std::string file = make("circle", "--samples 200");
  const Result s = run("data shard " + file + " --shards 4 --out-dir " + path("shards"));
  ASSERT_EQ(s.status, 0) << s.output;
  EXPECT_TRUE(fs::exists(path("shards") + "/circle-00003-of-00004.h5"));
  EXPECT_TRUE(fs::exists(path("shards") + "/circle-index.csv"));
  // The shards hold the same rows, shuffled.
  const Dataset whole = read_data_file(file), sharded = read_data_file(path("shards"));
  ASSERT_EQ(sharded.size(), whole.size());
  EXPECT_NE(sharded.features.values, whole.features.values);
  auto a = whole.features.values, b = sharded.features.values;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  EXPECT_EQ(a, b);
  const Result inspect = run("data inspect " + path("shards"));
  ASSERT_EQ(inspect.status, 0) << inspect.output;
  EXPECT_TRUE(contains(inspect.output, "200 samples x 2 features in 4 shards")) << inspect.output;

  const std::string by_dir = train(path("shards"), "dir");
  const std::string by_glob = train("'" + path("shards") + "/*.h5'", "glob");
  EXPECT_TRUE(fs::exists(by_dir));
  EXPECT_TRUE(fs::exists(by_glob));
  // Same rows in the same order, same seed: the same model.
  const ModelFile m1 = read_model_file(by_dir), m2 = read_model_file(by_glob);
  const auto p1 = m1.model.parameters(), p2 = m2.model.parameters();
  EXPECT_EQ(std::vector<float>(p1.begin(), p1.end()), std::vector<float>(p2.begin(), p2.end()));
}

TEST_F(DataCliTest, InputFeaturesAreRecordedAndReplayedByEvalAndPredict) {
  const std::string spiral = make("spiral");
  const std::string features = "x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2";
  const std::string model_path = train(spiral, "run", "--features " + features + " --test-split 0.5 --hidden 4");
  const ModelFile model = read_model_file(model_path);
  EXPECT_EQ(model.features, features);
  EXPECT_EQ(model.model.architecture().inputs(), 7u);
  EXPECT_FALSE(model.standardizer.active());  // Playground data: used at its own scale

  const Result e = run("eval --model " + model_path + " --data " + spiral);
  ASSERT_EQ(e.status, 0) << e.output;
  EXPECT_TRUE(contains(e.output, "samples 500")) << e.output;

  const Result p = run("predict --model " + model_path + " --data " + spiral + " --out " + path("p.csv"));
  ASSERT_EQ(p.status, 0) << p.output;
  std::ifstream csv(path("p.csv"));
  std::string line;
  std::getline(csv, line);
  // cce: the row, the predicted class by name, one probability per class
  EXPECT_EQ(line, "row,predicted,p_-1,p_+1");
  // Every row equals the model applied to the seven features of that point.
  const Dataset raw = read_data_file(spiral);
  const Matrix<float> x = FeatureSet::parse(features, "test").apply(raw.features);
  Workspace<float> ws(model.model.architecture(), raw.size());
  const MatrixView<float> y = forward(model.model, ws, x.view());
  std::size_t rows = 0;
  while (std::getline(csv, line)) {
    ASSERT_LT(rows, raw.size());
    std::stringstream fields(line);
    std::string field;
    ASSERT_TRUE(std::getline(fields, field, ',')) << line;
    EXPECT_EQ(field, std::to_string(rows));
    ASSERT_TRUE(std::getline(fields, field, ',')) << line;
    EXPECT_EQ(field, y(rows, 1) > y(rows, 0) ? "+1" : "-1") << line;
    for (std::size_t k = 0; k < 2; ++k) {
      ASSERT_TRUE(std::getline(fields, field, ',')) << line;
      EXPECT_NEAR(std::stod(field), y(rows, k), 1e-5) << "row " << rows;
    }
    ++rows;
  }
  EXPECT_EQ(rows, raw.size());
}

TEST_F(DataCliTest, StandardizationAutoOnForImportedDataOffForPlayground) {
  const std::string tennis = path("tennis.h5");
  const Result i = run("data import --format csv --input " + kTennis + " --label result --ignore match --out " + tennis);
  ASSERT_EQ(i.status, 0) << i.output;
  EXPECT_TRUE(contains(i.output, "12 samples, 5 features, 2 classes")) << i.output;

  const ModelFile imported = read_model_file(train(tennis, "tennis"));
  ASSERT_TRUE(imported.standardizer.active());
  ASSERT_EQ(imported.standardizer.mean.size(), 5u);
  // court=Arcilla is 1 in 5 of the 12 matches: mean 5/12, std sqrt(5/12 * 7/12).
  EXPECT_NEAR(imported.standardizer.mean[0], 5.0 / 12, 1e-6);
  EXPECT_NEAR(imported.standardizer.std[0], std::sqrt(5.0 / 12 * 7.0 / 12), 1e-6);

  const std::string gauss = make("gauss", "--samples 100");
  EXPECT_FALSE(read_model_file(train(gauss, "auto")).standardizer.active());
  const ModelFile forced = read_model_file(train(gauss, "on", "--standardize on"));
  EXPECT_TRUE(forced.standardizer.active());
  EXPECT_EQ(forced.standardizer.mean.size(), 2u);
  EXPECT_FALSE(read_model_file(train(tennis, "off", "--standardize off")).standardizer.active());
}

TEST_F(DataCliTest, ImportCsvThenTrainAndPredict) {
  const std::string tennis = path("tennis.h5");
  ASSERT_EQ(run("data import --format csv --input " + kTennis + " --label result --ignore match --out " + tennis).status, 0);
  const Dataset d = read_data_file(tennis);
  EXPECT_EQ(d.size(), 12u);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"GANÓ", "PERDIÓ"}));
  EXPECT_EQ(d.feature_names.size(), 5u);
  const Result inspect = run("data inspect " + tennis);
  ASSERT_EQ(inspect.status, 0) << inspect.output;
  EXPECT_TRUE(contains(inspect.output, "0 (GANÓ): 8")) << inspect.output;
  EXPECT_TRUE(contains(inspect.output, "1 (PERDIÓ): 4")) << inspect.output;

  const std::string model = train(tennis, "run", "--hidden 3 --epochs 50");
  const Result p = run("predict --model " + model + " --data " + tennis + " --out " + path("p.csv"));
  ASSERT_EQ(p.status, 0) << p.output;
  EXPECT_EQ(lines(read_text(path("p.csv"))), 13u);  // header + 12 matches
  const Result e = run("eval --model " + model + " --data " + tennis);
  ASSERT_EQ(e.status, 0) << e.output;
  EXPECT_TRUE(contains(e.output, "samples 12")) << e.output;
}

TEST_F(DataCliTest, BadDatasetNameOrNoise) {
  const std::string out = path("bad.h5");
  expect_error("data make --dataset moons --out " + out, 2, {"--dataset", "'moons'"}, out);
  expect_error("data make --dataset circle --noise 0.9 --out " + out, 2, {"--noise", "0.9"}, out);
  expect_error("data make --dataset circle --noise -0.1 --out " + out, 2, {"--noise", "-0.1"}, out);
  expect_error("data make --dataset circle --samples 1 --out " + out, 2, {"--samples", "1"}, out);
}

TEST_F(DataCliTest, CsvWithRaggedRows) {
  const std::string csv = path("ragged.csv");
  std::ofstream(csv) << "a,b,label\n1,2,x\n3,4,y,extra\n";
  const std::string out = path("ragged.h5");
  expect_error("data import --format csv --input " + csv + " --label label --out " + out, 1,
               {csv, "line 3", "4 fields"}, out);
  expect_error("data import --format csv --input " + csv + " --label kind --out " + out, 1, {csv, "'kind'"}, out);
}

TEST_F(DataCliTest, IdxWithBadMagic) {
  const std::string images = path("images.idx"), labels = path("labels.idx");
  {
    std::ofstream img(images, std::ios::binary);
    const unsigned char header[] = {0, 0, 8, 2, 0, 0, 0, 1, 0, 0, 0, 1, 7};  // 2 dimensions, not 3
    img.write(reinterpret_cast<const char*>(header), sizeof header);
    std::ofstream lab(labels, std::ios::binary);
    const unsigned char lheader[] = {0, 0, 8, 1, 0, 0, 0, 1, 3};
    lab.write(reinterpret_cast<const char*>(lheader), sizeof lheader);
  }
  const std::string out = path("idx.h5");
  expect_error("data import --format idx --images " + images + " --labels " + labels + " --out " + out, 1,
               {images, "magic", "0x00000802"}, out);
}

TEST_F(DataCliTest, TrainOnShardSetWithAMissingShard) {
  const std::string file = make("xor", "--samples 90");
  ASSERT_EQ(run("data shard " + file + " --shards 3 --out-dir " + path("shards")).status, 0);
  fs::remove(path("shards") + "/xor-00001-of-00003.h5");
  const std::string run_dir = path("run");
  expect_error("train --data " + path("shards") + " --out " + run_dir, 1,
               {path("shards"), "shard 1 of 3 is missing", "xor-00001-of-00003.h5"}, run_dir);
}

TEST_F(DataCliTest, FeaturesOnWideData) {
  Dataset wide;
  wide.features = Matrix<float>(10, 784, 0.5f);
  wide.labels = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
  wide.classes = 2;
  const std::string file = path("wide.h5");
  write_data_file(file, wide);
  const std::string run_dir = path("run");
  expect_error("train --data " + file + " --features x1,x2,x1sq --out " + run_dir, 1, {file, "784 columns", "x1,x2,x1sq"},
               run_dir);
  expect_error("train --data " + file + " --features x1,x9 --out " + run_dir, 2, {"--features", "'x9'"}, run_dir);
}

TEST_F(DataCliTest, EvalAndPredictRefuseClassesTheModelLacks) {
  const std::string xor_file = make("xor", "--samples 40");
  const std::string model = train(xor_file, "run", "--hidden 3");
  Dataset three = read_data_file(xor_file);
  three.labels[5] = 2;
  three.classes = 3;
  three.class_names.clear();  // xor's two names would declare two classes
  const std::string file = path("three.h5");
  write_data_file(file, three);
  const std::string declared = file + " declares 3 classes but the model " + model + " has 2";
  expect_error("eval --model " + model + " --data " + file, 1, {declared}, path("none"));
  expect_error("predict --model " + model + " --data " + file + " --out " + path("p.csv"), 1, {declared}, path("p.csv"));
  three.classes = 0;  // undeclared: the label itself is refused
  write_data_file(path("undeclared.h5"), three);
  const std::string row = path("undeclared.h5") + ": /labels row 5 is class 2 but the model " + model + " has 2 classes";
  expect_error("eval --model " + model + " --data " + path("undeclared.h5"), 1, {row}, path("none"));
  expect_error("predict --model " + model + " --data " + path("undeclared.h5") + " --out " + path("p.csv"), 1, {row},
               path("p.csv"));
}

TEST_F(DataCliTest, NonFiniteWeightsAreRefusedByEvalPredictAndInitModel) {
  const std::string gauss = make("gauss", "--samples 40");
  ModelFile file = read_model_file(train(gauss, "run", "--hidden 3"));
  file.model.weight(1)(2, 0) = std::numeric_limits<float>::quiet_NaN();
  const std::string bad = path("nan_model.h5");
  write_model_file(bad, file.model, file.loss, file.features, file.standardizer);
  const std::string fragment = bad + ": /layers/1/weight holds NaN at [2, 0]";
  expect_error("eval --model " + bad + " --data " + gauss, 1, {fragment}, path("none"));
  expect_error("predict --model " + bad + " --data " + gauss + " --out " + path("p.csv"), 1, {fragment}, path("p.csv"));
  expect_error("train --data " + gauss + " --init-model " + bad + " --out " + path("run2"), 1, {fragment}, path("run2"));
}

TEST_F(DataCliTest, CsvImportRefusesNonFiniteNumbersAndTakesTheLabelsKind) {
  const std::string csv = path("t.csv"), out = path("t.h5");
  // nan is a missing value; inf is not one, filled or not.
  std::ofstream(csv) << "a,b,y\n1,nan,0\n2,inf,1\n";
  expect_error("data import --format csv --input " + csv + " --label y --out " + out, 1,
               {csv, "line 2, column 'b': missing value 'nan'"}, out);
  expect_error("data import --format csv --input " + csv + " --label y --missing mean --out " + out, 1,
               {csv, "line 3, column 'b': 'inf' is not a finite number"}, out);
  std::ofstream(csv) << "a,y\n1,1990\n2,2020\n3,2001\n";
  expect_error("data import --format csv --input " + csv + " --label y --out " + out, 1,
               {csv, "line 2, column 'y' is class 1990", "--task regression"}, out);
  const Result r = run("data import --format csv --input " + csv + " --label y --task regression --out " + out);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_data_file(out).task, Task::regression);
}

// CSV as people have it, from the command line: the delimiter found and
// said, missing cells refused, dropped or filled and counted, a categorical
// column of ids refused; every refusal one line, exit 1 (data) or 2
// (option), and no output file.
TEST_F(DataCliTest, CsvImportDelimiterMissingAndMaxLevels) {
  const std::string csv = path("semi.csv"), out = path("semi.h5");
  std::ofstream(csv) << "user;x;color;kind\nu1;1.5;red;a\nu2;NA;blue;b\nu3;2,5;red;a\nu4;3;;b\nu5;4;red;a\n";
  // "2,5" (a decimal comma) is text in a numeric column.
  expect_error("data import --format csv --input " + csv + " --label kind --missing mean --out " + out, 1,
               {csv, "line 4, column 'x': '2,5' is not a number"}, out);
  std::ofstream(csv) << "user;x;color;kind\nu1;1.5;red;a\nu2;NA;blue;b\nu3;2.5;red;a\nu4;3;;b\nu5;4;red;a\n";
  expect_error("data import --format csv --input " + csv + " --label kind --out " + out, 1,
               {csv, "line 3, column 'x': missing value 'NA'", "--missing drop, mean or a number"}, out);
  expect_error("data import --format csv --input " + csv + " --label kind --delimiter tab --out " + out, 1,
               {csv, "no column 'kind' for --label (columns: user;x;color;kind)"}, out);
  expect_error("data import --format csv --input " + csv + " --label kind --delimiter : --out " + out, 2,
               {"--delimiter: ':' is not a delimiter"}, out);
  expect_error("data import --format csv --input " + csv + " --label kind --missing zero --out " + out, 2,
               {"--missing: 'zero' is not error, drop, mean or a number"}, out);
  expect_error("data import --format csv --input " + csv + " --label kind --max-levels 4 --missing mean --out " + out, 1,
               {csv, "column 'user' has 5 distinct values, more than --max-levels 4", "--ignore user"}, out);

  const Result dropped = run("data import --format csv --input " + csv + " --label kind --max-levels 5 --missing drop --out " + out);
  ASSERT_EQ(dropped.status, 0) << dropped.output;
  EXPECT_TRUE(contains(dropped.output, "read " + csv + ": 5 rows, delimiter ';' (detected)")) << dropped.output;
  EXPECT_TRUE(contains(dropped.output, "dropped 2 of the 5 rows for a missing cell (--missing drop)")) << dropped.output;
  EXPECT_EQ(read_data_file(out).size(), 3u);

  // x: 1.5, 2.5, 3, 4 -> mean 2.75; color: red 3, blue 1.
  const Result filled = run("data import --format csv --input " + csv + " --label kind --ignore user --missing mean "
                            "--delimiter ';' --overwrite --out " + out);
  ASSERT_EQ(filled.status, 0) << filled.output;
  EXPECT_TRUE(contains(filled.output, "delimiter ';'\n")) << filled.output;  // given, not detected
  EXPECT_TRUE(contains(filled.output, "filled 1 missing cell(s) of 'x' with 2.75 (the column's mean)")) << filled.output;
  EXPECT_TRUE(contains(filled.output, "filled 1 missing cell(s) of 'color' with 'red' (its most frequent level)"))
      << filled.output;
  const Dataset d = read_data_file(out);
  ASSERT_EQ(d.feature_names, (std::vector<std::string>{"x", "color=blue", "color=red"}));
  EXPECT_EQ(d.features(1, 0), 2.75f);
  EXPECT_EQ(d.features(3, 2), 1.0f);

  // A new VALUE with a schema is refused; so are CSV options for a data file.
  expect_error("data import --format csv --input " + csv + " --schema-from " + out + " --missing 0 --out " +
                   path("new.h5"),
               2, {"--missing 0: a table encoded with a schema is filled with the values the schema records"},
               path("new.h5"));
  const std::string model = train(out, "run");
  expect_error("predict --model " + model + " --data " + out + " --delimiter tab --out " + path("p.csv"), 2,
               {"--delimiter and --missing read a CSV --data"}, path("p.csv"));

  // An unterminated quote names the line where it opened.
  std::ofstream(csv) << "x,kind\n1,a\n\"2,b\n3,a\n";
  expect_error("data import --format csv --input " + csv + " --label kind --out " + path("q.h5"), 1,
               {csv + ": line 3: a quoted field opens here and is never closed"}, path("q.h5"));
}

TEST_F(DataCliTest, BadSplitFractions) {
  const std::string file = make("gauss", "--samples 50");
  const std::string run_dir = path("run");
  expect_error("train --data " + file + " --val-split 1.5 --out " + run_dir, 2, {"--val-split", "1.5"}, run_dir);
  expect_error("train --data " + file + " --test-split -0.2 --out " + run_dir, 2, {"--test-split", "-0.2"}, run_dir);
  expect_error("train --data " + file + " --val-split 0.5 --test-split 0.5 --out " + run_dir, 2,
               {"--val-split + --test-split"}, run_dir);
  expect_error("train --data " + file + " --standardize maybe --out " + run_dir, 2, {"--standardize", "'maybe'"},
               run_dir);
}

}  // namespace
}  // namespace sinapsis

namespace sinapsis {
namespace {

// data subset: a row range, a seeded fraction in file order, classes by
// name; the data's names, schema and ids kept; bad selections refused.
TEST_F(DataCliTest, SubsetTakesRowsAFractionOrClasses) {
  const std::string spiral = make("spiral", "--samples 100");
  const Dataset all = read_data_file(spiral);
  ASSERT_EQ(run("data subset " + spiral + " --rows 10:30 --out " + path("rows.h5")).status, 0);
  const Dataset rows = read_data_file(path("rows.h5"));
  ASSERT_EQ(rows.size(), 20u);
  EXPECT_EQ(rows.features(0, 0), all.features(10, 0));
  EXPECT_EQ(rows.labels[19], all.labels[29]);
  EXPECT_EQ(rows.class_names, all.class_names);

  ASSERT_EQ(run("data subset " + spiral + " --fraction 0.1 --seed 3 --out " + path("f1.h5")).status, 0);
  ASSERT_EQ(run("data subset " + spiral + " --fraction 0.1 --seed 3 --out " + path("f2.h5")).status, 0);
  ASSERT_EQ(run("data subset " + spiral + " --fraction 0.1 --seed 4 --out " + path("f3.h5")).status, 0);
  const Dataset f1 = read_data_file(path("f1.h5")), f2 = read_data_file(path("f2.h5")), f3 = read_data_file(path("f3.h5"));
  EXPECT_EQ(f1.size(), 10u);
  EXPECT_EQ(f1.features.values, f2.features.values) << "the same seed, the same rows";
  EXPECT_NE(f1.features.values, f3.features.values);

  ASSERT_EQ(run("data subset " + spiral + " --classes +1 --out " + path("plus.h5")).status, 0);
  const Dataset plus = read_data_file(path("plus.h5"));
  EXPECT_EQ(plus.size(), std::size_t(std::count(all.labels.begin(), all.labels.end(), 1)));
  EXPECT_TRUE(std::all_of(plus.labels.begin(), plus.labels.end(), [](std::int64_t l) { return l == 1; }));

  expect_error("data subset " + spiral + " --classes red --out " + path("red.h5"), 2, {"no class 'red'"}, path("red.h5"));
  expect_error("data subset " + spiral + " --rows 90:200 --out " + path("past.h5"), 2, {"ends past the 100 rows"},
               path("past.h5"));
  expect_error("data subset " + spiral + " --rows 5:5 --out " + path("empty.h5"), 2, {"A < B"}, path("empty.h5"));
  expect_error("data subset " + spiral + " --out " + path("none.h5"), 2, {"give --rows"}, path("none.h5"));
  const Result exists = run("data subset " + spiral + " --rows 0:5 --out " + path("rows.h5"));
  EXPECT_EQ(exists.status, 2) << exists.output;  // an existing --out is kept
  EXPECT_EQ(read_data_file(path("rows.h5")).size(), 20u);
}

}  // namespace
}  // namespace sinapsis
