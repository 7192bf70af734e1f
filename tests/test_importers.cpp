// Importers: IDX files written here byte by byte (plain and gzipped) and CSV
// tables (the tennis table of experiments/data, and small ones written here)
// become the expected features, labels and names; malformed inputs are
// refused with a DataError naming the file and what is wrong.
#include <gtest/gtest.h>

#include <unistd.h>  // getpid
#include <zlib.h>    // gzopen/gzwrite: gzipped IDX files

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "io/csv_reader.hpp"
#include "io/importers.hpp"
#include "io/schema.hpp"

namespace sinapsis {
namespace {

namespace fs = std::filesystem;

const std::string kTennis = std::string(SINAPSIS_SOURCE_DIR) + "/experiments/data/tennis.csv";

// An IDX file: magic 0x000008TT (unsigned bytes, TT dimensions), big-endian
// sizes, then the bytes.
std::vector<unsigned char> idx_bytes(std::uint32_t magic, const std::vector<std::uint32_t>& dims,
                                     const std::vector<unsigned char>& values) {
  std::vector<unsigned char> out;
  const auto put = [&](std::uint32_t word) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<unsigned char>(word >> shift));
  };
  put(magic);
  for (auto d : dims) put(d);
  out.insert(out.end(), values.begin(), values.end());
  return out;
}

// Three 2x3 images, pixel (i, r, c) = 40 i + 10 r + c + 1 (and one 255), labels 0, 7, 2.
std::vector<unsigned char> pixels() {
  std::vector<unsigned char> v;
  for (unsigned i = 0; i < 3; ++i)
    for (unsigned r = 0; r < 2; ++r)
      for (unsigned c = 0; c < 3; ++c) v.push_back(static_cast<unsigned char>(40 * i + 10 * r + c + 1));
  v.back() = 255;
  return v;
}
const std::vector<unsigned char> kLabels{0, 7, 2};

class ImportersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sinapsis_importers_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::string plain(const std::string& name, const std::vector<unsigned char>& bytes) const {
    std::ofstream out(path(name), std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    return path(name);
  }
  std::string gzipped(const std::string& name, const std::vector<unsigned char>& bytes) const {
    gzFile file = gzopen(path(name).c_str(), "wb");
    EXPECT_NE(file, nullptr);
    EXPECT_EQ(gzwrite(file, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
    EXPECT_EQ(gzclose(file), Z_OK);
    return path(name);
  }
  std::string text(const std::string& name, const std::string& content) const {
    std::ofstream(path(name), std::ios::binary) << content;
    return path(name);
  }

  fs::path dir_;
};

// The DataError message of `call`, or a failure if it does not throw one.
template <class F>
std::string data_error_of(F&& call) {
  try {
    call();
  } catch (const DataError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no DataError";
  return "";
}

void expect_tiny_images(const Dataset& d) {
  ASSERT_EQ(d.size(), 3u);
  ASSERT_EQ(d.dimension(), 6u);
  EXPECT_EQ(d.task, Task::classification);
  const std::vector<unsigned char> bytes = pixels();
  EXPECT_EQ(d.features.values, std::vector<float>(bytes.begin(), bytes.end()));
  EXPECT_EQ(d.features(1, 4), 40.0f + 10 + 1 + 1);  // image 1, row 1, column 1
  EXPECT_EQ(d.features(2, 5), 255.0f);
  EXPECT_EQ(d.labels, (std::vector<std::int64_t>{0, 7, 2}));
  EXPECT_EQ(d.classes, 10u);  // declared: three images of ten classes
  ASSERT_EQ(d.feature_names.size(), 6u);
  EXPECT_EQ(d.feature_names[4], "pixel_1_1");
  EXPECT_EQ(d.feature_storage, FeatureStorage::uint8);  // written as the bytes they are
}

TEST_F(ImportersTest, IdxPlain) {
  expect_tiny_images(import_idx(plain("img", idx_bytes(0x803, {3, 2, 3}, pixels())),
                                plain("lab", idx_bytes(0x801, {3}, kLabels)), 10));
}

TEST_F(ImportersTest, IdxGzipped) {
  expect_tiny_images(import_idx(gzipped("img.gz", idx_bytes(0x803, {3, 2, 3}, pixels())),
                                gzipped("lab.gz", idx_bytes(0x801, {3}, kLabels)), 10));
  // Mixed: gzipped images, plain labels.
  expect_tiny_images(import_idx(gzipped("img2.gz", idx_bytes(0x803, {3, 2, 3}, pixels())),
                                plain("lab2", idx_bytes(0x801, {3}, kLabels)), 10));
}

TEST_F(ImportersTest, IdxRefusesBadMagic) {
  const std::string labels = plain("lab", idx_bytes(0x801, {3}, kLabels));
  const std::string wrong_type = plain("img", idx_bytes(0x0D03, {3, 2, 3}, pixels()));  // 0x0D: float
  std::string m = data_error_of([&] { import_idx(wrong_type, labels); });
  EXPECT_NE(m.find(wrong_type), std::string::npos) << m;
  EXPECT_NE(m.find("magic"), std::string::npos) << m;
  EXPECT_NE(m.find("0x00000D03"), std::string::npos) << m;
  // Images and labels swapped: each has the other's dimension count.
  const std::string images = plain("img2", idx_bytes(0x803, {3, 2, 3}, pixels()));
  m = data_error_of([&] { import_idx(labels, images); });
  EXPECT_NE(m.find("magic"), std::string::npos) << m;
  EXPECT_NE(m.find(labels), std::string::npos) << m;
  // Too short to hold a magic number.
  const std::string tiny = plain("tiny", {0, 0});
  m = data_error_of([&] { import_idx(tiny, labels); });
  EXPECT_NE(m.find("magic"), std::string::npos) << m;
}

TEST_F(ImportersTest, IdxRefusesImageLabelCountMismatch) {
  const std::string images = plain("img", idx_bytes(0x803, {3, 2, 3}, pixels()));
  const std::string labels = plain("lab", idx_bytes(0x801, {2}, {0, 7}));
  const std::string m = data_error_of([&] { import_idx(images, labels); });
  EXPECT_NE(m.find("3 images"), std::string::npos) << m;
  EXPECT_NE(m.find("2 labels"), std::string::npos) << m;
  EXPECT_NE(m.find(labels), std::string::npos) << m;
}

TEST_F(ImportersTest, IdxRefusesTruncatedData) {
  auto short_pixels = pixels();
  short_pixels.pop_back();
  const std::string images = plain("img", idx_bytes(0x803, {3, 2, 3}, short_pixels));
  const std::string labels = plain("lab", idx_bytes(0x801, {3}, kLabels));
  std::string m = data_error_of([&] { import_idx(images, labels); });
  EXPECT_NE(m.find(images), std::string::npos) << m;
  EXPECT_NE(m.find("promises 18"), std::string::npos) << m;
  EXPECT_NE(m.find("holds 17"), std::string::npos) << m;
  // Header cut inside the sizes.
  auto cut = idx_bytes(0x803, {3, 2, 3}, {});
  cut.resize(10);
  const std::string header = plain("hdr", cut);
  m = data_error_of([&] { import_idx(header, labels); });
  EXPECT_NE(m.find("truncated"), std::string::npos) << m;
}

TEST_F(ImportersTest, IdxRefusesTruncatedGzip) {
  std::vector<unsigned char> big(4 * 28 * 28);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<unsigned char>((i * 7919) % 251);
  const std::string labels = plain("lab", idx_bytes(0x801, {4}, {1, 2, 3, 0}));
  const std::string whole = gzipped("img.gz", idx_bytes(0x803, {4, 28, 28}, big));
  ASSERT_NO_THROW(import_idx(whole, labels));
  const auto size = fs::file_size(whole);
  // Cut in the middle of the deflate stream.
  fs::copy_file(whole, path("half.gz"));
  fs::resize_file(path("half.gz"), size / 2);
  std::string m = data_error_of([&] { import_idx(path("half.gz"), labels); });
  EXPECT_NE(m.find(path("half.gz")), std::string::npos) << m;
  // Cut in the 8-byte trailer only: every pixel is there, but the stream is incomplete.
  fs::copy_file(whole, path("trailer.gz"));
  fs::resize_file(path("trailer.gz"), size - 4);
  m = data_error_of([&] { import_idx(path("trailer.gz"), labels); });
  EXPECT_NE(m.find(path("trailer.gz")), std::string::npos) << m;
}

TEST_F(ImportersTest, IdxRefusesMissingFile) {
  const std::string m = data_error_of([&] { import_idx(path("nope"), path("nope2")); });
  EXPECT_NE(m.find(path("nope")), std::string::npos) << m;
}

TEST_F(ImportersTest, CsvTennisOneHot) {
  const Dataset d = import_csv(kTennis, "result", {"match"});
  ASSERT_EQ(d.size(), 12u);
  EXPECT_EQ(d.task, Task::classification);
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"court=Arcilla", "court=Césped", "court=Sintética",
                                                       "weather=Nublado", "weather=Soleado"}));
  ASSERT_EQ(d.dimension(), 5u);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"GANÓ", "PERDIÓ"}));
  EXPECT_EQ(d.classes, 2u);
  EXPECT_EQ(std::count(d.labels.begin(), d.labels.end(), 0), 8);
  EXPECT_EQ(std::count(d.labels.begin(), d.labels.end(), 1), 4);
  // Match 1: Arcilla, Soleado, GANÓ. Match 3: Césped, Nublado, PERDIÓ. Match 12: Sintética, Nublado, GANÓ.
  const auto row = [&](std::size_t r) { return std::vector<float>(d.features.values.begin() + std::ptrdiff_t(5 * r),
                                                                   d.features.values.begin() + std::ptrdiff_t(5 * r + 5)); };
  EXPECT_EQ(row(0), (std::vector<float>{1, 0, 0, 0, 1}));
  EXPECT_EQ(d.labels[0], 0);
  EXPECT_EQ(row(2), (std::vector<float>{0, 1, 0, 1, 0}));
  EXPECT_EQ(d.labels[2], 1);
  EXPECT_EQ(row(11), (std::vector<float>{0, 0, 1, 1, 0}));
  EXPECT_EQ(d.labels[11], 0);
  // Every row has exactly one court and one weather.
  for (std::size_t r = 0; r < 12; ++r) {
    EXPECT_EQ(d.features(r, 0) + d.features(r, 1) + d.features(r, 2), 1.0f) << r;
    EXPECT_EQ(d.features(r, 3) + d.features(r, 4), 1.0f) << r;
  }
}

TEST_F(ImportersTest, CsvWithoutIgnoreKeepsTheNumericIdColumn) {
  const Dataset d = import_csv(kTennis, "result");
  ASSERT_EQ(d.dimension(), 6u);
  EXPECT_EQ(d.feature_names.front(), "match");
  for (std::size_t r = 0; r < 12; ++r) EXPECT_EQ(d.features(r, 0), float(r + 1));
}

TEST_F(ImportersTest, CsvNumericColumnsPassThroughAndQuotesHoldCommas) {
  const std::string p = text("mixed.csv",
                             "height, name ,weight,kind\n"
                             "1.5,\"Smith, J\",-2e1,cat\n"
                             "  2 ,\"Doe \"\"JD\"\"\",3.25,dog\r\n"
                             "\n"
                             "-0.5,\"Smith, J\",0,cat\n");
  const Dataset d = import_csv(p, "kind");
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"height", "name=Doe \"JD\"", "name=Smith, J", "weight"}));
  EXPECT_EQ(d.features.values, (std::vector<float>{1.5f, 0, 1, -20, 2, 1, 0, 3.25f, -0.5f, 0, 1, 0}));
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(d.labels, (std::vector<std::int64_t>{0, 1, 0}));
}

TEST_F(ImportersTest, CsvNumericLabels) {
  const Dataset ids = import_csv(text("ids.csv", "x,y\n0.5,2\n1,0\n2,1\n"), "y");
  EXPECT_EQ(ids.task, Task::classification);
  EXPECT_EQ(ids.labels, (std::vector<std::int64_t>{2, 0, 1}));
  EXPECT_EQ(ids.classes, 3u);
  const Dataset reg = import_csv(text("reg.csv", "x,y\n0.5,2.5\n1,0\n2,-1\n"), "y");
  EXPECT_EQ(reg.task, Task::regression);
  ASSERT_EQ(reg.targets.rows, 3u);
  ASSERT_EQ(reg.targets.cols, 1u);
  EXPECT_EQ(reg.targets.values, (std::vector<float>{2.5f, 0, -1}));
  EXPECT_TRUE(reg.labels.empty());
}

TEST_F(ImportersTest, CsvRefusesRaggedRowNamingTheLine) {
  const std::string p = text("ragged.csv", "a,b,label\n1,2,x\n3,4\n5,6,y\n");
  const std::string m = data_error_of([&] { import_csv(p, "label"); });
  EXPECT_NE(m.find(p), std::string::npos) << m;
  EXPECT_NE(m.find("line 3"), std::string::npos) << m;
  EXPECT_NE(m.find("2 fields"), std::string::npos) << m;
}

TEST_F(ImportersTest, CsvRefusesUnknownLabelColumnListingTheColumns) {
  const std::string m = data_error_of([&] { import_csv(kTennis, "winner"); });
  EXPECT_NE(m.find(kTennis), std::string::npos) << m;
  EXPECT_NE(m.find("'winner'"), std::string::npos) << m;
  EXPECT_NE(m.find("match, court, weather, result"), std::string::npos) << m;
  const std::string ignored = data_error_of([&] { import_csv(kTennis, "result", {"stadium"}); });
  EXPECT_NE(ignored.find("'stadium'"), std::string::npos) << ignored;
  const std::string label = data_error_of([&] { import_csv(kTennis, "result", {"result"}); });
  EXPECT_NE(label.find("is the label"), std::string::npos) << label;
}

TEST_F(ImportersTest, CsvRefusesNonNumericValueInNumericColumn) {
  const std::string p = text("bad.csv", "a,b,label\n1,2,x\n3,4,y\n5,oops,x\n7,8,y\n");
  const std::string m = data_error_of([&] { import_csv(p, "label"); });
  EXPECT_NE(m.find(p), std::string::npos) << m;
  EXPECT_NE(m.find("line 4"), std::string::npos) << m;
  EXPECT_NE(m.find("'b'"), std::string::npos) << m;
  EXPECT_NE(m.find("'oops'"), std::string::npos) << m;
}

TEST_F(ImportersTest, CsvRefusesNaNAndInfTextInNumericColumn) {
  for (const char* bad : {"nan", "inf", "-inf", "NaN"}) {
    const std::string p = text("nan.csv", std::string("a,b,label\n1,2,x\n3,4,y\n5,") + bad + ",x\n7,8,y\n");
    const std::string m = data_error_of([&] { import_csv(p, "label"); });
    EXPECT_NE(m.find("line 4"), std::string::npos) << bad << ": " << m;
    EXPECT_NE(m.find(bad), std::string::npos) << m;
  }
}

// Before, a column of mostly inf/1e400 did not "parse" and so turned
// categorical in silence: they look like numbers, so the column is numeric,
// and the value is refused. (nan is a missing value: below.)
TEST_F(ImportersTest, CsvRefusesNonFiniteNumbersInNumericLookingColumns) {
  for (const std::string bad : {"inf", "-Infinity", "1e400", "-1e400", "1e39"}) {
    const std::string p = text("nonfinite.csv", "a,b,label\n1," + bad + ",x\n3," + bad + ",y\n5,6,x\n");
    const std::string m = data_error_of([&] { import_csv(p, "label"); });
    EXPECT_NE(m.find(p + ": line 2, column 'b': '" + bad + "' is not a finite number a float32 holds"),
              std::string::npos)
        << bad << ": " << m;
  }
  // So is a numeric-looking label column; and a nan label is a missing one.
  const std::string label = text("label.csv", "a,y\n1,0.5\n2,inf\n");
  EXPECT_NE(data_error_of([&] { import_csv(label, "y"); }).find("line 3, column 'y': 'inf'"), std::string::npos);
  const std::string nan = text("nan_label.csv", "a,y\n1,0.5\n2,nan\n");
  EXPECT_NE(data_error_of([&] { import_csv(nan, "y"); }).find("line 3, column 'y': the label is missing ('nan'"),
            std::string::npos);
  // An underflow is a number: about zero.
  const Dataset tiny = import_csv(text("tiny.csv", "a,b,label\n1,1e-400,x\n3,4,y\n"), "label");
  EXPECT_EQ(tiny.features(0, 1), 0.0f);
}

TEST_F(ImportersTest, CsvNumericLabelsFollowTheClassIdRule) {
  std::string rows = "x,y\n";
  for (int r = 0; r < 40; ++r) rows += std::to_string(r) + "," + (r == 17 ? "1000000" : std::to_string(r % 2)) + "\n";
  const std::string p = text("stray.csv", rows);
  const std::string m = data_error_of([&] { import_csv(p, "y"); });
  EXPECT_NE(m.find(p + ": line 19, column 'y' is class 1000000: more classes than the data set's 40 rows"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("--task regression"), std::string::npos) << m;
  // Declared classes (--class-names) bound them instead.
  EXPECT_NE(data_error_of([&] { import_csv(p, "y", {}, LabelTask::automatic, 10); })
                .find("is class 1000000 but the data set declares 10 classes"),
            std::string::npos);
  // As a quantity it is a regression target.
  const Dataset reg = import_csv(p, "y", {}, LabelTask::regression);
  EXPECT_EQ(reg.task, Task::regression);
  EXPECT_EQ(reg.targets(17, 0), 1000000.0f);
  // Forced classification of non-whole numbers names the line.
  EXPECT_NE(data_error_of([&] { import_csv(text("half.csv", "x,y\n1,0.5\n2,1\n"), "y", {}, LabelTask::classification); })
                .find("line 2, column 'y'"),
            std::string::npos);
}

TEST_F(ImportersTest, IdxLabelsFollowTheClassIdRule) {
  std::vector<unsigned char> labels(40), images(40 * 4, 7);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<unsigned char>(i % 2);
  labels[17] = 200;
  const std::string img = plain("img", idx_bytes(0x803, {40, 2, 2}, images));
  const std::string lab = plain("lab", idx_bytes(0x801, {40}, labels));
  const std::string m = data_error_of([&] { import_idx(img, lab); });
  EXPECT_NE(m.find(lab + ": label row 17 is class 200: more classes than the data set's 40 rows"), std::string::npos)
      << m;
  EXPECT_EQ(import_idx(img, lab, 256).classes, 256u);  // declared (--class-names)
}

TEST_F(ImportersTest, IdxHeadersClaimingMoreThanTheFileOrMemoryAreRefusedBeforeAllocating) {
  const std::string labels = plain("lab", idx_bytes(0x801, {3}, kLabels));
  // 2^32-1 cubed: more than 64 bits can count.
  const std::string huge = plain("huge", idx_bytes(0x803, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, pixels()));
  std::string m = data_error_of([&] { import_idx(huge, labels); });
  EXPECT_NE(m.find(huge + ": IDX header claims 4294967295 x 4294967295 x 4294967295 values, which needs more than "
                          "2^64 bytes"),
            std::string::npos)
      << m;
  // 2^32-1 images of 64 x 64: countable, but no machine's memory.
  const std::string big = gzipped("big.gz", idx_bytes(0x803, {0xFFFFFFFF, 64, 64}, pixels()));
  m = data_error_of([&] { import_idx(big, labels); });
  EXPECT_NE(m.find("more than this machine's memory"), std::string::npos) << m;
  // Bytes beyond what the header promises (a gzip bomb stops there).
  auto extra = pixels();
  extra.resize(extra.size() + 100000, 0);
  const std::string bomb = gzipped("bomb.gz", idx_bytes(0x803, {3, 2, 3}, extra));
  m = data_error_of([&] { import_idx(bomb, labels, 10); });
  EXPECT_NE(m.find(bomb + ": IDX header promises 18 values (3 x 2 x 3), file holds 100018"), std::string::npos) << m;
}

TEST_F(ImportersTest, CsvLineNumbersCountSkippedBlankLines) {
  // Line 1 header, 2 data, 3 blank, 4 data, 5 the bad value.
  const std::string p = text("blank.csv", "a,b,label\n1,2,x\n\n3,4,y\n5,oops,x\n7,8,y\n");
  const std::string m = data_error_of([&] { import_csv(p, "label"); });
  EXPECT_NE(m.find("line 5"), std::string::npos) << m;
}

TEST_F(ImportersTest, CsvRefusesEmptyAndMissingFiles) {
  EXPECT_NE(data_error_of([&] { import_csv(text("empty.csv", ""), "y"); }).find("empty"), std::string::npos);
  EXPECT_NE(data_error_of([&] { import_csv(text("header.csv", "x,y\n"), "y"); }).find("no data rows"), std::string::npos);
  EXPECT_NE(data_error_of([&] { import_csv(text("only.csv", "y\n1\n"), "y"); }).find("no feature columns"), std::string::npos);
  EXPECT_NE(data_error_of([&] { import_csv(path("missing.csv"), "y"); }).find(path("missing.csv")), std::string::npos);
}

// ---- CSV as people really have it (issue 14) ---------------------------------

// The delimiter is found from the header (outside quotes) and checked on the
// next lines; a delimiter inside quotes is data.
TEST_F(ImportersTest, CsvDecimalCommaIsReadWithDecimalComma) {
  // A table as a German or Spanish spreadsheet writes it: ';' between
  // fields, ',' before the decimals.
  const std::string file = text("euro.csv", "Größe;Farbe;Klasse\n1,5;rot;a\n-2,25;blau;b\n3;rot;a\n");
  // Not said: refused, not one-hot encoded as the categories '1,5', '-2,25' and '3'.
  const std::string plain = data_error_of([&] { import_csv(file, "Klasse"); });
  EXPECT_NE(plain.find("column 'Größe' holds numbers with a decimal comma ('1,5'): --decimal , reads them as "
                       "numbers, --decimal . as categories"),
            std::string::npos)
      << plain;
  CsvOptions o;
  o.label = "Klasse";
  o.decimal = '.';
  EXPECT_EQ(import_csv(file, o).data.feature_names.size(), 5u) << "3 levels of Größe, 2 of Farbe";
  // A numeric column with one decimal comma among points: named, with the hint.
  const std::string mixed = text("mixed.csv", "x;k\n1.5;a\n2,5;b\n3;a\n");
  const std::string one = data_error_of([&] { import_csv(mixed, "k"); });
  EXPECT_NE(one.find("line 3, column 'x': '2,5' is not a number (the column is numeric; a decimal comma? --decimal , "
                     "reads it)"),
            std::string::npos)
      << one;
  o.label = "Klasse";
  o.decimal = ',';
  const Dataset d = import_csv(file, o).data;
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"Größe", "Farbe=blau", "Farbe=rot"}));
  EXPECT_EQ(d.features.values, (std::vector<float>{1.5f, 0, 1, -2.25f, 1, 0, 3, 0, 1}));
  // With a decimal comma, a '.' is no number (thousands separators are not read).
  const std::string dotted = text("dotted.csv", "x;y\n1.000,5;a\n2;b\n3;a\n");
  o.label = "y";
  const std::string m = data_error_of([&] { import_csv(dotted, o); });
  EXPECT_NE(m.find("line 2, column 'x': '1.000,5' is not a number"), std::string::npos) << m;
  // ',' cannot be both the delimiter and the decimal separator.
  const std::string commas = text("commas.csv", "x,y\n1,a\n");
  EXPECT_THROW(import_csv(commas, o), UsageError);
  EXPECT_EQ(parse_decimal("comma", "--decimal"), ',');
  EXPECT_THROW(parse_decimal(";", "--decimal"), UsageError);
}

TEST_F(ImportersTest, CsvDelimiterIsDetectedFromTheHeaderAndTheNextLines) {
  const std::string semi = text("semi.csv", "x;\"a;b\";kind\n1.5;u,v;cat\n2;w;dog\n");
  const CsvTable s = read_csv(semi, std::nullopt);
  EXPECT_EQ(s.delimiter, ';');
  EXPECT_TRUE(s.delimiter_detected);
  EXPECT_EQ(s.header, (std::vector<std::string>{"x", "a;b", "kind"}));
  EXPECT_EQ(s.rows[0], (std::vector<std::string>{"1.5", "u,v", "cat"}));
  const Dataset d = import_csv(semi, "kind");
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"x", "a;b=u,v", "a;b=w"}));
  EXPECT_EQ(d.features.values, (std::vector<float>{1.5f, 1, 0, 2, 0, 1}));

  // Tab-separated, with a UTF-8 byte order mark and spaces inside values.
  const std::string tab = text("tab.tsv", "\xEF\xBB\xBFheight\tfull name\tkind\n1.5\tAna Gómez\tcat\n2\tLuis\tdog\n");
  const CsvTable t = read_csv(tab, std::nullopt);
  EXPECT_EQ(t.delimiter, '\t');
  EXPECT_EQ(t.header, (std::vector<std::string>{"height", "full name", "kind"}));
  EXPECT_EQ(t.rows[0][1], "Ana Gómez");

  // ',' splits this header most, but not the lines after it: ';' does both.
  EXPECT_EQ(detect_delimiter("x,y,z;w\n1;2\n3;4\n", true), ';');
  // Commas inside quotes do not count; one column reads with ','.
  EXPECT_EQ(detect_delimiter("\"a,b,c\";d\n1;2\n", true), ';');
  EXPECT_EQ(detect_delimiter("only\n1\n", true), ',');
  // Given, the delimiter is not detected: read with ';', the tab file has one column.
  const CsvTable given = read_csv(tab, ';');
  EXPECT_EQ(given.header, (std::vector<std::string>{"height\tfull name\tkind"}));
  EXPECT_FALSE(given.delimiter_detected);
}

// A ragged row of a detected delimiter says which was used and how to set it.
TEST_F(ImportersTest, CsvRaggedRowNamesTheDetectedDelimiter) {
  const std::string p = text("mixed.csv", "a;b;kind\n1;2;x\n3,4,y\n");
  const std::string m = data_error_of([&] { import_csv(p, "kind"); });
  EXPECT_NE(m.find(p + ": line 3 has 1 fields, the header has 3 (delimiter ';', detected from the header; "
                       "--delimiter sets it)"),
            std::string::npos)
      << m;
}

// RFC 4180 quoting: the delimiter, "" and line ends (LF and CRLF) inside
// quotes; a record spanning lines is one record, and the next record's
// message names the line it starts on.
TEST_F(ImportersTest, CsvQuotedFieldsHoldDelimitersQuotesAndLineEnds) {
  const std::string quoted = "id,note,x,kind\n"                    // line 1
                             "1,\"a, b\",1,cat\n"                  // line 2
                             "2,\"say \"\"hi\"\"\",2,dog\n"        // line 3
                             "3,\"two\nlines\",3,cat\n"            // lines 4-5
                             "4,\"three\r\nCRLF\r\nlines\",4,dog\n"  // lines 6-8
                             "5,5'11\" tall,5,cat\n";              // line 9: a quote inside a value is a character
  const CsvTable t = read_csv(text("q.csv", quoted), std::nullopt);
  ASSERT_EQ(t.rows.size(), 5u);
  EXPECT_EQ(t.line_of, (std::vector<std::size_t>{2, 3, 4, 6, 9}));
  EXPECT_EQ(t.rows[0][1], "a, b");
  EXPECT_EQ(t.rows[1][1], "say \"hi\"");
  EXPECT_EQ(t.rows[2][1], "two\nlines");
  EXPECT_EQ(t.rows[3][1], "three\nCRLF\nlines");
  EXPECT_EQ(t.rows[4][1], "5'11\" tall");
  const Dataset d = import_csv(text("q.csv", quoted), "kind", {"id"});
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"note=5'11\" tall", "note=a, b", "note=say \"hi\"",
                                                       "note=three\nCRLF\nlines", "note=two\nlines", "x"}));

  std::string bad = quoted;
  bad.replace(bad.find("5,5'11"), 1, "oops");
  const std::string m = data_error_of([&] { import_csv(text("bad.csv", bad), "kind"); });
  EXPECT_NE(m.find("bad.csv: line 9, column 'id': 'oops' is not a number"), std::string::npos) << m;
  std::string ragged = quoted;
  ragged.replace(ragged.find(",4,dog"), 6, ",dog");
  const std::string r = data_error_of([&] { import_csv(text("ragged.csv", ragged), "kind"); });
  EXPECT_NE(r.find("ragged.csv: line 6 has 3 fields"), std::string::npos) << r;
}

TEST_F(ImportersTest, CsvUnterminatedQuoteIsOneLineNamingWhereItOpened) {
  const std::string p = text("open.csv", "a,b,kind\n1,2,x\n3,\"4,y\n5,6,x\n7,8,y\n");
  const std::string m = data_error_of([&] { import_csv(p, "kind"); });
  EXPECT_EQ(m, p + ": line 3: a quoted field opens here and is never closed (unterminated quote)");
}

// What Python's csv.writer writes by default (the "excel" dialect: CRLF
// after every row, quotes only around a field holding the delimiter, a
// quote or a line end, doubled quotes, None as an empty field), as
//   csv.writer(open("people.csv", "w", newline="")).writerows(rows)
// writes it: the bytes are spelled out here.
TEST_F(ImportersTest, CsvWrittenByPythonsCsvModule) {
  const std::string p = text("people.csv",
                             "name,city,height,label\r\n"
                             "\"Smith, J\",Madrid,1.75,yes\r\n"
                             "\"O\"\"Brien\",Dublin,1.8,no\r\n"
                             "\"multi\r\nline\",Paris,,yes\r\n"
                             "plain,Rome,1.6,no\r\n");
  CsvOptions options;
  options.label = "label";
  options.missing.policy = MissingPolicy::mean;
  const CsvImport imported = import_csv(p, options);
  const Dataset& d = imported.data;
  EXPECT_EQ(imported.delimiter, ',');
  EXPECT_EQ(imported.rows_read, 4u);
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"name=O\"Brien", "name=Smith, J", "name=multi\nline",
                                                       "name=plain", "city=Dublin", "city=Madrid", "city=Paris",
                                                       "city=Rome", "height"}));
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"no", "yes"}));
  EXPECT_EQ(d.labels, (std::vector<std::int64_t>{1, 0, 1, 0}));
  // The empty height is the mean of 1.75, 1.8 and 1.6: 5.15 / 3.
  const float mean = float((1.75 + 1.8 + 1.6) / 3);
  EXPECT_EQ(d.features(0, 8), 1.75f);
  EXPECT_EQ(d.features(2, 8), mean);
  EXPECT_EQ(d.features(2, 2), 1.0f);  // multi\nline
  ASSERT_EQ(imported.filled.size(), 1u);
  EXPECT_EQ(imported.filled[0].column, "height");
  EXPECT_EQ(imported.filled[0].cells, 1u);
}

// Missing cells: empty or a missing token; each --missing policy, with the
// values computed by hand.
//   x: 1, NA, 3, 5, ?, 7    present 1 3 5 7, mean 4
//   color: red, blue, (empty), red, red, blue    most frequent: red (3)
//   y: 10, (empty), 30, N/A, 50, 70    present 10 30 50 70, mean 40
const char* const kGaps = "x,color,y,kind\n"
                          "1,red,10,a\n"
                          "NA,blue,,b\n"
                          "3,,30,a\n"
                          "5,red,N/A,b\n"
                          "?,red,50,a\n"
                          "7,blue,70,b\n";

TEST_F(ImportersTest, CsvMissingCellsAreRefusedByDefaultNamingTheCell) {
  const std::string p = text("gaps.csv", kGaps);
  const std::string m = data_error_of([&] { import_csv(p, "kind"); });
  EXPECT_EQ(m, p + ": line 3, column 'x': missing value 'NA' (--missing drop, mean or a number drops or fills "
                   "missing cells)");
  // Every token of the documented list, and an empty cell, is missing.
  for (const std::string token : {"", "NA", "N/A", "n/a", "#N/A", "NaN", "nan", "null", "NULL", "?", " NA "}) {
    const std::string one = text("one.csv", "x,kind\n1,a\n" + token + ",b\n");
    EXPECT_NE(data_error_of([&] { import_csv(one, "kind"); }).find("line 3, column 'x': missing value"),
              std::string::npos)
        << "'" << token << "'";
  }
}

TEST_F(ImportersTest, CsvMissingDropLeavesOutRowsWithAMissingCell) {
  CsvOptions options;
  options.label = "kind";
  options.missing.policy = MissingPolicy::drop;
  const CsvImport imported = import_csv(text("gaps.csv", kGaps), options);
  EXPECT_EQ(imported.rows_read, 6u);
  EXPECT_EQ(imported.rows_dropped, 4u);
  const Dataset& d = imported.data;
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"x", "color=blue", "color=red", "y"}));
  EXPECT_EQ(d.features.values, (std::vector<float>{1, 0, 1, 10, 7, 1, 0, 70}));
  EXPECT_EQ(d.labels, (std::vector<std::int64_t>{0, 1}));
  // Dropping records no fill.
  for (const auto& c : InputSchema::from_json(d.schema, "drop").columns) EXPECT_FALSE(c.has_fill()) << c.name;
}

TEST_F(ImportersTest, CsvMissingMeanFillsWithTheColumnsMeanAndMostFrequentLevel) {
  CsvOptions options;
  options.label = "kind";
  options.missing.policy = MissingPolicy::mean;
  const CsvImport imported = import_csv(text("gaps.csv", kGaps), options);
  EXPECT_EQ(imported.rows_dropped, 0u);
  const Dataset& d = imported.data;
  ASSERT_EQ(d.feature_names, (std::vector<std::string>{"x", "color=blue", "color=red", "y"}));
  EXPECT_EQ(d.features.values, (std::vector<float>{1, 0, 1, 10,   //
                                                   4, 1, 0, 40,   // x and y filled
                                                   3, 0, 1, 30,   // color filled: red
                                                   5, 0, 1, 40,   // y filled
                                                   4, 0, 1, 50,   // x filled
                                                   7, 1, 0, 70}));
  ASSERT_EQ(imported.filled.size(), 3u);
  EXPECT_EQ(imported.filled[0].column, "x");
  EXPECT_EQ(imported.filled[0].cells, 2u);
  EXPECT_EQ(imported.filled[0].value, "4");
  EXPECT_EQ(imported.filled[1].value, "'red'");
  EXPECT_EQ(imported.filled[2].cells, 2u);
  // The fills travel in the schema.
  const InputSchema schema = InputSchema::from_json(d.schema, "mean");
  EXPECT_EQ(schema.columns[0].fill, 4.0);
  EXPECT_EQ(schema.columns[1].fill_level, "red");
  EXPECT_EQ(schema.columns[2].fill, 40.0);
  EXPECT_FALSE(schema.columns[3].has_fill());  // the label

  // A mean that is not round is recorded as the float32 written: 1, 2, 2 -> 5/3.
  const CsvImport thirds = import_csv(text("thirds.csv", "x,kind\n1,a\n2,b\nNA,a\n2,b\n"), options);
  EXPECT_EQ(thirds.data.features(2, 0), float(5.0 / 3.0));
  EXPECT_EQ(InputSchema::from_json(thirds.data.schema, "thirds").columns[0].fill, double(float(5.0 / 3.0)));
}

TEST_F(ImportersTest, CsvMissingValueFillsNumericColumnsWithIt) {
  CsvOptions options;
  options.label = "kind";
  options.missing = {MissingPolicy::value, -1};
  const CsvImport imported = import_csv(text("gaps.csv", kGaps), options);
  const Dataset& d = imported.data;
  EXPECT_EQ(d.features(1, 0), -1.0f);
  EXPECT_EQ(d.features(1, 3), -1.0f);
  EXPECT_EQ(d.features(4, 0), -1.0f);
  EXPECT_EQ(d.features(2, 2), 1.0f);  // a categorical column: its most frequent level
  EXPECT_EQ(imported.filled[0].how, "--missing -1");
  const InputSchema schema = InputSchema::from_json(d.schema, "value");
  EXPECT_EQ(schema.columns[0].fill, -1.0);
  EXPECT_EQ(schema.columns[2].fill, -1.0);
}

// A missing label is never filled: dropped with drop, refused otherwise.
TEST_F(ImportersTest, CsvMissingLabelIsDroppedOrRefused) {
  const std::string p = text("label.csv", "x,kind\n1,a\n2,\n3,b\n4,NA\n");
  for (const MissingPolicy policy : {MissingPolicy::error, MissingPolicy::mean, MissingPolicy::value}) {
    CsvOptions options;
    options.label = "kind";
    options.missing.policy = policy;
    EXPECT_EQ(data_error_of([&] { import_csv(p, options); }),
              p + ": line 3, column 'kind': the label is missing ((an empty cell); --missing drop drops such rows)");
  }
  CsvOptions drop;
  drop.label = "kind";
  drop.missing.policy = MissingPolicy::drop;
  const CsvImport imported = import_csv(p, drop);
  EXPECT_EQ(imported.rows_dropped, 2u);
  EXPECT_EQ(imported.data.features.values, (std::vector<float>{1, 3}));
  EXPECT_EQ(imported.data.labels, (std::vector<std::int64_t>{0, 1}));
  // Every row dropped is refused, not an empty data set.
  drop.missing.policy = MissingPolicy::drop;
  EXPECT_NE(data_error_of([&] { import_csv(text("none.csv", "x,kind\n1,NA\n2,\n"), drop); })
                .find("every one of the 2 rows has a missing cell"),
            std::string::npos);
}

// Missing cells do not count against a numeric column: here most cells of
// `age` are missing (the old rule, "most values look numeric", made it
// categorical), and the one that is text is still refused.
TEST_F(ImportersTest, CsvNumericColumnWithMissingCellsIsNumeric) {
  const std::string p = text("age.csv", "age,kind\n30,a\nNA,b\n,a\n?,b\n50,a\n");
  CsvOptions options;
  options.label = "kind";
  options.missing.policy = MissingPolicy::mean;
  const Dataset d = import_csv(p, options).data;
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"age"}));
  EXPECT_EQ(d.features.values, (std::vector<float>{30, 40, 40, 40, 50}));
  const std::string text_too = text("text.csv", "age,kind\n30,a\nNA,b\nold,a\n40,b\n50,a\n");
  EXPECT_NE(data_error_of([&] { import_csv(text_too, options); }).find("line 4, column 'age': 'old' is not a number"),
            std::string::npos);
  // A column with no value at all is refused.
  EXPECT_NE(data_error_of([&] { import_csv(text("empty.csv", "x,y,kind\n1,,a\n2,NA,b\n"), options); })
                .find("column 'y' has no values (every cell is missing); --ignore y leaves it out"),
            std::string::npos);
}

// A categorical feature column with more distinct values than max_levels
// (ids, free text) is refused; max_levels allows it. The label's classes
// are not bounded by it.
TEST_F(ImportersTest, CsvCategoricalColumnWithTooManyLevelsIsRefused) {
  std::string rows = "user,x,kind\n";
  for (int r = 0; r < 30; ++r) rows += "u" + std::to_string(r) + "," + std::to_string(r) + ",k" + std::to_string(r) + "\n";
  const std::string p = text("users.csv", rows);
  CsvOptions options;
  options.label = "kind";
  options.max_levels = 20;
  EXPECT_EQ(data_error_of([&] { import_csv(p, options); }),
            p + ": column 'user' has 30 distinct values, more than --max-levels 20 allows a categorical column (one "
                "feature each): an id or free text? --ignore user leaves it out, --max-levels 30 keeps it");
  options.max_levels = 30;
  const Dataset d = import_csv(p, options).data;
  EXPECT_EQ(d.dimension(), 31u);
  options.max_levels = 20;
  options.ignored = {"user"};
  const Dataset ignored = import_csv(p, options).data;
  EXPECT_EQ(ignored.dimension(), 1u);
  EXPECT_EQ(ignored.class_names.size(), 30u);  // 30 classes, more than max_levels

  // The default bound: 1000 levels pass, 1001 do not.
  std::string many = "tag,x\n";
  for (int r = 0; r <= 1000; ++r) many += "t" + std::to_string(r) + ",1\n";
  EXPECT_NE(data_error_of([&] { import_csv(text("many.csv", many), ""); })
                .find("column 'tag' has 1001 distinct values, more than --max-levels 1000"),
            std::string::npos);
  many.resize(many.rfind("t1000"));
  EXPECT_EQ(import_csv(text("many.csv", many), "").dimension(), 1001u);
}

TEST_F(ImportersTest, CsvOptionValuesParse) {
  EXPECT_EQ(parse_delimiter("auto", "--delimiter"), std::nullopt);
  EXPECT_EQ(parse_delimiter(",", "--delimiter"), ',');
  EXPECT_EQ(parse_delimiter("semicolon", "--delimiter"), ';');
  EXPECT_EQ(parse_delimiter("tab", "--delimiter"), '\t');
  EXPECT_EQ(parse_delimiter("\t", "--delimiter"), '\t');
  EXPECT_EQ(parse_delimiter("|", "--delimiter"), '|');
  EXPECT_THROW(parse_delimiter(":", "--delimiter"), UsageError);
  EXPECT_EQ(parse_missing("drop", "--missing").policy, MissingPolicy::drop);
  const MissingCells value = parse_missing("-2.5", "--missing");
  EXPECT_EQ(value.policy, MissingPolicy::value);
  EXPECT_EQ(value.value, -2.5);
  for (const char* bad : {"nan", "NA", "inf", "1e39", "zero", ""}) EXPECT_THROW(parse_missing(bad, "--missing"), UsageError) << bad;
}

}  // namespace
}  // namespace sinapsis
