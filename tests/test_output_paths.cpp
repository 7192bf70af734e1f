// Where commands write (launch/output_paths): an output that is one of the
// inputs, however it is spelled (relative, ./, .., a symbolic or hard link,
// a glob), or a directory that holds one, is refused naming both; an
// existing output is refused unless --overwrite.
#include <gtest/gtest.h>

#include <unistd.h>  // getpid, chdir

#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "launch/output_paths.hpp"

namespace sinapsis::cli {
namespace {

namespace fs = std::filesystem;

class OutputPathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sinapsis_output_paths_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "data" / "sub");
    std::ofstream(dir_ / "data" / "d.h5") << "d";
    std::ofstream(dir_ / "data" / "sub" / "e.h5") << "e";
    previous_ = fs::current_path();
    fs::current_path(dir_);  // relative paths below start here
  }
  void TearDown() override {
    fs::current_path(previous_);
    fs::remove_all(dir_);
  }
  // The UsageError message of refuse_output_over_inputs, or "" if accepted.
  static std::string refusal(const NamedPath& output, const std::vector<NamedPath>& inputs) {
    try {
      refuse_output_over_inputs(output, inputs);
    } catch (const UsageError& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_, previous_;
};

TEST_F(OutputPathsTest, TheSameFileHoweverSpelledIsRefusedNamingBoth) {
  fs::create_symlink(dir_ / "data" / "d.h5", dir_ / "link.h5");
  fs::create_hard_link(dir_ / "data" / "d.h5", dir_ / "hard.h5");
  for (const std::string& spelling : std::vector<std::string>{"data/d.h5", "./data/d.h5", "data/sub/../d.h5",
                                                               (dir_ / "data/d.h5").string(), "link.h5", "hard.h5"}) {
    const std::string message = refusal({"--out", spelling}, {{"--model", "m.h5"}, {"--data", "data/d.h5"}});
    EXPECT_EQ(message, "--out " + spelling + " is --data data/d.h5: an output cannot replace an input") << spelling;
  }
  // The input spelled otherwise, the output plainly.
  EXPECT_NE(refusal({"--out", "data/d.h5"}, {{"--input", "./link.h5"}}), "");
}

TEST_F(OutputPathsTest, AnInputGivenAsAGlobCoversEveryFileItMatches) {
  const std::string message = refusal({"--out", "data/sub/e.h5"}, {{"--data", "data/*/*.h5"}});
  EXPECT_EQ(message, "--out data/sub/e.h5 is --data data/*/*.h5: an output cannot replace an input");
}

TEST_F(OutputPathsTest, AFileOfAnInputDirectoryIsRefused) {
  EXPECT_EQ(refusal({"--out", "./data/sub/e.h5"}, {{"--data", "data"}}),
            "--out ./data/sub/e.h5 is a file of --data data: an output cannot replace an input");
  EXPECT_EQ(refusal({"--out", "data/new.csv"}, {{"--data", "data"}}), "");  // a new file beside the set
}

TEST_F(OutputPathsTest, ADirectoryHoldingAnInputAtAnyDepthIsRefused) {
  EXPECT_EQ(refusal({"--out-dir", "data"}, {{"--input", "data/sub/e.h5"}}),
            "--out-dir data holds --input data/sub/e.h5: an output cannot replace an input");
  EXPECT_NE(refusal({"--out-dir", "."}, {{"--input", "data/d.h5"}}), "");
  EXPECT_NE(refusal({"--out-dir", "data/sub/.."}, {{"--input", "data/d.h5"}}), "");
  EXPECT_NE(refusal({"--out-dir", "data"}, {{"--input", "data"}}), "");  // the set itself
}

TEST_F(OutputPathsTest, OtherOutputsPass) {
  EXPECT_EQ(refusal({"--out", "data/new.h5"}, {{"--data", "data/d.h5"}}), "");         // does not exist yet
  EXPECT_EQ(refusal({"--out", "data/sub/e.h5"}, {{"--data", "data/d.h5"}}), "");       // another file
  EXPECT_EQ(refusal({"--out-dir", "data/sub"}, {{"--input", "data/d.h5"}}), "");       // beside, not above
  EXPECT_EQ(refusal({"--out", "data/d.h5"}, {{"--data", "missing.h5"}, {"--x", ""}}), "");  // inputs not there
}

TEST_F(OutputPathsTest, AnExistingOutputNeedsOverwrite) {
  EXPECT_THROW(refuse_existing_output({"--out", "data/d.h5"}, false), UsageError);
  try {
    refuse_existing_output({"--out", "data/d.h5"}, false);
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "--out data/d.h5 exists; pass --overwrite to replace it");
  }
  EXPECT_NO_THROW(refuse_existing_output({"--out", "data/d.h5"}, true));
  EXPECT_NO_THROW(refuse_existing_output({"--out", "data/new.h5"}, false));
  // A directory is not a file to replace, with --overwrite or not.
  EXPECT_THROW(refuse_existing_output({"--out", "data/sub"}, true), UsageError);
  // A link that leads nowhere still names something the user has.
  fs::create_symlink(dir_ / "nowhere", dir_ / "dangling.h5");
  EXPECT_THROW(refuse_existing_output({"--out", "dangling.h5"}, false), UsageError);
}

}  // namespace
}  // namespace sinapsis::cli
