#include "launch/network_calibration.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "io/atomic_file.hpp"
#include "io/json_text.hpp"

namespace sinapsis::cli {
namespace {

[[noreturn]] void refuse(const std::string& path, const std::string& what) {
  throw UsageError("--network: " + path + ": " + what);
}

using nlohmann::ordered_json;

const ordered_json& field(const JsonDocument& json, const ordered_json& object, const std::string& key, JsonTypeCheck is,
                          const std::string& path) {
  const auto value = object.find(key);
  if (value == object.end())
    refuse(path, "no \"" + key + "\" (not a network calibration written by sinapsis info --network)");
  if (!((*value).*is)()) refuse(path, "line " + std::to_string(json.line(*value)) + ": \"" + key + "\" has the wrong type");
  return *value;
}

// A number >= minimum (and whole, if asked).
double number(const JsonDocument& json, const ordered_json& object, const std::string& key, const std::string& path,
              double minimum, bool whole = false) {
  const ordered_json& value = field(json, object, key, &ordered_json::is_number, path);
  const double got = value.get<double>();
  if (!(got >= minimum) || !std::isfinite(got) || (whole && got != std::floor(got)))
    refuse(path, "line " + std::to_string(json.line(value)) + ": \"" + key + "\" must be " +
                     (whole ? "a whole number " : "") + ">= " + std::to_string(int(minimum)) + ", got " +
                     std::to_string(got));
  return got;
}

// The file's text as JSON; a DataError of read_json becomes the UsageError of --network.
JsonDocument read_document(const std::string& text, const std::string& path) {
  try {
    return read_json(text, path);
  } catch (const DataError& e) {
    throw UsageError(std::string("--network: ") + e.what());
  }
}

}  // namespace

void write_network_calibration(const std::string& path, const NetworkCalibration& calibration) {
  ordered_json samples = ordered_json::array();
  for (const auto& sample : calibration.samples) samples.push_back({{"bytes", sample.bytes}, {"seconds", sample.seconds}});
  const ordered_json json = {{"format", kNetworkCalibrationFormat},
                             {"version", calibration.version},
                             {"sinapsis_version", calibration.sinapsis_version},
                             {"ranks", calibration.ranks},
                             {"hosts", calibration.hosts},
                             {"ranks_per_node", calibration.ranks_per_node},
                             {"transport", calibration.transport},
                             {"link",
                              {{"alpha_seconds", calibration.link.alpha},
                               {"beta_seconds_per_byte", calibration.link.beta},
                               {"gamma_seconds_per_byte", calibration.link.gamma}}},
                             {"samples", samples}};
  const std::string text = json_text(json) + "\n";
  write_file_atomically(path, text);
}

NetworkCalibration read_network_calibration(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) refuse(path, "cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  const JsonDocument document = read_document(text.str(), path);
  const ordered_json& json = document.value();
  if (!json.is_object()) refuse(path, "not a JSON object");
  const auto format = json.find("format");
  if (format == json.end() || *format != kNetworkCalibrationFormat)
    refuse(path, std::string("not a network calibration (no \"format\": \"") + kNetworkCalibrationFormat +
                     "\"; write one with sinapsis info --network --out FILE)");
  NetworkCalibration c;
  c.version = int(number(document, json, "version", path, 0, true));
  if (c.version != kNetworkCalibrationVersion)
    refuse(path, "version " + std::to_string(c.version) + ", this sinapsis reads version " +
                     std::to_string(kNetworkCalibrationVersion) + " (measure again with sinapsis info --network)");
  c.sinapsis_version = field(document, json, "sinapsis_version", &ordered_json::is_string, path).get<std::string>();
  c.ranks = int(number(document, json, "ranks", path, 1, true));
  c.hosts = int(number(document, json, "hosts", path, 1, true));
  c.ranks_per_node = int(number(document, json, "ranks_per_node", path, 1, true));
  c.transport = field(document, json, "transport", &ordered_json::is_string, path).get<std::string>();
  const ordered_json& link = field(document, json, "link", &ordered_json::is_object, path);
  c.link = {number(document, link, "alpha_seconds", path, 0), number(document, link, "beta_seconds_per_byte", path, 0),
            number(document, link, "gamma_seconds_per_byte", path, 0)};
  for (const ordered_json& sample : field(document, json, "samples", &ordered_json::is_array, path)) {
    if (!sample.is_object())
      refuse(path, "line " + std::to_string(document.line(sample)) +
                       ": a sample must be an object {\"bytes\", \"seconds\"}");
    c.samples.push_back({number(document, sample, "bytes", path, 0), number(document, sample, "seconds", path, 0)});
  }
  return c;
}

}  // namespace sinapsis::cli
