// Running a program from an argument vector: arguments arrive verbatim
// (nothing a shell would interpret is interpreted), output and exit status
// come back, the working directory is honoured, and PATH is searched as
// execvp would.
#include <gtest/gtest.h>

#include <sys/stat.h>  // chmod
#include <unistd.h>    // getpid

#include <filesystem>
#include <fstream>
#include <system_error>

#include "launch/subprocess.hpp"

namespace sinapsis::cli {
namespace {

namespace fs = std::filesystem;

class Subprocess : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sinapsis_subprocess_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string program(const std::string& name) const {
    const auto found = find_program(name, "/usr/bin:/bin");
    if (!found) ADD_FAILURE() << name << " is not in /usr/bin or /bin";
    return found.value_or("/nonexistent");
  }
  void make_file(const fs::path& file, fs::perms permissions) const {
    std::ofstream(file) << "#!/bin/true\n";
    fs::permissions(file, permissions);
  }

  fs::path dir_;
};

TEST_F(Subprocess, ArgumentsArriveVerbatimAndNothingInThemRuns) {
  const std::vector<std::string> hostile = {"a b",  "; touch pwned-semicolon", "$(touch pwned-subst)",
                                            "`touch pwned-backtick`", "it's \"quoted\"", "*", "", "x\ny"};
  std::vector<std::string> arguments{"%s|"};
  arguments.insert(arguments.end(), hostile.begin(), hostile.end());
  const ProgramResult r = run_program(program("printf"), arguments, dir_.string());
  EXPECT_EQ(r.status, 0) << r.output;
  std::string expected;
  for (const auto& a : hostile) expected += a + "|";
  EXPECT_EQ(r.output, expected);
  EXPECT_TRUE(fs::is_empty(dir_)) << "something ran in " << dir_;
}

TEST_F(Subprocess, ReturnsTheExitStatusAndStderrWithStdout) {
  const ProgramResult r = run_program(program("ls"), {(dir_ / "no such file").string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("no such file"), std::string::npos) << r.output;
  EXPECT_EQ(run_program(program("false"), {}).status, 1);
  EXPECT_EQ(run_program(program("true"), {}).status, 0);
}

TEST_F(Subprocess, ASignalThatEndsTheProgramIs128PlusItsNumber) {
  // A shell here only as the shortest program that kills itself.
  const ProgramResult r = run_program(program("sh"), {"-c", "kill -KILL $$"});
  EXPECT_EQ(r.status, 128 + 9) << r.output;
}

TEST_F(Subprocess, RunsInTheWorkingDirectoryGivenWithStdinEmpty) {
  const fs::path odd = dir_ / "a dir; with 'quotes'";
  fs::create_directories(odd);
  EXPECT_EQ(run_program(program("pwd"), {}, odd.string()).output, odd.string() + "\n");
  // cat reads stdin to its end: /dev/null, so it returns at once with nothing.
  const ProgramResult cat = run_program(program("cat"), {});
  EXPECT_EQ(cat.status, 0);
  EXPECT_EQ(cat.output, "");
}

TEST_F(Subprocess, AProgramThatCannotStartThrowsNamingIt) {
  try {
    run_program((dir_ / "missing").string(), {});
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find((dir_ / "missing").string()), std::string::npos) << e.what();
  }
  EXPECT_THROW(run_program(program("true"), {}, (dir_ / "no such dir").string()), std::system_error);
}

TEST_F(Subprocess, FindsProgramsAsExecvpWould) {
  const fs::path first = dir_ / "first", second = dir_ / "second";
  fs::create_directories(first);
  fs::create_directories(second);
  make_file(first / "tool", fs::perms::owner_read | fs::perms::owner_write);  // not executable: skipped
  make_file(second / "tool", fs::perms::owner_all);
  fs::create_directories(first / "dir-not-file");
  const std::string path = first.string() + ":" + second.string();
  EXPECT_EQ(find_program("tool", path), (second / "tool").string());
  EXPECT_EQ(find_program("dir-not-file", path), std::nullopt);
  EXPECT_EQ(find_program("absent", path), std::nullopt);
  EXPECT_EQ(find_program("tool", ""), std::nullopt) << "an empty PATH holds nothing";
  EXPECT_EQ(find_program((second / "tool").string(), ""), (second / "tool").string()) << "a path is taken as it is";
  EXPECT_EQ(find_program("", path), std::nullopt);
  // An empty entry is the current directory; the result is absolute, so it
  // still names the program when run in another directory.
  const fs::path here = fs::current_path();
  fs::current_path(second);
  const auto found = find_program("tool", "/nonexistent::");
  fs::current_path(here);
  EXPECT_EQ(found, (second / "tool").string());
}

}  // namespace
}  // namespace sinapsis::cli
