// Where the sinapsis executable writes, as a user meets it:
//   - a full disk (a small tmpfs, filled) makes every writer (data make,
//     import, shard, predict, train) fail with ONE line naming the file and
//     exit 1 — never a signal —, leaving the old output as it was, no
//     temporary, and never part of a shard set;
//   - an output that is one of the command's inputs, however spelled, is
//     refused even with --overwrite, naming both, the input untouched;
//   - an existing output is replaced only with --overwrite.
#include <gtest/gtest.h>

#include <unistd.h>  // getpid

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "core/random.hpp"
#include "io/data_file.hpp"
#include "tests/run_command.hpp"
#include "tests/small_disk.hpp"

namespace sinapsis {
namespace {

namespace fs = std::filesystem;

using Result = test::CommandResult;

Result run(const std::string& arguments) { return test::run_sinapsis(arguments); }

std::size_t lines(const std::string& text) { return std::size_t(std::count(text.begin(), text.end(), '\n')); }
bool contains(const std::string& text, const std::string& fragment) { return text.find(fragment) != std::string::npos; }

std::string bytes_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Everything under `dir` (names relative to it) but the disk's filler.
std::vector<std::string> tree(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename() != "FILLER") names.push_back(fs::relative(e.path(), dir).string());
  std::sort(names.begin(), names.end());
  return names;
}

// Random features (they do not compress): `rows` x 8, two classes.
Dataset noise(std::size_t rows) {
  Dataset d;
  d.features = Matrix<float>(rows, 8);
  Rng rng(7);
  for (auto& v : d.features.values) v = float(rng.below(1000000)) / 1000.0f;
  for (std::size_t r = 0; r < rows; ++r) d.labels.push_back(std::int64_t(r % 2));
  d.classes = 2;
  return d;
}

class OutputsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sinapsis_outputs_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    disk_.reset();  // unmount before removing the mount point
    fs::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // A tmpfs at dir_/disk; `prepare` puts files on it before it is filled
  // to `leave` free bytes. Empty when mounting is not permitted.
  fs::path small_disk(const std::function<void(const fs::path&)>& prepare = {}, std::size_t leave = 0) {
    disk_ = std::make_unique<test::SmallDisk>(dir_ / "disk", 2 << 20);
    if (!disk_->mounted()) return {};
    if (prepare) prepare(disk_->dir());
    disk_->fill(leave);
    return disk_->dir();
  }
  // Runs `arguments`: exit 1, no signal, one line naming `target` and the reason.
  void expect_write_failure(const std::string& arguments, const std::string& target) {
    const Result r = run(arguments);
    EXPECT_EQ(r.status, 1) << arguments << "\n" << r.output;
    EXPECT_EQ(lines(r.output), 1u) << arguments << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, target + ": cannot be written: No space left on device")) << r.output;
  }
  // Runs `arguments`: exit 2, one line holding every fragment.
  void expect_usage_error(const std::string& arguments, const std::vector<std::string>& fragments) {
    const Result r = run(arguments);
    EXPECT_EQ(r.status, 2) << arguments << "\n" << r.output;
    EXPECT_EQ(lines(r.output), 1u) << arguments << "\n" << r.output;
    for (const auto& f : fragments) EXPECT_TRUE(contains(r.output, f)) << "missing '" << f << "' in: " << r.output;
  }
  // A small data set and a model trained on it, on the ordinary disk.
  void make_data_and_model() {
    ASSERT_EQ(run("data make --dataset circle --samples 100 --out " + path("circle.h5")).status, 0);
    const Result r = run("train --data " + path("circle.h5") + " --out " + path("run") + " --epochs 1 --hidden 3 --quiet");
    ASSERT_EQ(r.status, 0) << r.output;
  }

  fs::path dir_;
  std::unique_ptr<test::SmallDisk> disk_;
};

TEST_F(OutputsCliTest, FullDiskDataMakeAndImportFailKeepingTheOldFile) {
  const fs::path disk = small_disk([](const fs::path& d) {
    ASSERT_EQ(run("data make --dataset xor --samples 50 --out " + (d / "old.h5").string()).status, 0);
  });
  if (disk.empty()) GTEST_SKIP() << disk_->why_not();
  const std::string old = (disk / "old.h5").string(), before = bytes_of(old);
  expect_write_failure("data make --dataset spiral --samples 50000 --overwrite --out " + old, old);
  expect_write_failure("data make --dataset spiral --samples 50000 --out " + (disk / "new.h5").string(),
                       (disk / "new.h5").string());
  std::ofstream csv(path("big.csv"));
  csv << "a,b,y\n";
  for (int r = 0; r < 50000; ++r) csv << r << ',' << r * 7 % 13 << ',' << r % 2 << '\n';
  csv.close();
  expect_write_failure("data import --format csv --input " + path("big.csv") + " --label y --overwrite --out " + old,
                       old);
  EXPECT_EQ(bytes_of(old), before);
  EXPECT_EQ(tree(disk), std::vector<std::string>{"old.h5"});
}

TEST_F(OutputsCliTest, FullDiskShardNeverLeavesPartOfASet) {
  write_data_file(path("noise.h5"), noise(6000));  // three shards of ~70 KB each
  const fs::path disk = small_disk(
      [&](const fs::path& d) {
        ASSERT_EQ(run("data shard " + path("noise.h5") + " --shards 2 --keep-order --out-dir " + (d / "old").string())
                      .status,
                  0);
      },
      100 << 10);  // room for one new shard, not three
  if (disk.empty()) GTEST_SKIP() << disk_->why_not();
  const std::vector<std::string> before = tree(disk);
  const std::string old_shard = bytes_of(disk / "old" / "noise-00000-of-00002.h5");
  expect_write_failure("data shard " + path("noise.h5") + " --shards 3 --out-dir " + (disk / "new").string(),
                       (disk / "new").string());
  expect_write_failure("data shard " + path("noise.h5") + " --shards 3 --overwrite --out-dir " + (disk / "old").string(),
                       (disk / "old").string());
  EXPECT_EQ(tree(disk), before);  // no new directory, no temporary, the old set whole
  EXPECT_EQ(bytes_of(disk / "old" / "noise-00000-of-00002.h5"), old_shard);
}

TEST_F(OutputsCliTest, FullDiskPredictFailsKeepingTheOldPredictions) {
  make_data_and_model();
  const fs::path disk = small_disk([](const fs::path& d) { std::ofstream(d / "p.csv") << "old\n"; });
  if (disk.empty()) GTEST_SKIP() << disk_->why_not();
  const std::string p = (disk / "p.csv").string();
  // A model of two inputs: predict on the circle data, many times over.
  std::vector<std::size_t> rows(400000);
  for (std::size_t r = 0; r < rows.size(); ++r) rows[r] = r % 100;
  write_data_file(path("circles.h5"), select_rows(read_data_file(path("circle.h5")), rows));
  expect_write_failure("predict --model " + path("run/model.h5") + " --data " + path("circles.h5") +
                           " --overwrite --out " + p,
                       p);
  EXPECT_EQ(bytes_of(p), "old\n");
  EXPECT_EQ(tree(disk), std::vector<std::string>{"p.csv"});
}

// The crash first seen here: train writing checkpoints onto a full disk.
TEST_F(OutputsCliTest, FullDiskTrainEndsWithAnErrorNotASignal) {
  ASSERT_EQ(run("data make --dataset spiral --out " + path("spiral.h5")).status, 0);
  const fs::path disk = small_disk({}, 150 << 10);
  if (disk.empty()) GTEST_SKIP() << disk_->why_not();
  const std::string run_dir = (disk / "run").string();
  const Result r = run("train --data " + path("spiral.h5") + " --out " + run_dir +
                       " --hidden 64,64 --checkpoint-every 1 --epochs 50 --quiet");
  EXPECT_EQ(r.status, 1) << r.output;  // not 128 + SIGSEGV
  EXPECT_EQ(lines(r.output), 1u) << r.output;
  EXPECT_TRUE(contains(r.output, "cannot be written: No space left on device")) << r.output;
  for (const auto& name : tree(disk)) EXPECT_FALSE(contains(name, ".tmp")) << name;
}

TEST_F(OutputsCliTest, AnOutputThatIsAnInputIsRefusedEvenWithOverwrite) {
  make_data_and_model();
  const std::string data = path("circle.h5"), model = path("run/model.h5");
  const std::string data_bytes = bytes_of(data), model_bytes = bytes_of(model);
  fs::create_symlink(data, path("link.h5"));
  const std::string relative = path("run") + "/../circle.h5";
  for (const std::string overwrite : {"", " --overwrite"}) {
    expect_usage_error("predict --model " + model + " --data " + data + " --out " + relative + overwrite,
                       {"--out " + relative + " is --data " + data, "an output cannot replace an input"});
    expect_usage_error("predict --model " + model + " --data " + data + " --out " + path("link.h5") + overwrite,
                       {"--out " + path("link.h5") + " is --data " + data});
    expect_usage_error("predict --model " + model + " --data " + data + " --out " + path("./run/model.h5") + overwrite,
                       {"is --model " + model});
  }
  std::ofstream(path("t.csv")) << "a,y\n1,0\n2,1\n";
  const std::string csv = bytes_of(path("t.csv"));
  expect_usage_error("data import --format csv --input " + path("t.csv") + " --label y --overwrite --out " + path("./t.csv"),
                     {"--out " + path("./t.csv") + " is --input " + path("t.csv")});
  std::ofstream(path("img.idx")) << "x";
  std::ofstream(path("lab.idx")) << "y";
  expect_usage_error("data import --format idx --images " + path("img.idx") + " --labels " + path("lab.idx") +
                         " --overwrite --out " + path("lab.idx"),
                     {"is --labels " + path("lab.idx")});
  // A shard directory that would replace the directory holding the input.
  expect_usage_error("data shard " + data + " --shards 2 --overwrite --out-dir " + dir_.string(),
                     {"--out-dir " + dir_.string() + " holds --input " + data});
  fs::create_directory_symlink(dir_, path("dirlink"));
  expect_usage_error("data shard " + path("dirlink/circle.h5") + " --shards 2 --overwrite --out-dir " + path("run/.."),
                     {"holds --input"});
  EXPECT_EQ(bytes_of(data), data_bytes);
  EXPECT_EQ(bytes_of(model), model_bytes);
  EXPECT_EQ(bytes_of(path("t.csv")), csv);
}

TEST_F(OutputsCliTest, AnExistingOutputIsReplacedOnlyWithOverwrite) {
  make_data_and_model();
  const std::string data = path("circle.h5"), model = path("run/model.h5");
  std::ofstream(path("old")) << "keep me\n";
  expect_usage_error("data make --dataset xor --out " + path("old"), {"--out " + path("old") + " exists", "--overwrite"});
  expect_usage_error("predict --model " + model + " --data " + data + " --out " + path("old"), {"--overwrite"});
  std::ofstream(path("t.csv")) << "a,y\n1,0\n2,1\n";
  expect_usage_error("data import --format csv --input " + path("t.csv") + " --label y --out " + path("old"),
                     {"--overwrite"});
  EXPECT_EQ(bytes_of(path("old")), "keep me\n");
  ASSERT_EQ(run("data make --dataset xor --overwrite --out " + path("old")).status, 0);
  EXPECT_EQ(read_data_file(path("old")).generator, "xor");
  // A shard set is replaced whole: no shard of the old set stays beside the new one.
  ASSERT_EQ(run("data shard " + data + " --shards 4 --out-dir " + path("set/")).status, 0);  // "DIR/" is DIR
  expect_usage_error("data shard " + data + " --shards 2 --out-dir " + path("set"), {"not empty", "--overwrite"});
  ASSERT_EQ(run("data shard " + data + " --shards 2 --overwrite --out-dir " + path("set")).status, 0);
  EXPECT_EQ(tree(path("set")), (std::vector<std::string>{"circle-00000-of-00002.h5", "circle-00001-of-00002.h5",
                                                          "circle-index.csv"}));
  EXPECT_EQ(read_data_file(path("set")).size(), 100u);
  // ... and never a directory holding anything else.
  std::ofstream(path("set") + "/notes.txt") << "mine\n";
  expect_usage_error("data shard " + data + " --shards 2 --overwrite --out-dir " + path("set"),
                     {"holds notes.txt", "not part of a shard set"});
  EXPECT_TRUE(fs::exists(path("set") + "/notes.txt"));
  for (const auto& name : tree(dir_)) EXPECT_FALSE(contains(name, ".tmp")) << name;
}

}  // namespace
}  // namespace sinapsis
