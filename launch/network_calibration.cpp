#include "launch/network_calibration.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "io/atomic_file.hpp"
#include "io/json.hpp"

namespace sinapsis::cli {
namespace {

[[noreturn]] void refuse(const std::string& path, const std::string& what) {
  throw UsageError("--network: " + path + ": " + what);
}

const JsonValue& field(const JsonValue& object, const std::string& key, JsonValue::Type type,
                       const std::string& path) {
  const JsonValue* value = object.find(key);
  if (value == nullptr) refuse(path, "no \"" + key + "\" (not a network calibration written by sinapsis info --network)");
  if (value->type != type) refuse(path, "line " + std::to_string(value->line) + ": \"" + key + "\" has the wrong type");
  return *value;
}

// A number >= minimum (and whole, if asked).
double number(const JsonValue& object, const std::string& key, const std::string& path, double minimum,
              bool whole = false) {
  const JsonValue& value = field(object, key, JsonValue::Type::number, path);
  if (!(value.number >= minimum) || !std::isfinite(value.number) || (whole && value.number != std::floor(value.number)))
    refuse(path, "line " + std::to_string(value.line) + ": \"" + key + "\" must be " + (whole ? "a whole number " : "") +
                     ">= " + std::to_string(int(minimum)) + ", got " + std::to_string(value.number));
  return value.number;
}

}  // namespace

void write_network_calibration(const std::string& path, const NetworkCalibration& calibration) {
  std::vector<JsonObject> samples;
  for (const auto& sample : calibration.samples)
    samples.push_back(JsonObject().add("bytes", sample.bytes).add("seconds", sample.seconds));
  const JsonObject link = JsonObject()
                              .add("alpha_seconds", calibration.link.alpha)
                              .add("beta_seconds_per_byte", calibration.link.beta)
                              .add("gamma_seconds_per_byte", calibration.link.gamma);
  const JsonObject json = JsonObject()
                              .add("format", kNetworkCalibrationFormat)
                              .add("version", calibration.version)
                              .add("sinapsis_version", calibration.sinapsis_version)
                              .add("ranks", calibration.ranks)
                              .add("hosts", calibration.hosts)
                              .add("ranks_per_node", calibration.ranks_per_node)
                              .add("transport", calibration.transport)
                              .add("link", link)
                              .add("samples", samples);
  const std::string text = json.text() + "\n";
  write_file_atomically(path, text);
}

NetworkCalibration read_network_calibration(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) refuse(path, "cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  JsonValue json;
  try {
    json = read_json(text.str(), path);
  } catch (const DataError& e) {
    throw UsageError(std::string("--network: ") + e.what());
  }
  if (json.type != JsonValue::Type::object) refuse(path, "not a JSON object");
  const JsonValue* format = json.find("format");
  if (format == nullptr || format->type != JsonValue::Type::string || format->text != kNetworkCalibrationFormat)
    refuse(path, std::string("not a network calibration (no \"format\": \"") + kNetworkCalibrationFormat +
                     "\"; write one with sinapsis info --network --out FILE)");
  NetworkCalibration c;
  c.version = int(number(json, "version", path, 0, true));
  if (c.version != kNetworkCalibrationVersion)
    refuse(path, "version " + std::to_string(c.version) + ", this sinapsis reads version " +
                     std::to_string(kNetworkCalibrationVersion) + " (measure again with sinapsis info --network)");
  c.sinapsis_version = field(json, "sinapsis_version", JsonValue::Type::string, path).text;
  c.ranks = int(number(json, "ranks", path, 1, true));
  c.hosts = int(number(json, "hosts", path, 1, true));
  c.ranks_per_node = int(number(json, "ranks_per_node", path, 1, true));
  c.transport = field(json, "transport", JsonValue::Type::string, path).text;
  const JsonValue& link = field(json, "link", JsonValue::Type::object, path);
  c.link = {number(link, "alpha_seconds", path, 0), number(link, "beta_seconds_per_byte", path, 0),
            number(link, "gamma_seconds_per_byte", path, 0)};
  for (const JsonValue& sample : field(json, "samples", JsonValue::Type::array, path).items) {
    if (sample.type != JsonValue::Type::object)
      refuse(path, "line " + std::to_string(sample.line) + ": a sample must be an object {\"bytes\", \"seconds\"}");
    c.samples.push_back({number(sample, "bytes", path, 0), number(sample, "seconds", path, 0)});
  }
  return c;
}

}  // namespace sinapsis::cli
