// sinapsis report, checked as a person sees it: the report of a small run
// and of a small sweep opened in headless Chromium, with no console errors,
// no broken images and a screenshot that is not blank; without gnuplot, a
// clear note and a page without images. The plainest run (no validation or
// test data) and an unfinished one report what they have; a directory whose
// name holds shell and gnuplot syntax is reported and nothing in it runs;
// every corrupt input, and a plot that fails, is one error line and no report.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <regex>
#include <set>

#include "launch/subprocess.hpp"
#include "launch/run_recorder.hpp"
#include "tests/mpi_cli.hpp"
#include "tests/run_command.hpp"

namespace {

namespace fs = std::filesystem;
using sinapsis::test::CommandResult;
using sinapsis::test::run_command;
using sinapsis::test::run_sinapsis;
using sinapsis::cli::ProgramResult;
using sinapsis::cli::run_program;

const std::string kChromium =
    "chromium --headless=new --no-sandbox --disable-gpu --allow-file-access-from-files --hide-scrollbars";

std::string read(const fs::path& file) {
  std::ifstream in(file);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write(const fs::path& file, const std::string& text) { std::ofstream(file, std::ios::binary) << text; }

// `sinapsis ARGUMENTS` in `directory`, with no shell between: every argument
// arrives as it is written here. `path` replaces PATH when given.
ProgramResult sinapsis(const std::vector<std::string>& arguments, const fs::path& directory,
                       const std::string& path = "") {
  std::vector<std::string> env_arguments;
  if (!path.empty()) env_arguments.push_back("PATH=" + path);
  env_arguments.push_back(SINAPSIS_BINARY);
  env_arguments.insert(env_arguments.end(), arguments.begin(), arguments.end());
  return run_program("/usr/bin/env", env_arguments, directory.string());
}

// Every path under `dir`, relative to it.
std::set<std::string> listing(const fs::path& dir) {
  std::set<std::string> paths;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) paths.insert(fs::relative(entry.path(), dir).string());
  return paths;
}

std::size_t line_count(const std::string& output) { return std::size_t(std::count(output.begin(), output.end(), '\n')); }

struct PageCheck {
  int images = -1, broken = -1;
  std::string console;  // Chromium's CONSOLE log lines (errors, warnings)
};

class Report : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sinapsis_report_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ASSERT_EQ(run_sinapsis("data make --dataset spiral --samples 200 --out " + path("spiral.h5")).status, 0);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Loads `page` in an iframe of a checking page (same file:// origin) and
  // reads back how many images it has and how many did not load.
  PageCheck open_in_chromium(const fs::path& page) const {
    const fs::path checker = dir_ / "check.html";
    std::ofstream(checker) << "<!DOCTYPE html><html><body><iframe id=\"f\" src=\"file://" << fs::absolute(page).string()
                           << "\" onload=\"check()\"></iframe><pre id=\"out\">pending</pre><script>\n"
                              "function check() {\n"
                              "  var d = document.getElementById('f').contentDocument, broken = 0;\n"
                              "  for (var i of d.images) if (!i.complete || i.naturalWidth == 0) broken++;\n"
                              "  document.getElementById('out').textContent = 'images=' + d.images.length + ' broken=' + broken;\n"
                              "}\n</script></body></html>\n";
    const CommandResult r = run_command(kChromium + " --enable-logging=stderr --v=0 --virtual-time-budget=5000 --dump-dom file://" +
                                        checker.string() + " 2>" + path("chromium.log"));
    PageCheck c;
    std::smatch m;
    if (std::regex_search(r.output, m, std::regex("images=(\\d+) broken=(\\d+)"))) {
      c.images = std::stoi(m[1]);
      c.broken = std::stoi(m[2]);
    }
    std::istringstream log(read(path("chromium.log")));
    for (std::string line; std::getline(log, line);)
      if (line.find(":CONSOLE") != std::string::npos) c.console += line + "\n";
    return c;
  }

  // A screenshot of `page` is more than a blank page: its PNG is several
  // times the size of about:blank's at the same window size.
  void expect_not_blank(const fs::path& page) const {
    const std::string size = " --window-size=1000,1400 --virtual-time-budget=3000 --screenshot=";
    ASSERT_EQ(run_command(kChromium + size + path("page.png") + " file://" + fs::absolute(page).string()).status, 0);
    ASSERT_EQ(run_command(kChromium + size + path("blank.png") + " about:blank").status, 0);
    ASSERT_TRUE(fs::exists(path("page.png")));
    EXPECT_GT(fs::file_size(path("page.png")), 4 * fs::file_size(path("blank.png")))
        << "the screenshot of " << page << " looks blank";
  }

  void expect_report_shows(const fs::path& report, int min_images) const {
    ASSERT_TRUE(fs::exists(report / "index.html"));
    const PageCheck c = open_in_chromium(report / "index.html");
    EXPECT_GE(c.images, min_images) << "the page did not load in Chromium, or has too few images";
    EXPECT_EQ(c.broken, 0) << "broken images in " << report;
    EXPECT_EQ(c.console, "") << "console messages while loading " << report;
    expect_not_blank(report / "index.html");
  }

  fs::path dir_;
};

TEST_F(Report, ARunShowsLossCurvesAndTheDecisionSurfaceInChromium) {
  ASSERT_EQ(run_sinapsis("train --data " + path("spiral.h5") + " --test-split 0.5 --val-split 0.2 --hidden 8 " +
                         "--features x1,x2,x1sq,x2sq --epochs 30 --patience 5 --quiet --out " + path("run"))
                .status,
            0);
  const CommandResult r = run_sinapsis("report " + path("run"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("wrote " + path("run") + "/report/index.html"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("gnuplot"), std::string::npos) << "gnuplot failed or warned:\n" << r.output;
  expect_report_shows(path("run") + "/report", 2);  // loss curves and decision surface
  const std::string html = read(path("run") + "/report/index.html");
  EXPECT_NE(html.find("loss.png"), std::string::npos);
  EXPECT_NE(html.find("surface.png"), std::string::npos);
  EXPECT_NE(html.find("stop_reason"), std::string::npos) << "the summary is on the page";

  // The check can fail: a missing image is found.
  fs::remove(path("run") + "/report/surface.png");
  EXPECT_EQ(open_in_chromium(path("run") + "/report/index.html").broken, 1);
}

TEST_F(Report, AClassifiersConfusionMatrixIsSummedOverTheRanksAndDrawn) {
  // 1 and 2 ranks: the test part (100 rows) is split over the ranks, and
  // the matrix counts all of it; its diagonal is the accuracy.
  for (const std::string& launcher : {std::string(), std::string(sinapsis::test::kMpiEnvironment) + sinapsis::test::timed_mpirun() +
                                                        "-n 2 --oversubscribe "}) {
    const std::string run = path(launcher.empty() ? "one" : "two");
    const CommandResult trained = run_command(launcher + SINAPSIS_BINARY " train --data " + path("spiral.h5") +
                                        " --test-split 0.5 --hidden 8 --epochs 20 --quiet --out " + run);
    ASSERT_EQ(trained.status, 0) << trained.output;
    const sinapsis::cli::RunInputs in = sinapsis::cli::read_run_inputs(run);
    ASSERT_EQ(in.confusion.part, "test") << read(run + "/summary.json");
    EXPECT_EQ(in.confusion.class_names, (std::vector<std::string>{"-1", "+1"}));
    std::size_t total = 0, right = 0;
    for (std::size_t t = 0; t < 2; ++t)
      for (std::size_t p = 0; p < 2; ++p) (total += in.confusion.counts[t][p]), right += t == p ? in.confusion.counts[t][p] : 0;
    EXPECT_EQ(total, 100u) << run;
    const std::string summary = read(run + "/summary.json");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(summary, m, std::regex("\"test_accuracy\": ([0-9.]+)"))) << summary;
    EXPECT_DOUBLE_EQ(std::stod(m[1]), double(right) / 100) << summary;
  }
  const CommandResult r = run_sinapsis("report " + path("one"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("gnuplot"), std::string::npos) << "gnuplot failed or warned:\n" << r.output;
  expect_report_shows(path("one") + "/report", 3);  // loss, surface, confusion
  const std::string html = read(path("one") + "/report/index.html");
  EXPECT_NE(html.find("confusion.png"), std::string::npos);
  EXPECT_NE(html.find("<th>true \\ predicted</th><th>-1</th><th>+1</th>"), std::string::npos) << html;
}

TEST_F(Report, ASweepShowsHeatMapsAndTheTrialsTableInChromium) {
  ASSERT_EQ(run_sinapsis("sweep --data " + path("spiral.h5") + " --test-split 0.5 --depth 0:2 --width 2,4 " +
                         "--features \"x1,x2;x1,x2,x1sq,x2sq\" --max-epochs 5 --target-loss 0.8 --quiet --out " +
                         path("sweep"))
                .status,
            0);
  const CommandResult r = run_sinapsis("report " + path("sweep"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("gnuplot"), std::string::npos) << "gnuplot failed or warned:\n" << r.output;
  expect_report_shows(path("sweep") + "/report", 2);  // one heat map per feature set
  const std::string html = read(path("sweep") + "/report/index.html");
  EXPECT_NE(html.find("<table>"), std::string::npos);
}

TEST_F(Report, WithoutGnuplotTheReportSaysSoAndHasNoImages) {
  ASSERT_EQ(run_sinapsis("train --data " + path("spiral.h5") + " --epochs 2 --quiet --out " + path("run")).status, 0);
  const CommandResult r = run_command("env PATH=/nonexistent " SINAPSIS_BINARY " report " + path("run") + " 2>&1");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("gnuplot not found"), std::string::npos) << r.output;
  const std::string html = read(path("run") + "/report/index.html");
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(html.find("Summary"), std::string::npos);
}

// The plainest run there is: no validation or test data. Its report plots
// the train loss alone (and the decision surface: the data is 2-D), with no
// note and no gnuplot output on the terminal.
TEST_F(Report, APlainRunWithoutValidationOrTestDataShowsItsTrainLoss) {
  ASSERT_EQ(run_sinapsis("train --data " + path("spiral.h5") + " --epochs 4 --quiet --out " + path("run")).status, 0);
  const ProgramResult r = sinapsis({"report", path("run")}, dir_);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "wrote " + path("run") + "/report/index.html\n");
  const fs::path report = path("run") + "/report";
  ASSERT_TRUE(fs::exists(report / "loss.png"));
  EXPECT_GT(fs::file_size(report / "loss.png"), 0u);
  const std::string script = read(report / "loss.gp");
  EXPECT_NE(script.find("'train loss'"), std::string::npos) << script;
  EXPECT_EQ(script.find("validation"), std::string::npos) << "no validation data, no validation curve:\n" << script;
  EXPECT_NE(script.find("'train accuracy'"), std::string::npos) << "a classifier's train accuracy:\n" << script;
  EXPECT_EQ(script.find("test"), std::string::npos) << "no test data, no test curve:\n" << script;
  EXPECT_EQ(line_count(read(report / "loss.dat")), 1u + 4u) << "a header and one row per epoch";
  expect_report_shows(report, 2);  // the train loss and the decision surface
}

// One epoch is one point: drawn, not a blank plot, and gnuplot does not
// warn about an empty range.
TEST_F(Report, AOneEpochRunIsDrawnWithoutWarnings) {
  ASSERT_EQ(run_sinapsis("train --data " + path("spiral.h5") + " --epochs 1 --val-split 0.3 --quiet --out " +
                         path("run")).status,
            0);
  const ProgramResult r = sinapsis({"report", path("run")}, dir_);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "wrote " + path("run") + "/report/index.html\n");
  EXPECT_NE(read(path("run") + "/report/loss.gp").find("with points"), std::string::npos);
  expect_report_shows(path("run") + "/report", 2);
}

// A run preempted mid-way (its checkpoint and metrics, no model.h5 or
// summary.json yet) is reported as far as it got, and one line says so.
TEST_F(Report, AnUnfinishedRunIsReportedAsFarAsItGot) {
  ASSERT_EQ(run_sinapsis("train --data " + path("spiral.h5") + " --epochs 3 --checkpoint-every 1 --quiet --out " +
                         path("run")).status,
            0);
  fs::remove(path("run") + "/model.h5");
  fs::remove(path("run") + "/summary.json");
  const ProgramResult r = sinapsis({"report", path("run")}, dir_);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(line_count(r.output), 2u) << r.output;
  EXPECT_NE(r.output.find("sinapsis report: " + path("run") + " has not finished"), std::string::npos) << r.output;
  const std::string html = read(path("run") + "/report/index.html");
  EXPECT_NE(html.find("loss.png"), std::string::npos);
  EXPECT_EQ(html.find("surface.png"), std::string::npos) << "no model.h5, no decision surface";
  EXPECT_NE(html.find("has not finished"), std::string::npos);
  expect_report_shows(path("run") + "/report", 1);
}

// A run directory whose path holds shell syntax (`;`, `$( )`, backquotes),
// quotes and gnuplot syntax (`'; system('...'); '`) is reported like any
// other, and none of the commands in its name runs.
TEST_F(Report, APathWithSpacesAndShellSyntaxIsReportedAndNothingInItRuns) {
  const fs::path run = dir_ / "my run; touch pwned-shell" /
                       "$(touch pwned-subst) `touch pwned-tick` it's'; system('touch pwned-gnuplot'); '" / "run";
  fs::create_directories(run.parent_path());
  ProgramResult r = sinapsis({"train", "--data", path("spiral.h5"), "--test-split", "0.3", "--epochs", "3", "--quiet",
                              "--out", run.string()},
                             dir_);
  ASSERT_EQ(r.status, 0) << r.output;
  r = sinapsis({"report", run.string()}, dir_);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "wrote " + run.string() + "/report/index.html\n");
  for (const char* image : {"loss.png", "surface.png"}) {
    ASSERT_TRUE(fs::exists(run / "report" / image)) << image;
    EXPECT_GT(fs::file_size(run / "report" / image), 0u) << image;
  }
  for (const auto& entry : listing(dir_)) EXPECT_EQ(entry.find("/pwned"), std::string::npos) << entry << " was created";
  for (const auto& entry : fs::directory_iterator(dir_))
    EXPECT_NE(entry.path().filename().string().rfind("pwned", 0), 0u) << entry.path() << " was created";
}

// Every way a run's or a sweep's files can be broken: exit status 1, one
// line naming the file (and the line) and what is wrong, and nothing
// written: no report, no half-built one.
TEST_F(Report, EachCorruptInputIsOneErrorLineAndNoReport) {
  ASSERT_EQ(run_sinapsis("train --data " + path("spiral.h5") + " --test-split 0.3 --epochs 4 --quiet --out " +
                         path("run")).status,
            0);
  ASSERT_EQ(run_sinapsis("sweep --data " + path("spiral.h5") + " --test-split 0.5 --depth 1 --width 2,4 " +
                         "--max-epochs 2 --quiet --out " + path("sweep")).status,
            0);
  const auto replace = [](const fs::path& file, const std::string& from, const std::string& to) {
    std::string text = read(file);
    const auto at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from << " not in " << file;
    write(file, text.replace(at, from.size(), to));
  };
  const auto cut = [](const fs::path& file, std::size_t keep_bytes) {
    fs::resize_file(file, keep_bytes);
  };
  const auto metrics_lines = line_count(read(path("run") + "/metrics.csv"));
  const struct {
    const char* name;
    const char* dir;
    std::function<void(const fs::path&)> damage;
    std::string message;  // after "sinapsis report: error: DIR/"
  } cases[] = {
      {"metrics.csv cut in its last line", "run",
       [&](const fs::path& d) { cut(d / "metrics.csv", fs::file_size(d / "metrics.csv") - 4); },
       "metrics.csv line " + std::to_string(metrics_lines) + ": cut short"},
      {"metrics.csv with a non-number", "run",
       [&](const fs::path& d) { replace(d / "metrics.csv", "\n1,", "\n1,x"); },
       "metrics.csv line 2: train_loss 'x"},
      {"metrics.csv with a wrong header", "run",
       [&](const fs::path& d) { replace(d / "metrics.csv", "train_loss", "loss"); },
       "metrics.csv line 1: the header has no train_loss column"},
      {"metrics.csv empty", "run", [&](const fs::path& d) { write(d / "metrics.csv", ""); },
       "metrics.csv: the file is empty"},
      {"summary.json cut short", "run",
       [&](const fs::path& d) { cut(d / "summary.json", fs::file_size(d / "summary.json") / 2); }, "summary.json line "},
      {"summary.json with a wrong type", "run",
       [&](const fs::path& d) { write(d / "summary.json", "{\n  \"best\": {\n    \"epoch\": \"three\"\n  }\n}\n"); },
       "summary.json line 3: \"epoch\" must be a number"},
      {"summary.json missing", "run", [&](const fs::path& d) { fs::remove(d / "summary.json"); },
       "summary.json: missing, and there is no checkpoint.h5"},
      {"config.ini missing", "run", [&](const fs::path& d) { fs::remove(d / "config.ini"); }, "config.ini: missing"},
      {"config.ini with a line that is not an option", "run",
       [&](const fs::path& d) { write(d / "config.ini", read(d / "config.ini") + "not an option\n"); },
       "config.ini: the options configuration file contains an invalid line 'not an option'"},
      {"config.ini with a bad value", "run",
       [&](const fs::path& d) { replace(d / "config.ini", "test-split = 0.3", "test-split = 0.3.3"); },
       "config.ini: the argument ('0.3.3') for option 'train.test-split' is invalid"},
      {"trials.csv cut in its last line", "sweep",
       [&](const fs::path& d) { cut(d / "trials.csv", fs::file_size(d / "trials.csv") - 3); },
       "trials.csv line 3: cut short"},
      {"trials.csv with a wrong header", "sweep",
       [&](const fs::path& d) { replace(d / "trials.csv", "trial", "triall"); },
       "trials.csv line 1: not a header sinapsis sweep writes"},
      {"trials.csv with a short row", "sweep",
       [&](const fs::path& d) { write(d / "trials.csv", read(d / "trials.csv") + "7,x1,1\n"); },
       "trials.csv line 4: a trial row has 3 fields, not 29"},
      {"trials.csv empty", "sweep", [&](const fs::path& d) { write(d / "trials.csv", ""); },
       "trials.csv: the file is empty"},
      {"a sweep's summary.json without its metric", "sweep",
       [&](const fs::path& d) { replace(d / "summary.json", "\"metric\"", "\"metrik\""); },
       "summary.json line 1: \"metric\" must be \"val_loss\" or \"test_loss\""},
  };
  int copy = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path damaged = dir_ / ("damaged-" + std::to_string(copy++));
    fs::copy(path(c.dir), damaged, fs::copy_options::recursive);
    c.damage(damaged);
    const std::set<std::string> before = listing(damaged);
    const ProgramResult r = sinapsis({"report", damaged.string()}, dir_);
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_EQ(line_count(r.output), 1u) << r.output;
    EXPECT_EQ(r.output.rfind("sinapsis report: error: " + (damaged / c.message).string(), 0), 0u) << r.output;
    EXPECT_EQ(listing(damaged), before) << "the report wrote something";
  }
}

// gnuplot that fails, draws nothing, or warns (a stand-in first in PATH):
// a failed plot is an error line naming the plot, and the previous report
// stays as it was; a warning is one line per plot.
TEST_F(Report, AFailedPlotIsAnErrorAndAWarningOneLine) {
  ASSERT_EQ(run_sinapsis("train --data " + path("spiral.h5") + " --epochs 2 --quiet --out " + path("run")).status, 0);
  ASSERT_EQ(sinapsis({"report", path("run")}, dir_).status, 0);
  const std::string page = read(path("run") + "/report/index.html");
  const std::set<std::string> before = listing(dir_ / "run");
  const fs::path bin = dir_ / "bin";
  fs::create_directories(bin);
  const auto fake_gnuplot = [&](const std::string& body) {
    write(bin / "gnuplot", "#!/bin/sh\n" + body);
    fs::permissions(bin / "gnuplot", fs::perms::owner_all);
  };
  const std::string path_with_fake = bin.string() + ":/usr/bin:/bin";

  fake_gnuplot("printf '\\nplot x\\n     ^\\n\"%s\" line 3: all points y value undefined!\\n' \"$1\" >&2\nexit 1\n");
  ProgramResult r = sinapsis({"report", path("run")}, dir_, path_with_fake);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output, "sinapsis report: error: the loss plot failed: gnuplot exited with status 1: \"loss.gp\" line 3: "
                      "all points y value undefined!\n");
  EXPECT_EQ(listing(dir_ / "run"), before);
  EXPECT_EQ(read(path("run") + "/report/index.html"), page);

  fake_gnuplot("exit 0\n");
  r = sinapsis({"report", path("run")}, dir_, path_with_fake);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output, "sinapsis report: error: the loss plot failed: gnuplot drew no loss.png\n");
  EXPECT_EQ(listing(dir_ / "run"), before);

  // Writes the image its script names, and two warnings.
  fake_gnuplot("sed -n \"s/^set output '\\(.*\\)'$/\\1/p\" \"$1\" | while read -r image; do printf png > \"$image\"; done\n"
               "printf 'Warning: empty y range\\nWarning: again\\n' >&2\n");
  r = sinapsis({"report", path("run")}, dir_, path_with_fake);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "sinapsis report: gnuplot warned on the loss plot: Warning: empty y range (and 1 more lines)\n"
                      "sinapsis report: gnuplot warned on the decision surface plot: Warning: empty y range (and 1 more "
                      "lines)\nwrote " + path("run") + "/report/index.html\n");
}

TEST_F(Report, ADirectoryThatIsNeitherARunNorASweepIsRefused) {
  const CommandResult r = run_sinapsis("report " + path("nothing"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("is neither a run directory"), std::string::npos) << r.output;
}

}  // namespace
