// The input schema travels with the data and the model (issue 14): data
// import records it, train copies it into model.h5, import --schema-from and
// predict encode new tables exactly as the training table was encoded.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "io/data_file.hpp"
#include "io/importers.hpp"
#include "io/json_text.hpp"
#include "io/model_file.hpp"
#include "core/error.hpp"
#include "io/schema.hpp"
#include "tests/run_command.hpp"

namespace sinapsis {
namespace {

namespace fs = std::filesystem;

TEST(InputSchema, RoundTripsThroughItsJsonAndNamesTheFeatures) {
  InputSchema s;
  s.columns = {{"id", SchemaColumn::Kind::id, {}},
               {"color", SchemaColumn::Kind::categorical, {"blue", "white"}},
               {"x", SchemaColumn::Kind::numeric, {}},
               {"notes", SchemaColumn::Kind::ignored, {}},
               {"kind", SchemaColumn::Kind::label, {}}};
  s.label = "kind";
  s.classes = {"bird", "cat"};
  const InputSchema back = InputSchema::from_json(s.json(), "test");
  EXPECT_EQ(back.json(), s.json());
  EXPECT_EQ(back.feature_names(), (std::vector<std::string>{"color=blue", "color=white", "x"}));
  EXPECT_EQ(back.classes, s.classes);
  EXPECT_EQ(back.task, Task::classification);
  EXPECT_EQ(schema_difference(s, back), "");
  InputSchema other = back;
  other.columns[1].levels = {"red", "white"};
  EXPECT_NE(schema_difference(s, other).find("column 'color' has levels red, white"), std::string::npos);
  EXPECT_THROW(InputSchema::from_json(R"({"columns": [{"name": "a", "kind": "odd"}]})", "f"), DataError);
  EXPECT_THROW(InputSchema::from_json(R"({"columns": [{"name": "a", "kind": "categorical"}]})", "f"), DataError);
}

// The fills of --missing mean|VALUE (the fitted imputation) are part of the
// schema; a schema written before them (no "fill") reads as having none.
TEST(InputSchema, CarriesTheFillValuesOfMissingCells) {
  InputSchema s;
  s.columns = {{"x", SchemaColumn::Kind::numeric}, {"color", SchemaColumn::Kind::categorical, {"blue", "white"}},
               {"y", SchemaColumn::Kind::numeric}, {"kind", SchemaColumn::Kind::label}};
  s.columns[0].fill = double(float(17.0 / 9.0));
  s.columns[1].fill_level = "blue";
  s.label = "kind";
  const InputSchema back = InputSchema::from_json(s.json(), "test");
  EXPECT_EQ(back.json(), s.json());
  EXPECT_EQ(back.columns[0].fill, double(float(17.0 / 9.0)));  // the float32 exactly, through 10 digits of text
  EXPECT_EQ(back.columns[1].fill_level, "blue");
  EXPECT_FALSE(back.columns[2].has_fill());
  EXPECT_NE(s.json().find(R"("fill": "blue")"), std::string::npos) << s.json();

  const InputSchema old = InputSchema::from_json(
      R"({"columns": [{"name": "x", "kind": "numeric"}, {"name": "c", "kind": "categorical", "levels": ["a"]}]})", "old");
  EXPECT_FALSE(old.columns[0].has_fill());
  EXPECT_FALSE(old.columns[1].has_fill());

  const auto refusal = [](const std::string& json) {
    try {
      InputSchema::from_json(json, "f");
    } catch (const DataError& e) {
      return std::string(e.what());
    }
    return std::string("no DataError");
  };
  EXPECT_NE(refusal(R"({"columns": [{"name": "x", "kind": "numeric", "fill": "a"}]})").find("column 'x': \"fill\" must be a number"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"columns": [{"name": "x", "kind": "numeric", "fill": 1e39}]})").find("a float32 holds"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"columns": [{"name": "c", "kind": "categorical", "levels": ["a"], "fill": "b"}]})")
                .find("'b' is not one of its levels (a)"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"columns": [{"name": "i", "kind": "id", "fill": 1}]})").find("numeric and categorical"),
            std::string::npos);

  // Data filled otherwise than the model would fill it does not feed it.
  InputSchema own = back;
  own.columns[0].fill = 1.5;
  EXPECT_EQ(schema_difference(own, back).find("column 'x' fills missing cells with 1.88888884 here but 1.5"), 0u)
      << schema_difference(own, back);
  own.columns[0].fill.reset();
  EXPECT_NE(schema_difference(own, back).find("here but none for the model"), std::string::npos);
  EXPECT_EQ(schema_difference(back, back), "");
  InputSchema unfilled = back;
  unfilled.columns[0].fill.reset();
  unfilled.columns[1].fill_level.reset();
  EXPECT_EQ(schema_difference(back, unfilled), "");  // data without fills had no missing cell filled
}

class SchemaCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sinapsis_schema_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name)) << text;
    return path(name);
  }
  test::CommandResult run(const std::string& arguments) const { return test::run_sinapsis(arguments); }

  // predict's CSV as id -> its fields after the id.
  std::map<std::string, std::vector<std::string>> predictions(const std::string& file) const {
    std::map<std::string, std::vector<std::string>> rows;
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    header_ = line;
    while (std::getline(in, line)) {
      std::stringstream fields(line);
      std::string id, field;
      std::getline(fields, id, ',');
      while (std::getline(fields, field, ',')) rows[id].push_back(field);
    }
    return rows;
  }

  fs::path dir_;
  mutable std::string header_;
};

// The training table: numeric x and y, categorical color, string classes.
std::string training_table() {
  std::ostringstream t;
  t << "id,x,color,y,kind\n";
  for (int i = 0; i < 60; ++i) {
    const double x = std::sin(i * 0.7), y = std::cos(i * 1.3);
    const char* color = i % 3 == 0 ? "white" : "blue";
    const char* kind = x + (i % 3 == 0 ? 0.5 : -0.2) > 0 ? "cat" : (y > 0 ? "dog" : "bird");
    t << "r" << i << "," << x << "," << color << "," << y << "," << kind << "\n";
  }
  return t.str();
}

TEST_F(SchemaCli, NewDataIsEncodedLikeTheTrainingDataAndPredictedByClassName) {
  const std::string table = write("train.csv", training_table());
  ASSERT_EQ(run("data import --format csv --input " + table + " --label kind --id id --out " + path("train.h5")).status, 0);
  const auto trained = run("train --data " + path("train.h5") + " --out " + path("run") +
                           " --hidden 6 --epochs 20 --batch 8 --lr 0.1 --quiet");
  ASSERT_EQ(trained.status, 0) << trained.output;
  const std::string model = path("run") + "/model.h5";
  const ModelFile file = read_model_file(model);
  EXPECT_EQ(file.class_names, (std::vector<std::string>{"bird", "cat", "dog"}));
  ASSERT_FALSE(file.schema.empty());
  EXPECT_EQ(InputSchema::from_json(file.schema, model).feature_names(),
            (std::vector<std::string>{"x", "color=blue", "color=white", "y"}));

  // The same rows (r3, r10, r31), columns and rows reordered, no label column.
  const std::string fresh = write("new.csv",
                                  "y,kind_unknown,color,id,x\n"
                                  + std::to_string(std::cos(31 * 1.3)) + ",?,blue,r31," + std::to_string(std::sin(31 * 0.7)) + "\n"
                                  + std::to_string(std::cos(3 * 1.3)) + ",?,white,r3," + std::to_string(std::sin(3 * 0.7)) + "\n"
                                  + std::to_string(std::cos(10 * 1.3)) + ",?,blue,r10," + std::to_string(std::sin(10 * 0.7)) + "\n");
  const auto from_raw = run("predict --model " + model + " --data " + fresh + " --out " + path("p_new.csv"));
  ASSERT_EQ(from_raw.status, 0) << from_raw.output;
  const auto raw = predictions(path("p_new.csv"));
  EXPECT_EQ(header_, "id,predicted,p_bird,p_cat,p_dog");
  const auto from_training = run("predict --model " + model + " --data " + path("train.h5") + " --out " + path("p_train.csv"));
  ASSERT_EQ(from_training.status, 0) << from_training.output;
  const auto known = predictions(path("p_train.csv"));
  ASSERT_EQ(raw.size(), 3u);
  for (const auto& [id, fields] : raw) {
    ASSERT_TRUE(known.count(id)) << id;
    const auto& expected = known.at(id);
    ASSERT_EQ(fields.size(), 4u);
    EXPECT_EQ(fields[0], expected[0]) << id << ": the predicted class";
    for (std::size_t k = 1; k < 4; ++k) EXPECT_NEAR(std::stod(fields[k]), std::stod(expected[k]), 1e-6) << id;
  }

  // Imported with --schema-from: the same encoding, ids kept, no labels.
  const auto imported = run("data import --format csv --input " + fresh + " --schema-from " + model + " --out " + path("new.h5"));
  ASSERT_EQ(imported.status, 0) << imported.output;
  EXPECT_NE(imported.output.find("no labels"), std::string::npos) << imported.output;
  ASSERT_EQ(run("predict --model " + model + " --data " + path("new.h5") + " --out " + path("p_h5.csv")).status, 0);
  EXPECT_EQ(predictions(path("p_h5.csv")), raw);

  // A level the training data never had: refused naming row, column and
  // value; with --unknown-level ignore encoded as all zeros and counted.
  const std::string red = write("red.csv", "id,x,color,y\nq1,0.1,blue,0.2\nq2,0.3,red,0.4\n");
  const auto refused = run("data import --format csv --input " + red + " --schema-from " + model + " --out " + path("red.h5"));
  EXPECT_EQ(refused.status, 1) << refused.output;
  EXPECT_NE(refused.output.find("line 3, column 'color': level 'red'"), std::string::npos) << refused.output;
  EXPECT_FALSE(fs::exists(path("red.h5")));
  const auto ignored = run("data import --format csv --input " + red + " --schema-from " + model +
                           " --unknown-level ignore --out " + path("red.h5"));
  EXPECT_EQ(ignored.status, 0) << ignored.output;
  EXPECT_NE(ignored.output.find("warning: 1 value"), std::string::npos) << ignored.output;
  const Dataset zeros = read_data_file(path("red.h5"), LabelsRequired::no);
  EXPECT_EQ(zeros.features(1, 1), 0.0f);
  EXPECT_EQ(zeros.features(1, 2), 0.0f);
  EXPECT_EQ(zeros.ids, (std::vector<std::string>{"q1", "q2"}));

  // A data file encoded otherwise is refused naming the first column that differs.
  const std::string other = write("other.csv", "id,x,color,y,kind\na,0.1,green,0.2,cat\nb,0.2,blue,0.1,dog\n");
  ASSERT_EQ(run("data import --format csv --input " + other + " --label kind --id id --out " + path("other.h5")).status, 0);
  const auto mismatch = run("predict --model " + model + " --data " + path("other.h5") + " --out " + path("p_other.csv"));
  EXPECT_EQ(mismatch.status, 1) << mismatch.output;
  EXPECT_NE(mismatch.output.find("column 'color' has levels blue, green"), std::string::npos) << mismatch.output;
  EXPECT_FALSE(fs::exists(path("p_other.csv")));
}

TEST_F(SchemaCli, TheTennisTablePredictsANewMatchByClassName) {
  const std::string tennis = std::string(SINAPSIS_SOURCE_DIR) + "/experiments/data/tennis.csv";
  ASSERT_EQ(run("data import --format csv --input " + tennis + " --label result --id match --out " + path("t.h5")).status, 0);
  ASSERT_EQ(run("train --data " + path("t.h5") + " --out " + path("run") + " --hidden 4 --epochs 50 --batch 4 --quiet").status, 0);
  const std::string match = write("match.csv", "match,court,weather\n13,Arcilla,Nublado\n");
  const auto p = run("predict --model " + path("run") + "/model.h5 --data " + match + " --out " + path("p.csv"));
  ASSERT_EQ(p.status, 0) << p.output;
  const auto rows = predictions(path("p.csv"));
  EXPECT_EQ(header_, "match,predicted,p_GANÓ,p_PERDIÓ");
  ASSERT_EQ(rows.count("13"), 1u);
  const auto& fields = rows.at("13");
  EXPECT_TRUE(fields[0] == "GANÓ" || fields[0] == "PERDIÓ") << fields[0];
  EXPECT_NEAR(std::stod(fields[1]) + std::stod(fields[2]), 1.0, 1e-6);
}

TEST_F(SchemaCli, EvalReportsEveryClassAndTheConfusionMatrix) {
  const std::string tennis = std::string(SINAPSIS_SOURCE_DIR) + "/experiments/data/tennis.csv";
  ASSERT_EQ(run("data import --format csv --input " + tennis + " --label result --id match --out " + path("t.h5")).status, 0);
  ASSERT_EQ(run("train --data " + path("t.h5") + " --out " + path("run") + " --hidden 4 --epochs 50 --batch 4 --quiet").status, 0);
  const auto e = run("eval --model " + path("run") + "/model.h5 --data " + path("t.h5") + " --out " + path("m.json"));
  ASSERT_EQ(e.status, 0) << e.output;
  EXPECT_NE(e.output.find("macro avg"), std::string::npos) << e.output;
  EXPECT_NE(e.output.find("confusion matrix (rows: true class, columns: predicted)"), std::string::npos) << e.output;
  std::ifstream in(path("m.json"));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const JsonDocument doc = read_json(text, "m.json");
  const auto& m = doc.value();
  EXPECT_EQ(m.at("samples"), 12);
  const auto& confusion = m.at("confusion").at("rows_true_columns_predicted");
  std::size_t total = 0, diagonal = 0;
  for (std::size_t t = 0; t < 2; ++t)
    for (std::size_t p = 0; p < 2; ++p) {
      total += confusion.at(t).at(p).get<std::size_t>();
      if (t == p) diagonal += confusion.at(t).at(p).get<std::size_t>();
    }
  EXPECT_EQ(total, 12u);
  EXPECT_NEAR(m.at("accuracy").get<double>(), double(diagonal) / 12, 1e-9);
  EXPECT_EQ(m.at("classes").at(0).at("class"), "GANÓ");
  EXPECT_EQ(m.at("classes").at(0).at("support").get<std::size_t>() + m.at("classes").at(1).at("support").get<std::size_t>(), 12u);
  // A CSV of the same numbers; an existing --out is refused.
  EXPECT_EQ(run("eval --model " + path("run") + "/model.h5 --data " + path("t.h5") + " --out " + path("m.json")).status, 2);
  ASSERT_EQ(run("eval --model " + path("run") + "/model.h5 --data " + path("t.h5") + " --out " + path("m.csv")).status, 0);
  std::ifstream csv(path("m.csv"));
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header, "class,precision,recall,f1,support");
}

// The training table of the missing-cells test, with values chosen so that
// its fills are computed by hand (i = 0..59):
//   x = i % 5, missing (NA) when i % 10 == 3: present 0, 1, 2, 4 twelve times
//     each and 3 six times: 102 / 54 = 17/9;
//   y = (i % 4) / 2, missing (empty) when i % 12 == 7: present 0, 0.5, 1
//     fifteen times each and 1.5 ten times: 37.5 / 55 = 15/22;
//   color white when i % 3 == 0, else blue, missing (?) when i % 13 == 4
//     (i = 4, 17, 30, 43, 56: one white, four blue): blue 36, white 19.
std::string table_with_gaps() {
  std::ostringstream t;
  t << "id,x,color,y,kind\n";
  for (int i = 0; i < 60; ++i) {
    const int x = i % 5;
    const double y = (i % 4) / 2.0;
    const bool white = i % 3 == 0;
    t << "r" << i << "," << (i % 10 == 3 ? "NA" : std::to_string(x)) << "," << (i % 13 == 4 ? "?" : white ? "white" : "blue")
      << "," << (i % 12 == 7 ? "" : std::to_string(y)) << "," << (x + (white ? 2 : 0) > 2 ? "cat" : "dog") << "\n";
  }
  return t.str();
}

// Missing cells of new data are filled with the TRAINING table's fills (the
// schema carries them into model.h5), not with the new table's own means:
// predict and import --schema-from on a CSV with gaps give what the same
// rows with the training means written in give.
TEST_F(SchemaCli, MissingCellsOfNewDataTakeTheTrainingTablesFills) {
  const std::string table = write("train.csv", table_with_gaps());
  const auto imported = run("data import --format csv --input " + table + " --label kind --id id --missing mean --out " +
                            path("train.h5"));
  ASSERT_EQ(imported.status, 0) << imported.output;
  EXPECT_NE(imported.output.find("filled 6 missing cell(s) of 'x' with 1.88888884 (the column's mean)"),
            std::string::npos) << imported.output;
  EXPECT_NE(imported.output.find("filled 5 missing cell(s) of 'color' with 'blue' (its most frequent level)"),
            std::string::npos) << imported.output;
  const float x_mean = float(17.0 / 9.0), y_mean = float(15.0 / 22.0);
  const Dataset train = read_data_file(path("train.h5"));
  EXPECT_EQ(train.features(3, 0), x_mean);   // r3: x missing
  EXPECT_EQ(train.features(7, 3), y_mean);   // r7: y missing
  EXPECT_EQ(train.features(4, 1), 1.0f);     // r4: color missing, blue
  ASSERT_EQ(run("train --data " + path("train.h5") + " --out " + path("run") +
                " --hidden 5 --epochs 10 --batch 8 --lr 0.1 --quiet").status, 0);
  const std::string model = path("run") + "/model.h5";
  const InputSchema schema = InputSchema::from_json(read_model_file(model).schema, model);
  EXPECT_EQ(schema.columns[1].fill, double(x_mean));
  EXPECT_EQ(schema.columns[2].fill_level, "blue");
  EXPECT_EQ(schema.columns[3].fill, double(y_mean));

  // New rows with gaps (this table's own x mean would be 1.5, its y mean 0.5),
  // and the same rows with the training fills written in.
  const std::string gaps = write("gaps.csv", "id,x,color,y\nq1,NA,white,1\nq2,3,,\nq3,0,blue,0\n");
  char filled_rows[256];
  std::snprintf(filled_rows, sizeof filled_rows, "id,x,color,y\nq1,%.17g,white,1\nq2,3,blue,%.17g\nq3,0,blue,0\n",
                17.0 / 9.0, 15.0 / 22.0);
  const std::string filled = write("filled.csv", filled_rows);
  const auto p_gaps = run("predict --model " + model + " --data " + gaps + " --out " + path("p_gaps.csv"));
  ASSERT_EQ(p_gaps.status, 0) << p_gaps.output;
  EXPECT_NE(p_gaps.output.find("filled 1 missing cell(s) of 'x' with 1.88888884 (recorded in the model " + model + ")"),
            std::string::npos) << p_gaps.output;
  ASSERT_EQ(run("predict --model " + model + " --data " + filled + " --out " + path("p_filled.csv")).status, 0);
  const auto expected = predictions(path("p_filled.csv"));
  ASSERT_EQ(expected.size(), 3u);
  EXPECT_EQ(predictions(path("p_gaps.csv")), expected);

  const auto encoded = run("data import --format csv --input " + gaps + " --schema-from " + model + " --out " + path("gaps.h5"));
  ASSERT_EQ(encoded.status, 0) << encoded.output;
  const Dataset g = read_data_file(path("gaps.h5"), LabelsRequired::no);
  EXPECT_EQ(g.features.values, (std::vector<float>{x_mean, 0, 1, 1, 3, 1, 0, y_mean, 0, 1, 0, 0}));
  EXPECT_EQ(InputSchema::from_json(g.schema, "gaps.h5").columns[1].fill, double(x_mean));  // the data keeps the fills
  ASSERT_EQ(run("predict --model " + model + " --data " + path("gaps.h5") + " --out " + path("p_h5.csv")).status, 0);
  EXPECT_EQ(predictions(path("p_h5.csv")), expected);

  // --missing error refuses the first gap; drop leaves its rows out.
  const auto strict = run("predict --model " + model + " --data " + gaps + " --missing error --out " + path("p_strict.csv"));
  EXPECT_EQ(strict.status, 1) << strict.output;
  EXPECT_NE(strict.output.find(gaps + ": line 2, column 'x': missing value 'NA' (--missing error; --missing mean fills "
                                      "it with the value recorded in the model " + model + ", drop drops the row)"),
            std::string::npos) << strict.output;
  EXPECT_FALSE(fs::exists(path("p_strict.csv")));
  const auto dropped = run("predict --model " + model + " --data " + gaps + " --missing drop --out " + path("p_drop.csv"));
  ASSERT_EQ(dropped.status, 0) << dropped.output;
  EXPECT_NE(dropped.output.find("dropped 2 of the 3 rows for a missing cell"), std::string::npos) << dropped.output;
  const auto kept = predictions(path("p_drop.csv"));
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept.at("q3"), expected.at("q3"));
  // Without ids, a row kept is known by its number in the file (from 0), not its place among those kept.
  const std::string no_ids = write("no_ids.csv", "x,color,y\nNA,white,1\n3,,\n0,blue,0\n");
  ASSERT_EQ(run("predict --model " + model + " --data " + no_ids + " --missing drop --out " + path("p_rows.csv")).status, 0);
  const auto rows = predictions(path("p_rows.csv"));
  EXPECT_EQ(header_.substr(0, 4), "row,");
  ASSERT_EQ(rows.count("2"), 1u);
  EXPECT_EQ(rows.at("2"), expected.at("q3"));
  // A new VALUE would not be the model's imputation.
  const auto value = run("predict --model " + model + " --data " + gaps + " --missing 0 --out " + path("p_value.csv"));
  EXPECT_EQ(value.status, 2) << value.output;
  EXPECT_NE(value.output.find("--missing 0: a table encoded with a schema is filled with the values the schema records"),
            std::string::npos) << value.output;

  // A table imported on its own with --missing mean has its own fills: not the model's data.
  ASSERT_EQ(run("data import --format csv --input " + gaps + " --missing mean --id id --out " + path("own.h5")).status, 0);
  const auto own = run("predict --model " + model + " --data " + path("own.h5") + " --out " + path("p_own.csv"));
  EXPECT_EQ(own.status, 1) << own.output;
  EXPECT_NE(own.output.find("column 'x' fills missing cells with 1.5 here but 1.88888884 for the model"),
            std::string::npos) << own.output;

  // A model trained on a table without fills refuses gaps it cannot fill.
  ASSERT_EQ(run("data import --format csv --input " + table + " --label kind --id id --missing drop --out " +
                path("dropped.h5")).status, 0);
  ASSERT_EQ(run("train --data " + path("dropped.h5") + " --out " + path("run2") + " --hidden 3 --epochs 2 --quiet").status, 0);
  const auto unfilled = run("predict --model " + path("run2") + "/model.h5 --data " + gaps + " --out " + path("p2.csv"));
  EXPECT_EQ(unfilled.status, 1) << unfilled.output;
  EXPECT_NE(unfilled.output.find(gaps + ": line 2, column 'x': missing value 'NA', and the model " + path("run2") +
                                 "/model.h5 records no fill value for the column"),
            std::string::npos) << unfilled.output;
  EXPECT_FALSE(fs::exists(path("p2.csv")));
}

// A label column left empty for the rows to predict is no label column.
TEST_F(SchemaCli, AnEmptyLabelColumnIsRowsToPredict) {
  const std::string tennis = std::string(SINAPSIS_SOURCE_DIR) + "/experiments/data/tennis.csv";
  ASSERT_EQ(run("data import --format csv --input " + tennis + " --label result --id match --out " + path("t.h5")).status, 0);
  ASSERT_EQ(run("train --data " + path("t.h5") + " --out " + path("run") + " --hidden 4 --epochs 5 --batch 4 --quiet").status, 0);
  const std::string blanks = write("blank.csv", "match;court;weather;result\n13;Arcilla;Nublado;\n14;Césped;Soleado;\n");
  const auto p = run("predict --model " + path("run") + "/model.h5 --data " + blanks + " --out " + path("p.csv"));
  ASSERT_EQ(p.status, 0) << p.output;
  EXPECT_NE(p.output.find("delimiter ';' (detected)"), std::string::npos) << p.output;
  EXPECT_EQ(predictions(path("p.csv")).size(), 2u);
  // predict reads no label at all: one given, one missing, one unknown to the model.
  const std::string some = write("some.csv", "match,court,weather,result\n13,Arcilla,Nublado,GANÓ\n14,Césped,Soleado,NA\n"
                                             "15,Césped,Nublado,EMPATE\n");
  const auto q = run("predict --model " + path("run") + "/model.h5 --data " + some + " --out " + path("q.csv"));
  ASSERT_EQ(q.status, 0) << q.output;
  EXPECT_EQ(predictions(path("q.csv")).size(), 3u);
  // import --schema-from reads it: the missing one is refused (or dropped).
  const auto refused = run("data import --format csv --input " + some + " --schema-from " + path("run") +
                           "/model.h5 --out " + path("some.h5"));
  EXPECT_EQ(refused.status, 1) << refused.output;
  EXPECT_NE(refused.output.find("line 3, column 'result': the label is missing ('NA'"), std::string::npos)
      << refused.output;
}

}  // namespace
}  // namespace sinapsis
