#include "launch/options.hpp"

#include <iostream>
#include <sstream>
#include <thread>

#include "core/error.hpp"
#include "core/number_text.hpp"
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
    const po::parsed_options parsed = parser.run();
    // A word no option takes (an unquoted glob's second file, a stray
    // value) would be dropped without a word: refuse it.
    for (const po::option& o : parsed.options)
      if (o.string_key.empty() && !o.value.empty())
        throw UsageError("unexpected argument '" + o.value.front() + "' (every value follows its option, such as "
                         "--data FILE; quote a glob so the shell passes it whole: --data 'shards/*.h5')");
    po::store(parsed, values);
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

po::variables_map parse_known(const Args& args, const po::options_description& known) {
  po::variables_map values;
  try {
    po::store(po::command_line_parser(args).options(known).allow_unregistered().run(), values);
    po::notify(values);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  return values;
}

std::string option_text(const std::string& option, const std::string& value) {
  // A sweep's --hidden of a million layers is a valid value, not a line.
  constexpr std::size_t kLongest = 80;
  const std::string shown =
      value.size() <= kLongest ? value : value.substr(0, kLongest / 2) + "..." + value.substr(value.size() - kLongest / 2 + 3);
  return "--" + option + ": '" + shown + "'";
}

namespace {
std::string number(double value) { return significant(value, 15); }  // 10000000, not 1e+07
}  // namespace

std::string Bounds::text() const {
  const bool bounded_below = std::isfinite(low), bounded_above = std::isfinite(high);
  if (bounded_below && bounded_above)
    return "in " + std::string(low_open ? "(" : "[") + number(low) + ", " + number(high) + (high_open ? ")" : "]");
  if (bounded_below) return (low_open ? "> " : ">= ") + number(low);
  if (bounded_above) return (high_open ? "< " : "<= ") + number(high);
  return "";
}

Bounds at_least(double low) { return {.low = low}; }
Bounds above(double low) { return {.low = low, .low_open = true}; }
Bounds closed(double low, double high) { return {.low = low, .high = high}; }
Bounds closed_open(double low, double high) { return {.low = low, .high = high, .high_open = true}; }
Bounds open_closed(double low, double high) { return {.low = low, .high = high, .low_open = true}; }
Bounds open_open(double low, double high) { return {.low = low, .high = high, .low_open = true, .high_open = true}; }

const char* InvalidNumber::what() const noexcept {
  // get_option_name() is "--name" once store() has added the context.
  std::string name = get_option_name();
  if (name.rfind("--", 0) == 0) name.erase(0, 2);
  m_message = option_text(name, token_) + " " + reason_;
  return m_message.c_str();
}

std::vector<std::size_t> parse_size_list(const std::string& text, const std::string& option) {
  std::vector<std::size_t> sizes;
  if (text.empty() || text == "none") return sizes;
  const auto bad = [&] { return UsageError(option_text(option, text) + " is not a comma-separated list of sizes >= 1"); };
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) {
    // "8, 8" as typed in a shell or an INI file
    const auto first = item.find_first_not_of(' '), last = item.find_last_not_of(' ');
    std::size_t size = 0;
    if (first == std::string::npos || !read_number(item.substr(first, last - first + 1), at_least(1), size).empty())
      throw bad();
    sizes.push_back(size);
  }
  if (text.back() == ',') throw bad();
  return sizes;
}

std::vector<std::string> parse_name_list(const std::string& text) {
  std::vector<std::string> names;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) names.push_back(item);
  return names;
}

int resolve_threads(int requested) {
  // One process alone on its host: all the cores.
  const int cores = std::max(1, int(std::thread::hardware_concurrency()));
  return resolve_threads(requested, HostLayout{{"localhost"}, {cores}, 0});
}

std::vector<CommandOptions> every_command_options() {
  std::vector<CommandOptions> all;
  for (auto part : {train_options, sweep_options, predict_options, report_options, info_options, data_options, plan_options})
    for (auto& command : part()) all.push_back(std::move(command));
  return all;
}

}  // namespace sinapsis::cli
