// Atomic writes (io/atomic_file, h5::NewFile): a file appears whole or not
// at all. On a full disk (a small tmpfs, filled) every writer fails with one
// DataError naming the target and the system's reason, leaves the target as
// it was and no temporary beside it, and the process still exits normally
// (HDF5 1.10 used to crash in its exit handler after a failed write).
#include <gtest/gtest.h>

#include <sys/wait.h>  // waitpid
#include <unistd.h>    // fork, getpid

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/init.hpp"
#include "io/atomic_file.hpp"
#include "io/data_file.hpp"
#include "io/model_file.hpp"
#include "tests/small_disk.hpp"

namespace sinapsis {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The names in `dir` other than the filler, sorted.
std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename() != "FILLER") names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

Dataset some_data(std::size_t rows) {
  Dataset d;
  d.features = Matrix<float>(rows, 4, 0.25f);
  for (std::size_t r = 0; r < rows; ++r) {
    d.features(r, 0) = float(r);
    d.labels.push_back(std::int64_t(r % 2));
  }
  d.classes = 2;
  return d;
}

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sinapsis_atomic_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    disk_.reset();  // unmount before removing the mount point
    fs::remove_all(dir_);
  }
  // A full disk at dir_/full holding `old.txt` = "old" and `old.h5`, a data file.
  fs::path full_disk() {
    disk_ = std::make_unique<test::SmallDisk>(dir_ / "full", 512 * 1024);
    if (!disk_->mounted()) return {};
    std::ofstream(disk_->dir() / "old.txt") << "old";
    write_data_file((disk_->dir() / "old.h5").string(), some_data(3));
    disk_->fill(0);
    return disk_->dir();
  }
  // The DataError message of `call`, or a failure.
  template <class F>
  static std::string error_of(F&& call) {
    try {
      call();
    } catch (const DataError& e) {
      return e.what();
    }
    ADD_FAILURE() << "no DataError";
    return "";
  }

  fs::path dir_;
  std::unique_ptr<test::SmallDisk> disk_;
};

TEST_F(AtomicFileTest, CommitReplacesTheTargetWhole) {
  const fs::path target = dir_ / "a.txt";
  std::ofstream(target) << "old";
  {
    AtomicFile file(target.string());
    file.stream() << "new " << 42;
    EXPECT_EQ(read_text(target), "old");  // nothing shows before commit
    file.commit();
  }
  EXPECT_EQ(read_text(target), "new 42");
  EXPECT_EQ(entries(dir_), std::vector<std::string>{"a.txt"});
}

TEST_F(AtomicFileTest, WithoutCommitTheTargetStaysAndNoTemporaryRemains) {
  const fs::path target = dir_ / "a.txt";
  std::ofstream(target) << "old";
  {
    AtomicFile file(target.string());
    file.stream() << std::string(1 << 17, 'x');  // more than one buffer's worth reaches the temporary
  }
  EXPECT_EQ(read_text(target), "old");
  EXPECT_EQ(entries(dir_), std::vector<std::string>{"a.txt"});
}

TEST_F(AtomicFileTest, WritesThroughASymbolicLink) {
  fs::create_directories(dir_ / "real");
  std::ofstream(dir_ / "real" / "a.txt") << "old";
  fs::create_symlink(dir_ / "real" / "a.txt", dir_ / "link.txt");
  write_file_atomically((dir_ / "link.txt").string(), std::string_view("new"));
  EXPECT_TRUE(fs::is_symlink(dir_ / "link.txt"));
  EXPECT_EQ(read_text(dir_ / "real" / "a.txt"), "new");
  EXPECT_EQ(entries(dir_ / "real"), std::vector<std::string>{"a.txt"});
}

TEST_F(AtomicFileTest, AMissingDirectoryIsOneLineNamingTheTarget) {
  const std::string target = (dir_ / "no" / "such" / "a.txt").string();
  const std::string message = error_of([&] { AtomicFile file(target); });
  EXPECT_EQ(message, target + ": cannot be written: No such file or directory");
}

TEST_F(AtomicFileTest, TextOnAFullDiskFailsAndKeepsTheOldFile) {
  const fs::path disk = full_disk();
  if (disk.empty()) GTEST_SKIP() << disk_->why_not();
  const std::string target = (disk / "old.txt").string();
  const std::string message = error_of([&] {
    AtomicFile file(target);
    file.stream() << std::string(1 << 20, 'x');
    file.commit();
  });
  EXPECT_EQ(message, target + ": cannot be written: No space left on device");
  EXPECT_EQ(read_text(target), "old");
  EXPECT_EQ(entries(disk), (std::vector<std::string>{"old.h5", "old.txt"}));
}

TEST_F(AtomicFileTest, HdfFilesOnAFullDiskFailAndKeepTheOldFile) {
  const fs::path disk = full_disk();
  if (disk.empty()) GTEST_SKIP() << disk_->why_not();
  const std::string data_target = (disk / "old.h5").string();
  EXPECT_EQ(error_of([&] { write_data_file(data_target, some_data(20000)); }),
            data_target + ": cannot be written: No space left on device");
  EXPECT_EQ(read_data_file(data_target).size(), 3u);  // the old file, whole
  const std::string model_target = (disk / "model.h5").string();
  Model<float> model(Architecture::mlp(4, std::vector<std::size_t>{256, 256}, Activation::relu, 2, Activation::softmax));
  initialize(model, Initializer::glorot, 1);
  EXPECT_EQ(error_of([&] { write_model_file(model_target, model, Loss::categorical_cross_entropy, ""); }),
            model_target + ": cannot be written: No space left on device");
  EXPECT_EQ(entries(disk), (std::vector<std::string>{"old.h5", "old.txt"}));
}

// The crash this guards against came after the error, when HDF5 shut down
// at exit: so the failing write runs in a child that then exits normally.
TEST_F(AtomicFileTest, AProcessWhoseHdfWriteFailedExitsNormally) {
  const fs::path disk = full_disk();
  if (disk.empty()) GTEST_SKIP() << disk_->why_not();
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int status = 3;
    try {
      write_data_file((disk / "new.h5").string(), some_data(20000));
    } catch (const DataError&) {
      status = 0;
    }
    std::exit(status);  // runs HDF5's exit handler
  }
  int raw = 0;
  ASSERT_EQ(::waitpid(child, &raw, 0), child);
  EXPECT_TRUE(WIFEXITED(raw)) << "killed by signal " << (WIFSIGNALED(raw) ? WTERMSIG(raw) : 0);
  EXPECT_EQ(WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, 0);
}

}  // namespace
}  // namespace sinapsis
