#include "launch/options.hpp"

#include <cmath>
#include <iostream>
#include <sstream>
#include <thread>

#include "core/error.hpp"
#include "launch/config_file.hpp"
#include "launch/host_layout.hpp"

namespace sinapsis::cli {

bool parse(const std::string& command, const Args& args, po::options_description& options,
           po::variables_map& values, const std::string& synopsis,
           const po::positional_options_description* positional) {
  const std::string config_help = "read options from this INI file (name = value lines, a [" + command +
                                  "] section); the command line overrides it";
  options.add_options()
    ("help,h", "show this help and exit")
    ("config", po::value<std::string>(), config_help.c_str());
  try {
    po::command_line_parser parser(expand_config(command, options, args));
    parser.options(options);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), values);
    if (values.count("help")) {
      std::cout << "usage: sinapsis " << command << " " << synopsis << "\n\n" << options << "\n";
      return false;
    }
    po::notify(values);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  return true;
}

std::vector<std::size_t> parse_size_list(const std::string& text, const std::string& option) {
  std::vector<std::size_t> sizes;
  if (text.empty() || text == "none") return sizes;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    std::size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || item.empty() || value < 1)
      throw UsageError("--" + option + ": '" + text + "' is not a comma-separated list of sizes >= 1");
    sizes.push_back(std::size_t(value));
  }
  return sizes;
}

std::vector<std::string> parse_name_list(const std::string& text) {
  std::vector<std::string> names;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) names.push_back(item);
  return names;
}

namespace {
std::string number(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}
}  // namespace

void require_positive(double value, const std::string& option) {
  if (!(value > 0) || !std::isfinite(value))
    throw UsageError("--" + option + " must be > 0, got " + number(value));
}

void require_non_negative(double value, const std::string& option) {
  if (!(value >= 0) || !std::isfinite(value))
    throw UsageError("--" + option + " must be >= 0, got " + number(value));
}

void require_in_unit_interval(double value, const std::string& option) {
  if (!(value > 0 && value <= 1))
    throw UsageError("--" + option + " must be in (0, 1], got " + number(value));
}

int resolve_threads(int requested) {
  // One process alone on its host: all the cores.
  const int cores = std::max(1, int(std::thread::hardware_concurrency()));
  return resolve_threads(requested, HostLayout{{"localhost"}, {cores}, 0});
}

}  // namespace sinapsis::cli
