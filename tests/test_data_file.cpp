// Data files: any numeric /features type loads as float32, class ids and real
// targets are told apart by /labels' type, and bad files are refused with a
// DataError naming the file, the dataset and (where it applies) the row.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>

#include "io/data_file.hpp"
#include "io/hdf5.hpp"

namespace sinapsis {
namespace {

namespace fs = std::filesystem;

// Writes `values` as a dataset of HDF5 type `file_type`, optionally chunked
// and gzip-compressed (as h5py does with compression="gzip").
template <class T>
void write(hid_t file, const std::string& name, std::vector<hsize_t> dims, const std::vector<T>& values,
           hid_t file_type, hid_t memory_type, bool gzip = false) {
  h5::Handle space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose);
  h5::Handle plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (gzip) {
    std::vector<hsize_t> chunk = dims;
    chunk[0] = std::max<hsize_t>(1, dims[0] / 2);
    H5Pset_chunk(plist.get(), int(chunk.size()), chunk.data());
    H5Pset_shuffle(plist.get());
    H5Pset_deflate(plist.get(), 4);
  }
  h5::Handle set(H5Dcreate2(file, name.c_str(), file_type, space.get(), H5P_DEFAULT, plist.get(), H5P_DEFAULT),
                 H5Dclose);
  ASSERT_TRUE(set.valid());
  ASSERT_GE(H5Dwrite(set.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0);
}

class DataFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sinapsis_data_file_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // A 4x2 float32 feature file with int64 labels, changed by `edit`.
  std::string good_file(const std::string& name, std::vector<float> features = {0, 0, 0, 1, 1, 0, 1, 1},
                        std::vector<std::int64_t> labels = {0, 1, 1, 0}) {
    const std::string p = path(name);
    const h5::Handle f = h5::create_file(p);
    write(f.get(), "features", {features.size() / 2, 2}, features, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT);
    write(f.get(), "labels", {labels.size()}, labels, H5T_STD_I64LE, H5T_NATIVE_INT64);
    return p;
  }
  void expect_refused(const std::string& file, const std::string& fragment) {
    try {
      read_data_file(file);
      ADD_FAILURE() << file << " was accepted";
    } catch (const DataError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(file), std::string::npos) << message;
      EXPECT_NE(message.find(fragment), std::string::npos) << message;
    }
  }
  void expect_refused_with(const std::string& file, const ReadOptions& read, const std::string& fragment) {
    try {
      read_data_file(file, read);
      ADD_FAILURE() << file << " was accepted";
    } catch (const DataError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(file), std::string::npos) << message;
      EXPECT_NE(message.find(fragment), std::string::npos) << message;
    }
  }
  fs::path dir_;
};

TEST_F(DataFileTest, ReadsFloatFeaturesAndIntegerClassIds) {
  const Dataset d = read_data_file(good_file("ok.h5"));
  EXPECT_EQ(d.task, Task::classification);
  EXPECT_EQ(d.size(), 4u);
  EXPECT_EQ(d.dimension(), 2u);
  EXPECT_EQ(d.classes, 2u);
  EXPECT_EQ(d.features(3, 1), 1.0f);
  EXPECT_EQ(d.labels, (std::vector<std::int64_t>{0, 1, 1, 0}));
}

TEST_F(DataFileTest, ReadsUint8ImagesInGzipChunksAndInt32Labels) {
  const std::string p = path("images.h5");
  {
    const h5::Handle f = h5::create_file(p);
    std::vector<std::uint8_t> pixels(6 * 784);
    for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = std::uint8_t(i % 256);
    write(f.get(), "features", {6, 784}, pixels, H5T_STD_U8LE, H5T_NATIVE_UINT8, true);
    write(f.get(), "labels", {6}, std::vector<std::int32_t>{0, 9, 3, 3, 1, 0}, H5T_STD_I32LE, H5T_NATIVE_INT32, true);
    // Six rows of ten classes: an excerpt, which says so (see the stray-label test).
    h5::write_int_attribute(f.get(), "classes", 10);
  }
  const Dataset d = read_data_file(p);
  EXPECT_EQ(d.dimension(), 784u);
  EXPECT_EQ(d.classes, 10u);
  EXPECT_EQ(d.features(1, 0), float(784 % 256));
  EXPECT_EQ(d.features(5, 783), float((5 * 784 + 783) % 256));
}

TEST_F(DataFileTest, FloatLabelsAreRegressionTargets) {
  const std::string p = path("reg.h5");
  {
    const h5::Handle f = h5::create_file(p);
    write(f.get(), "features", {3, 1}, std::vector<double>{1, 2, 3}, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
    write(f.get(), "labels", {3, 2}, std::vector<double>{0.5, -1, 2, 3, 4, 5}, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
  }
  const Dataset d = read_data_file(p);
  EXPECT_EQ(d.task, Task::regression);
  EXPECT_EQ(d.targets.cols, 2u);
  EXPECT_EQ(d.targets(0, 1), -1.0f);
}

// Files written by h5py (tests/data/make_h5py_fixtures.py): uint8 images in
// gzip+shuffle chunks, uint8 labels, str-list and fixed-length bytes attributes.
TEST_F(DataFileTest, ReadsFilesWrittenByH5py) {
  const std::string dir = std::string(SINAPSIS_SOURCE_DIR) + "/tests/data/";
  const Dataset images = read_data_file(dir + "h5py_uint8_gzip.h5");
  EXPECT_EQ(images.size(), 12u);
  EXPECT_EQ(images.dimension(), 784u);
  EXPECT_EQ(images.features(11, 783), float((11 * 784 + 783) % 256));
  EXPECT_EQ(images.classes, 10u);
  ASSERT_EQ(images.class_names.size(), 10u);
  EXPECT_EQ(images.class_names[9], "Ankle boot");
  EXPECT_EQ(images.labels[9], 9);
  const Dataset small = read_data_file(dir + "h5py_float64_int32.h5");
  EXPECT_EQ(small.features(1, 1), 3.25f);
  EXPECT_EQ(small.labels, (std::vector<std::int64_t>{1, 0, 1}));
  EXPECT_EQ(small.feature_names, (std::vector<std::string>{"width", "height"}));
}

TEST_F(DataFileTest, RefusesMissingFile) { expect_refused(path("nope.h5"), "no such file"); }

TEST_F(DataFileTest, RefusesNonHdf5File) {
  std::ofstream(path("text.h5")) << "epoch,loss\n1,0.5\n";
  expect_refused(path("text.h5"), "not an HDF5 file");
}

TEST_F(DataFileTest, RefusesTruncatedFile) {
  const std::string p = good_file("whole.h5", std::vector<float>(2000, 1.0f), std::vector<std::int64_t>(1000, 1));
  const auto size = fs::file_size(p);
  fs::resize_file(p, size / 2);
  try {
    read_data_file(p);
    ADD_FAILURE() << "truncated file accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

TEST_F(DataFileTest, RefusesMissingFeaturesOrLabels) {
  const std::string p = path("nolabels.h5");
  {
    const h5::Handle f = h5::create_file(p);
    write(f.get(), "features", {2, 2}, std::vector<float>{1, 2, 3, 4}, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT);
  }
  expect_refused(p, "no dataset labels");
  EXPECT_NO_THROW(read_data_file(p, LabelsRequired::no));
  const std::string q = path("nofeatures.h5");
  { const h5::Handle f = h5::create_file(q); }
  expect_refused(q, "no dataset features");
}

TEST_F(DataFileTest, RefusesFeaturesThatAreNot2D) {
  const std::string p = path("1d.h5");
  {
    const h5::Handle f = h5::create_file(p);
    write(f.get(), "features", {4}, std::vector<float>{1, 2, 3, 4}, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT);
    write(f.get(), "labels", {4}, std::vector<std::int64_t>{0, 1, 0, 1}, H5T_STD_I64LE, H5T_NATIVE_INT64);
  }
  expect_refused(p, "/features must be 2-D");
}

TEST_F(DataFileTest, RefusesRowCountMismatch) {
  expect_refused(good_file("n.h5", {0, 0, 0, 1, 1, 0, 1, 1}, {0, 1, 1}), "4 rows but /labels has 3");
}

TEST_F(DataFileTest, RefusesNegativeLabelNamingTheRow) {
  expect_refused(good_file("neg.h5", {0, 0, 0, 1, 1, 0, 1, 1}, {0, 1, -1, 0}), "row 2");
}

TEST_F(DataFileTest, RefusesNaNAndInfNamingTheRow) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  expect_refused(good_file("nan.h5", {0, 0, 0, 1, nan, 0, 1, 1}), "NaN at row 2, column 0");
  expect_refused(good_file("inf.h5", {0, 0, 0, 1, 1, 0, 1, inf}), "Inf at row 3, column 1");
}

TEST_F(DataFileTest, RefusesEmptyDataSet) { expect_refused(good_file("empty.h5", {}, {}), "empty"); }

// 40 rows of two classes: the class ids a stray label is hidden among.
std::vector<std::int64_t> forty_labels() {
  std::vector<std::int64_t> labels(40);
  for (std::size_t r = 0; r < labels.size(); ++r) labels[r] = std::int64_t(r % 2);
  return labels;
}

TEST_F(DataFileTest, RefusesAStrayLabelBeyondTheRowCountNamingRowAndValue) {
  auto labels = forty_labels();
  labels[17] = 1000000;  // would size a million-way softmax
  expect_refused(good_file("stray.h5", std::vector<float>(80, 0.5f), labels),
                 "/labels row 17 is class 1000000: more classes than the data set's 40 rows");
  labels[17] = std::int64_t(1) << 62;
  expect_refused(good_file("huge.h5", std::vector<float>(80, 0.5f), labels), "row 17 is class 4611686018427387904");
  labels[17] = -3;
  expect_refused(good_file("negative.h5", std::vector<float>(80, 0.5f), labels), "row 17 is class -3: class ids must be >= 0");
  // Up to one class per row is a class count, not a stray label.
  labels[17] = 39;
  EXPECT_EQ(read_data_file(good_file("forty.h5", std::vector<float>(80, 0.5f), labels)).classes, 40u);
}

TEST_F(DataFileTest, ADeclaredClassCountBoundsTheLabels) {
  // Four rows may hold class 9 of ten when the file says there are ten.
  const std::string ten = good_file("ten.h5", {0, 0, 0, 1, 1, 0, 1, 1}, {0, 9, 3, 1});
  {
    const h5::Handle f(H5Fopen(ten.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    h5::write_int_attribute(f.get(), "classes", 10);
  }
  const Dataset d = read_data_file(ten);
  EXPECT_EQ(d.classes, 10u);
  EXPECT_EQ(d.labels, (std::vector<std::int64_t>{0, 9, 3, 1}));
  // ... but not class 3 when it says there are three.
  const std::string three = good_file("three.h5", {0, 0, 0, 1, 1, 0, 1, 1}, {0, 1, 3, 2});
  {
    const h5::Handle f(H5Fopen(three.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    h5::write_string_list_attribute(f.get(), "class_names", {"a", "b", "c"});
  }
  expect_refused(three, "/labels row 2 is class 3 but the data set declares 3 classes (0..2)");
}

TEST_F(DataFileTest, RefusesAClassesAttributeThatIsNoClassCount) {
  for (const double classes : {1099511627776.0, 0.0, 2.5, -4.0}) {
    const std::string p = good_file("classes.h5");
    {
      const h5::Handle f(H5Fopen(p.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
      h5::write_double_attribute(f.get(), "classes", classes);
    }
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", classes);
    expect_refused(p, std::string("attribute classes is ") + text + ", not a class count");
    fs::remove(p);
  }
  const std::string p = good_file("disagree.h5");
  {
    const h5::Handle f(H5Fopen(p.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    h5::write_int_attribute(f.get(), "classes", 2);
    h5::write_string_list_attribute(f.get(), "class_names", {"a", "b", "c"});
  }
  expect_refused(p, "attribute classes is 2 but class_names has 3 names");
}

TEST_F(DataFileTest, AClassCountFixedElsewhereBoundsTheLabels) {
  const std::string p = good_file("model.h5", {0, 0, 0, 1, 1, 0, 1, 1}, {0, 1, 2, 1});
  ReadOptions read;
  read.classes = 2;
  read.classes_from = "the model m.h5";
  expect_refused_with(p, read, "/labels row 2 is class 2 but the model m.h5 has 2 classes (0..1)");
  read.classes = 5;
  EXPECT_EQ(read_data_file(p, read).classes, 5u);  // the data takes the model's count
  // A file may not declare more classes than the model has.
  {
    const h5::Handle f(H5Fopen(p.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    h5::write_int_attribute(f.get(), "classes", 7);
  }
  expect_refused_with(p, read, "declares 7 classes but the model m.h5 has 5");
}

TEST_F(DataFileTest, FloatLabelsReadAsClassIdsMustBeWholeNumbersInRange) {
  const std::string p = path("float_ids.h5");
  {
    const h5::Handle f = h5::create_file(p);
    write(f.get(), "features", {3, 1}, std::vector<float>{1, 2, 3}, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT);
    write(f.get(), "labels", {3}, std::vector<float>{0, 1, 1e30f}, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT);
  }
  EXPECT_EQ(read_data_file(p).task, Task::regression);  // as they are: targets
  ReadOptions read;
  read.class_ids = true;  // as a classification loss needs them
  expect_refused_with(p, read, "/labels row 2 is 1.00000002e+30: more than the 1048576 classes sinapsis takes");
}

// A hand-made header may claim any shape: the file must hold it.
TEST_F(DataFileTest, RefusesShapesTheFileDoesNotHold) {
  const hsize_t claimed[2] = {1000000000000ull, 2};
  const std::string contiguous = path("contiguous.h5");
  {
    const h5::Handle f = h5::create_file(contiguous);
    h5::Handle space(H5Screate_simple(2, claimed, nullptr), H5Sclose);
    h5::Handle set(H5Dcreate2(f.get(), "features", H5T_IEEE_F32LE, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                   H5Dclose);
    ASSERT_TRUE(set.valid());  // never written: no storage
  }
  expect_refused(contiguous, "/features: claims shape [1000000000000, 2] (7.3 TB) but the file stores 0 bytes");
  const std::string chunked = path("chunked.h5");
  {
    const h5::Handle f = h5::create_file(chunked);
    h5::Handle space(H5Screate_simple(2, claimed, nullptr), H5Sclose);
    h5::Handle plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    const hsize_t chunk[2] = {1000, 2};
    H5Pset_chunk(plist.get(), 2, chunk);
    H5Pset_deflate(plist.get(), 9);
    h5::Handle set(H5Dcreate2(f.get(), "features", H5T_IEEE_F32LE, space.get(), H5P_DEFAULT, plist.get(), H5P_DEFAULT),
                   H5Dclose);
    ASSERT_TRUE(set.valid());
    // One chunk of zeros written, as a compressor would store it: tiny.
    const std::vector<float> zeros(2000, 0.0f);
    const hsize_t start[2] = {0, 0};
    h5::Handle memory(H5Screate_simple(2, chunk, nullptr), H5Sclose);
    h5::Handle file_space(H5Dget_space(set.get()), H5Sclose);
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, chunk, nullptr);
    ASSERT_GE(H5Dwrite(set.get(), H5T_NATIVE_FLOAT, memory.get(), file_space.get(), H5P_DEFAULT, zeros.data()), 0);
  }
  expect_refused(chunked, "/features: claims shape [1000000000000, 2] in 1000000000 chunks but the file stores 1");
}

// Slices come back in the order given, across files; with OpenFiles the
// files stay open between reads, yet a file replaced, cut or removed under
// its path is read (or refused) as it is now, as without.
TEST_F(DataFileTest, ReadSlicesKeepsTheOrderGivenAndOpenFilesSeeAFileChangeUnderThem) {
  fs::create_directories(path("set"));
  const auto shard = [&](std::size_t index, float base, std::size_t rows) {
    Dataset d;
    d.features = Matrix<float>(rows, 2);
    for (std::size_t r = 0; r < rows; ++r) {
      d.features(r, 0) = base + float(r);
      d.labels.push_back(std::int64_t(r % 2));
    }
    d.classes = 2;
    write_data_file(path("set/s-0000" + std::to_string(index) + "-of-00002.h5"), d);
  };
  shard(0, 0, 6);
  shard(1, 100, 6);
  const DataSource source = open_data_source(path("set"));
  const std::vector<RowSlice> slices{{1, 4, 6}, {0, 0, 2}, {1, 0, 1}};
  OpenFiles files;
  ReadOptions options;
  options.open_files = &files;
  const auto first_column = [](const Dataset& d) {
    std::vector<float> v;
    for (std::size_t r = 0; r < d.size(); ++r) v.push_back(d.features(r, 0));
    return v;
  };
  for (const ReadOptions& o : {ReadOptions{}, options})
    EXPECT_EQ(first_column(read_slices(source, slices, o)), (std::vector<float>{104, 105, 0, 1, 100}));
  shard(1, 200, 6);  // replaced under the same name
  EXPECT_EQ(first_column(read_slices(source, slices, options)), (std::vector<float>{204, 205, 0, 1, 200}));
  shard(1, 300, 3);  // cut: rows 4 and 5 are gone
  try {
    read_slices(source, slices, options);
    ADD_FAILURE() << "a cut shard was read";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("s-00001-of-00002.h5"), std::string::npos) << e.what();
  }
  fs::remove(path("set/s-00001-of-00002.h5"));
  try {
    read_slices(source, slices, options);
    ADD_FAILURE() << "a removed shard was read";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("s-00001-of-00002.h5"), std::string::npos) << e.what();
  }
  EXPECT_EQ(first_column(read_slices(source, {{0, 3, 5}}, options)), (std::vector<float>{3, 4}));
}

}  // namespace
}  // namespace sinapsis
