// Shard sets and rank-local reading: plan_part's decision (pure), read_part
// fetching exactly a rank's planned rows and nothing else, write_shards'
// files and index, and the refusals of broken shard sets.
#include <gtest/gtest.h>

#include <unistd.h>  // getpid

#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <tuple>

#include "core/error.hpp"
#include "io/data_file.hpp"
#include "io/hdf5.hpp"
#include "io/shards.hpp"

namespace sinapsis {
namespace {

namespace fs = std::filesystem;

// How often each global row is covered by the union of all ranks' slices.
std::vector<std::size_t> coverage(const std::vector<std::size_t>& rows, std::size_t ranks) {
  std::vector<std::size_t> offset(rows.size() + 1, 0);
  std::partial_sum(rows.begin(), rows.end(), offset.begin() + 1);
  std::vector<std::size_t> covered(offset.back(), 0);
  for (std::size_t r = 0; r < ranks; ++r)
    for (const RowSlice& s : plan_part(rows, r, ranks)) {
      EXPECT_LT(s.file, rows.size());
      EXPECT_LT(s.begin, s.end) << "empty slice for rank " << r;
      EXPECT_LE(s.end, rows.at(s.file));
      for (std::size_t i = s.begin; i < s.end; ++i) ++covered[offset[s.file] + i];
    }
  return covered;
}

TEST(PlanPartTest, WholeShardsRoundRobinWhenThereAreEnough) {
  const std::vector<std::size_t> rows{100, 100, 100, 100};
  EXPECT_EQ(plan_part(rows, 0, 2), (std::vector<RowSlice>{{0, 0, 100}, {2, 0, 100}}));
  EXPECT_EQ(plan_part(rows, 1, 2), (std::vector<RowSlice>{{1, 0, 100}, {3, 0, 100}}));
  EXPECT_EQ(plan_part(rows, 2, 4), (std::vector<RowSlice>{{2, 0, 100}}));
  EXPECT_EQ(plan_part(rows, 0, 1).size(), 4u);
  // Uneven shards: still whole files, round-robin.
  EXPECT_EQ(plan_part({5, 7, 9}, 1, 2), (std::vector<RowSlice>{{1, 0, 7}}));
  EXPECT_EQ(plan_part({5, 7, 9}, 0, 2), (std::vector<RowSlice>{{0, 0, 5}, {2, 0, 9}}));
}

TEST(PlanPartTest, OneFileIsSplitIntoContiguousRanges) {
  const std::vector<std::size_t> rows{10};
  EXPECT_EQ(plan_part(rows, 0, 3), (std::vector<RowSlice>{{0, 0, 3}}));
  EXPECT_EQ(plan_part(rows, 1, 3), (std::vector<RowSlice>{{0, 3, 6}}));
  EXPECT_EQ(plan_part(rows, 2, 3), (std::vector<RowSlice>{{0, 6, 10}}));
  EXPECT_EQ(plan_part(rows, 0, 1), (std::vector<RowSlice>{{0, 0, 10}}));
  EXPECT_EQ(coverage(rows, 3), std::vector<std::size_t>(10, 1));
}

TEST(PlanPartTest, FewerShardsThanRanksCrossShardBoundaries) {
  // 12 rows in 3 shards of 4 for 5 ranks: global cuts at 0, 2, 4, 7, 9, 12.
  const std::vector<std::size_t> rows{4, 4, 4};
  EXPECT_EQ(plan_part(rows, 0, 5), (std::vector<RowSlice>{{0, 0, 2}}));
  EXPECT_EQ(plan_part(rows, 1, 5), (std::vector<RowSlice>{{0, 2, 4}}));
  EXPECT_EQ(plan_part(rows, 2, 5), (std::vector<RowSlice>{{1, 0, 3}}));
  EXPECT_EQ(plan_part(rows, 3, 5), (std::vector<RowSlice>{{1, 3, 4}, {2, 0, 1}}));
  EXPECT_EQ(plan_part(rows, 4, 5), (std::vector<RowSlice>{{2, 1, 4}}));
}

TEST(PlanPartTest, EveryRowIsCoveredExactlyOnce) {
  const std::vector<std::vector<std::size_t>> row_sets{
      {1}, {10}, {100, 100, 100, 100}, {4, 4, 4}, {3, 1, 7, 2, 5}, {1000, 1}, {0, 5, 0, 6}, {17, 18, 19}};
  for (const auto& rows : row_sets)
    for (std::size_t ranks = 1; ranks <= 9; ++ranks) {
      const std::size_t total = std::accumulate(rows.begin(), rows.end(), std::size_t{0});
      if (ranks > total) continue;
      const auto covered = coverage(rows, ranks);
      for (std::size_t g = 0; g < covered.size(); ++g)
        EXPECT_EQ(covered[g], 1u) << "row " << g << " of " << ::testing::PrintToString(rows) << " with "
                                  << ranks << " ranks";
    }
}

constexpr std::size_t kRows = 53;  // rows of the test data set

class ShardsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sinapsis_shards_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Feature 0 holds the global row id, feature 1 its negative; the label is id % 3.
  static Dataset ids(std::size_t n = kRows, std::size_t columns = 2) {
    Dataset d;
    d.task = Task::classification;
    d.classes = 3;
    d.features = Matrix<float>(n, columns);
    for (std::size_t r = 0; r < n; ++r) {
      for (std::size_t c = 0; c < columns; ++c) d.features(r, c) = c == 0 ? float(r) : -float(r);
      d.labels.push_back(std::int64_t(r % 3));
    }
    return d;
  }

  // write_shards into DIR/name, returns the directory.
  std::string shard_set(const std::string& name, std::size_t shards, std::size_t n = kRows) {
    const std::string out = path(name);
    write_shards(ids(n), "ids", shards, out);
    return out;
  }

  void expect_refused(const std::string& spec, const std::vector<std::string>& fragments) {
    try {
      open_data_source(spec);
      ADD_FAILURE() << spec << " was accepted";
    } catch (const DataError& e) {
      const std::string message = e.what();
      for (const auto& f : fragments) EXPECT_NE(message.find(f), std::string::npos) << "'" << f << "' not in: " << message;
    }
  }

  fs::path dir_;
};

// The global ids rank `rank` of `ranks` must get, derived from the rules
// (whole shards round-robin when S >= p and S > 1, else a contiguous 1/p).
std::vector<float> expected_ids(const std::vector<std::size_t>& rows, std::size_t rank, std::size_t ranks) {
  std::vector<float> out;
  const std::size_t total = std::accumulate(rows.begin(), rows.end(), std::size_t{0});
  if (rows.size() > 1 && rows.size() >= ranks) {
    std::size_t offset = 0;
    for (std::size_t f = 0; f < rows.size(); offset += rows[f], ++f)
      if (f % ranks == rank)
        for (std::size_t i = 0; i < rows[f]; ++i) out.push_back(float(offset + i));
  } else {
    for (std::size_t g = total * rank / ranks; g < total * (rank + 1) / ranks; ++g) out.push_back(float(g));
  }
  return out;
}

void expect_rank_local_reads(const std::string& spec, std::size_t expected_files) {
  const DataSource source = open_data_source(spec);
  ASSERT_EQ(source.files.size(), expected_files) << spec;
  ASSERT_EQ(source.total_rows(), kRows) << spec;
  for (std::size_t ranks = 1; ranks <= 4; ++ranks) {
    std::vector<std::size_t> seen(kRows, 0);
    for (std::size_t rank = 0; rank < ranks; ++rank) {
      ReadStats stats;
      const Dataset part = read_part(source, rank, ranks, LabelsRequired::yes, &stats);
      std::vector<float> got;
      for (std::size_t r = 0; r < part.size(); ++r) {
        got.push_back(part.features(r, 0));
        EXPECT_EQ(part.features(r, 1), -part.features(r, 0));
        EXPECT_EQ(part.labels.at(r), std::int64_t(part.features(r, 0)) % 3);
        ++seen.at(std::size_t(part.features(r, 0)));
      }
      const auto want = expected_ids(source.rows, rank, ranks);
      EXPECT_EQ(got, want) << spec << " rank " << rank << " of " << ranks;
      EXPECT_EQ(stats.rows_read, want.size()) << spec << " rank " << rank << " of " << ranks;
      EXPECT_EQ(stats.slices, plan_part(source.rows, rank, ranks));
      EXPECT_EQ(part.task, Task::classification);
      EXPECT_EQ(part.classes, 3u);
    }
    for (std::size_t g = 0; g < seen.size(); ++g) EXPECT_EQ(seen[g], 1u) << spec << " row " << g << ", " << ranks << " ranks";
  }
}

TEST_F(ShardsTest, RankReadsExactlyItsPlannedRowsFromAShardSet) {
  expect_rank_local_reads(shard_set("four", 4), 4);
}

TEST_F(ShardsTest, RankReadsExactlyItsPlannedRowsWhenShardsAreFewerThanRanks) {
  expect_rank_local_reads(shard_set("three", 3), 3);  // p = 4 crosses shard boundaries
}

TEST_F(ShardsTest, RankReadsExactlyItsPlannedRowsFromOneFile) {
  write_data_file(path("one.h5"), ids());
  expect_rank_local_reads(path("one.h5"), 1);
}

TEST_F(ShardsTest, WriteShardsSplitsContiguouslyAndWritesTheIndex) {
  const std::string dir = shard_set("set", 4);
  const DataSource source = open_data_source(dir);
  ASSERT_EQ(source.files.size(), 4u);
  const std::vector<std::size_t> cuts{0, 13, 26, 39, 53};  // 53 * s / 4
  for (std::size_t s = 0; s < 4; ++s) {
    EXPECT_EQ(fs::path(source.files[s]).filename().string(), "ids-0000" + std::to_string(s) + "-of-00004.h5");
    EXPECT_EQ(source.rows[s], cuts[s + 1] - cuts[s]);
    // A lone shard path is opened as (and checked for being) a whole set, so
    // look inside with HDF5 directly.
    const h5::Handle file = h5::open_file(source.files[s]);
    const h5::Handle features = h5::open_dataset(file.get(), "features", source.files[s]);
    EXPECT_EQ(h5::read_float_rows(features.get(), 0, 1, "first row"), (std::vector<float>{float(cuts[s]), -float(cuts[s])}))
        << "shard " << s;
    EXPECT_EQ(h5::read_number_attribute(file.get(), "shard_index", source.files[s]), double(s));
    EXPECT_EQ(h5::read_number_attribute(file.get(), "shard_count", source.files[s]), 4.0);
  }
  std::ifstream index(dir + "/ids-index.csv");
  ASSERT_TRUE(index) << "no index";
  std::string line;
  std::getline(index, line);
  EXPECT_EQ(line, "shard,file,rows");
  std::size_t total = 0, shards = 0;
  while (std::getline(index, line)) {
    std::stringstream fields(line);
    std::string shard, file, rows;
    std::getline(fields, shard, ',');
    std::getline(fields, file, ',');
    std::getline(fields, rows, ',');
    ASSERT_LT(shards, 4u) << line;
    EXPECT_EQ(std::stoul(shard), shards);
    EXPECT_EQ(file, fs::path(source.files[shards]).filename().string());
    EXPECT_EQ(std::stoul(rows), source.rows[shards]);
    total += std::stoul(rows);
    ++shards;
  }
  EXPECT_EQ(shards, 4u);
  EXPECT_EQ(total, kRows);
}

// uint8 images read from uint8 stay one byte a pixel in every shard, in
// chunks of --chunk-rows rows; data whose values a small type cannot hold
// exactly is written as float32, so nothing written ever reads back changed.
TEST_F(ShardsTest, ShardsKeepASmallIntegerFeatureTypeInChunksOfTheRowsAsked) {
  const auto layout_of = [](const std::string& file) {
    const h5::Handle f = h5::open_file(file);
    const h5::Handle features = h5::open_dataset(f.get(), "features", file);
    const h5::Handle type(H5Dget_type(features.get()), H5Tclose);
    const h5::Handle plist(H5Dget_create_plist(features.get()), H5Pclose);
    hsize_t chunk[2] = {};
    EXPECT_EQ(H5Pget_chunk(plist.get(), 2, chunk), 2) << file;
    return std::tuple{H5Tget_class(type.get()), H5Tget_size(type.get()), chunk[0]};
  };
  Dataset pixels = ids(300, 3);
  for (std::size_t r = 0; r < pixels.size(); ++r)
    for (std::size_t c = 0; c < 3; ++c) pixels.features(r, c) = float((r * 7 + c) % 256);
  pixels.feature_storage = FeatureStorage::uint8;
  write_data_file(path("pixels.h5"), pixels);
  const Dataset read = read_data_file(path("pixels.h5"));
  EXPECT_EQ(read.feature_storage, FeatureStorage::uint8);
  const auto paths = write_shards(read, "px", 2, path("px"), false, 64);
  for (const auto& file : paths) EXPECT_EQ(layout_of(file), std::tuple(H5T_INTEGER, std::size_t{1}, hsize_t{64}));
  const Dataset back = read_data_file(path("px"));
  EXPECT_EQ(back.features.values, pixels.features.values);
  EXPECT_EQ(back.feature_storage, FeatureStorage::uint8);

  // 256, -1 and 0.5 are no uint8: float32, exact.
  for (const float bad : {256.0f, -1.0f, 0.5f}) {
    Dataset wide = pixels;
    wide.features(299, 2) = bad;
    const auto wide_paths = write_shards(wide, "wide", 2, path("wide"), true, 64);
    EXPECT_EQ(layout_of(wide_paths[1]), std::tuple(H5T_FLOAT, std::size_t{4}, hsize_t{64})) << bad;
    EXPECT_EQ(layout_of(wide_paths[0]), std::tuple(H5T_INTEGER, std::size_t{1}, hsize_t{64})) << bad;
    EXPECT_EQ(read_data_file(path("wide")).features.values, wide.features.values) << bad;
  }
}

TEST_F(ShardsTest, DirectoryAndGlobLoadTheSameSet) {
  const std::string dir = shard_set("set", 3);
  const DataSource by_dir = open_data_source(dir);
  const DataSource by_glob = open_data_source(dir + "/*.h5");
  EXPECT_EQ(by_dir.files, by_glob.files);
  EXPECT_EQ(by_dir.rows, by_glob.rows);
  EXPECT_EQ(by_dir.dimension, 2u);
  const Dataset a = read_data_file(dir), b = read_data_file(dir + "/ids-*-of-00003.h5");
  EXPECT_EQ(a.features.values, b.features.values);
  EXPECT_EQ(a.labels, b.labels);
  ASSERT_EQ(a.size(), kRows);
  for (std::size_t r = 0; r < kRows; ++r) EXPECT_EQ(a.features(r, 0), float(r));
}

TEST_F(ShardsTest, OneShardNamedByItsPathLoadsAlone) {
  const std::string dir = shard_set("set", 4);
  fs::remove(dir + "/ids-00002-of-00004.h5");  // the set is incomplete; this shard is fine
  const Dataset one = read_data_file(dir + "/ids-00001-of-00004.h5");
  const DataSource whole_set_rows = open_data_source(dir + "/ids-00001-of-00004.h5");
  EXPECT_EQ(whole_set_rows.files.size(), 1u);
  EXPECT_EQ(one.size(), whole_set_rows.rows[0]);
  EXPECT_GT(one.size(), 0u);
}

TEST_F(ShardsTest, RefusesAMissingShardNamingIt) {
  const std::string dir = shard_set("set", 4);
  fs::remove(dir + "/ids-00002-of-00004.h5");
  expect_refused(dir, {dir, "shard 2 of 4 is missing", "ids-00002-of-00004.h5"});
  expect_refused(dir + "/*.h5", {"shard 2 of 4 is missing", "ids-00002-of-00004.h5"});
}

TEST_F(ShardsTest, RefusesACopiedShardUnderAnotherIndex) {
  const std::string dir = shard_set("set", 4);
  fs::remove(dir + "/ids-00003-of-00004.h5");
  fs::copy_file(dir + "/ids-00000-of-00004.h5", dir + "/ids-00003-of-00004.h5");
  expect_refused(dir, {"ids-00003-of-00004.h5", "holds shard 0 but is named as shard 3"});
}

TEST_F(ShardsTest, RefusesTheSameIndexTwiceAcrossDirectories) {
  shard_set("a", 2);
  fs::create_directories(path("b"));
  fs::copy_file(path("a") + "/ids-00000-of-00002.h5", path("b") + "/ids-00000-of-00002.h5");
  expect_refused(dir_.string() + "/*/*.h5", {"shard 0 appears twice", path("a") + "/ids-00000-of-00002.h5",
                                             path("b") + "/ids-00000-of-00002.h5"});
}

TEST_F(ShardsTest, RefusesShardsThatDisagreeOnD) {
  const std::string dir = shard_set("set", 3, 30);
  Dataset wide = ids(10, 3);
  write_data_file(dir + "/ids-00001-of-00003.h5", wide, {false, {{"shard_index", 1}, {"shard_count", 3}}, {}});
  expect_refused(dir, {"disagree on D", "ids-00000-of-00003.h5", "2 features", "ids-00001-of-00003.h5", "has 3"});
}

TEST_F(ShardsTest, RefusesShardsOfDifferentSets) {
  const std::string dir = shard_set("set", 2);
  write_shards(ids(), "other", 2, path("other"));
  fs::copy_file(path("other") + "/other-00001-of-00002.h5", dir + "/other-00001-of-00002.h5");
  expect_refused(dir, {"shards of different sets"});
}

TEST_F(ShardsTest, RefusesADirectoryWithoutH5Files) {
  fs::create_directories(path("empty"));
  std::ofstream(path("empty") + "/notes.txt") << "no data here\n";
  expect_refused(path("empty"), {path("empty"), "no .h5 files"});
}

TEST_F(ShardsTest, RefusesAGlobThatMatchesNothing) {
  const std::string spec = path("nothing-*.h5");
  expect_refused(spec, {spec, "no file matches"});
}

TEST_F(ShardsTest, RefusesBadShardCounts) {
  EXPECT_THROW(write_shards(ids(5), "ids", 0, path("zero")), UsageError);
  EXPECT_THROW(write_shards(ids(5), "ids", 6, path("six")), UsageError);
  EXPECT_NO_THROW(write_shards(ids(5), "ids", 5, path("five")));
}

TEST(ShardFileNameTest, PadsToFiveDigits) {
  EXPECT_EQ(shard_file_name("mnist", 3, 8), "mnist-00003-of-00008.h5");
  EXPECT_EQ(shard_file_name("x", 12345, 99999), "x-12345-of-99999.h5");
}

}  // namespace
}  // namespace sinapsis
