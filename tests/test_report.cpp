// sinapsis report, checked as a person sees it: the report of a small run
// and of a small sweep opened in headless Chromium, with no console errors,
// no broken images and a screenshot that is not blank; without gnuplot, a
// clear note and a page without images.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>

#include "tests/run_command.hpp"

namespace {

namespace fs = std::filesystem;
using sinapsis::test::CommandResult;
using sinapsis::test::run_command;
using sinapsis::test::run_sinapsis;

const std::string kChromium =
    "chromium --headless=new --no-sandbox --disable-gpu --allow-file-access-from-files --hide-scrollbars";

std::string read(const fs::path& file) {
  std::ifstream in(file);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

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

TEST_F(Report, ADirectoryThatIsNeitherARunNorASweepIsRefused) {
  const CommandResult r = run_sinapsis("report " + path("nothing"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("is neither a run directory"), std::string::npos) << r.output;
}

}  // namespace
