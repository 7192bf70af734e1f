// The network calibration file: what write_network_calibration writes,
// read_network_calibration reads back; a file of another kind, another
// version, or with a field missing or wrong is refused with one UsageError
// naming --network and the file.
#include <gtest/gtest.h>

#include <unistd.h>  // getpid

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "launch/network_calibration.hpp"

namespace sinapsis::cli {
namespace {

namespace fs = std::filesystem;

class NetworkCalibrationFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sinapsis_calibration_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name)) << text;
    return path(name);
  }
  static std::string read(const std::string& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  static NetworkCalibration example() {
    NetworkCalibration c;
    c.ranks = 4;
    c.hosts = 2;
    c.ranks_per_node = 2;
    c.transport = "tcp";
    c.link = {31e-6, 0.87e-9, 1.5e-10};
    c.samples = {{1024, 4.1e-5}, {1048576, 1.2e-3}, {8388608, 8.3e-3}};
    c.sinapsis_version = "0.13.0";
    return c;
  }
  // The message read_network_calibration throws for `file`.
  static std::string refusal(const std::string& file) {
    try {
      read_network_calibration(file);
    } catch (const UsageError& e) {
      return e.what();
    }
    return "(accepted)";
  }

  fs::path dir_;
};

TEST_F(NetworkCalibrationFile, RoundTrips) {
  const NetworkCalibration written = example();
  write_network_calibration(path("calib.json"), written);
  const NetworkCalibration back = read_network_calibration(path("calib.json"));
  EXPECT_EQ(back.version, 1);
  EXPECT_EQ(back.ranks, 4);
  EXPECT_EQ(back.hosts, 2);
  EXPECT_EQ(back.ranks_per_node, 2);
  EXPECT_EQ(back.transport, "tcp");
  EXPECT_EQ(back.sinapsis_version, "0.13.0");
  EXPECT_DOUBLE_EQ(back.link.alpha, written.link.alpha);
  EXPECT_DOUBLE_EQ(back.link.beta, written.link.beta);
  EXPECT_DOUBLE_EQ(back.link.gamma, written.link.gamma);
  ASSERT_EQ(back.samples.size(), written.samples.size());
  for (std::size_t i = 0; i < back.samples.size(); ++i) {
    EXPECT_DOUBLE_EQ(back.samples[i].bytes, written.samples[i].bytes);
    EXPECT_DOUBLE_EQ(back.samples[i].seconds, written.samples[i].seconds);
  }
  const std::string text = read(path("calib.json"));
  EXPECT_NE(text.find("\"format\": \"sinapsis-network-calibration\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"version\": 1"), std::string::npos) << text;
  // Written atomically: nothing left beside it.
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1u);
}

TEST_F(NetworkCalibrationFile, RefusesAnotherVersion) {
  write_network_calibration(path("calib.json"), example());
  std::string text = read(path("calib.json"));
  text.replace(text.find("\"version\": 1"), 12, "\"version\": 2");
  const std::string file = write("v2.json", text);
  const std::string message = refusal(file);
  EXPECT_EQ(message.rfind("--network: " + file + ": version 2", 0), 0u) << message;
}

TEST_F(NetworkCalibrationFile, RefusesAnotherFormat) {
  const std::string summary = write("summary.json", "{\"format\": \"sinapsis-run\", \"version\": 1}\n");
  EXPECT_NE(refusal(summary).find("--network: " + summary + ": not a network calibration"), std::string::npos);
  const std::string bare = write("bare.json", "{\"ranks\": 2}\n");
  EXPECT_NE(refusal(bare).find("not a network calibration"), std::string::npos);
  const std::string list = write("list.json", "[1, 2]\n");
  EXPECT_NE(refusal(list).find("--network: " + list + ": not a JSON object"), std::string::npos);
  const std::string broken = write("broken.json", "{\"format\": ");
  EXPECT_EQ(refusal(broken).rfind("--network: " + broken, 0), 0u) << refusal(broken);
  EXPECT_EQ(refusal(path("missing.json")), "--network: " + path("missing.json") + ": cannot be read");
}

TEST_F(NetworkCalibrationFile, RefusesMissingOrBadFields) {
  write_network_calibration(path("calib.json"), example());
  const std::string good = read(path("calib.json"));
  const auto without = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    const std::size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    return write("edited.json", text);
  };
  EXPECT_NE(refusal(without("\"ranks_per_node\"", "\"per_node\"")).find("no \"ranks_per_node\""), std::string::npos);
  EXPECT_NE(refusal(without("\"alpha_seconds\"", "\"alpha\"")).find("no \"alpha_seconds\""), std::string::npos);
  EXPECT_NE(refusal(without("\"ranks\": 4", "\"ranks\": 0")).find("\"ranks\" must be a whole number >= 1"),
            std::string::npos);
  EXPECT_NE(refusal(without("\"ranks\": 4", "\"ranks\": 2.5")).find("\"ranks\""), std::string::npos);
  EXPECT_NE(refusal(without("\"transport\": \"tcp\"", "\"transport\": 3")).find("\"transport\" has the wrong type"),
            std::string::npos);
  EXPECT_NE(refusal(without("\"seconds\": 0.0012", "\"seconds\": -1")).find("\"seconds\" must be >= 0"),
            std::string::npos);
}

}  // namespace
}  // namespace sinapsis::cli
