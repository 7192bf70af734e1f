#include "launch/config_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "launch/options.hpp"

namespace sinapsis::cli {
namespace {

// The shortest decimal text that reads back as the same double.
std::string shortest(double value) {
  for (int digits = 6; digits <= 17; ++digits) {
    std::ostringstream text;
    text.precision(digits);
    text << value;
    if (std::stod(text.str()) == value) return text.str();
  }
  return std::to_string(value);
}

std::string value_text(const boost::any& value) {
  if (const auto* v = boost::any_cast<std::string>(&value)) return *v;
  if (const auto* v = boost::any_cast<double>(&value)) return shortest(*v);
  if (const auto* v = boost::any_cast<bool>(&value)) return *v ? "true" : "false";
  if (const auto* v = boost::any_cast<int>(&value)) return std::to_string(*v);
  if (const auto* v = boost::any_cast<std::size_t>(&value)) return std::to_string(*v);
  if (const auto* v = boost::any_cast<std::uint64_t>(&value)) return std::to_string(*v);
  if (const auto* v = boost::any_cast<std::int64_t>(&value)) return std::to_string(*v);
  if (const auto* v = boost::any_cast<std::vector<std::string>>(&value)) {
    std::string joined;
    for (const auto& item : *v) joined += (joined.empty() ? "" : ",") + item;
    return joined;
  }
  return "";
}

bool is_switch(const po::option_description& option) { return option.semantic()->max_tokens() == 0; }

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// " (did you mean [train]?)" for the command nearest `section`, if near.
std::string nearest_command(const std::string& section, const std::vector<CommandOptions>& commands) {
  std::string best;
  std::size_t distance = 3;  // farther is no suggestion
  for (const auto& c : commands)
    if (const std::size_t d = edit_distance(section, c.command); d < distance) {
      distance = d;
      best = c.command;
    }
  return best.empty() ? "" : " (did you mean [" + best + "]?)";
}

}  // namespace

std::vector<std::pair<std::string, Args>> option_groups(const po::options_description& options, const Args& args) {
  std::vector<std::pair<std::string, Args>> groups;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i].substr(args[i].rfind("--", 0) == 0 ? 2 : 0);
    Args tokens{args[i]};
    if (const auto eq = name.find('='); eq != std::string::npos) {
      name = name.substr(0, eq);
    } else if (const auto* option = options.find_nothrow(name, false);
               option && option->semantic()->max_tokens() > 0 && i + 1 < args.size()) {
      tokens.push_back(args[++i]);
    }
    groups.emplace_back(name, tokens);
  }
  return groups;
}

Args merge_arguments(const po::options_description& options, const Args& stored, const Args& given,
                     const std::vector<std::string>& always_replaced) {
  const auto now = option_groups(options, given);
  Args merged;
  for (const auto& [name, tokens] : option_groups(options, stored)) {
    const bool replaced =
        std::find(always_replaced.begin(), always_replaced.end(), name) != always_replaced.end() ||
        std::any_of(now.begin(), now.end(), [&](const auto& g) { return g.first == name; });
    if (!replaced) merged.insert(merged.end(), tokens.begin(), tokens.end());
  }
  for (const auto& [name, tokens] : now) merged.insert(merged.end(), tokens.begin(), tokens.end());
  return merged;
}

Args expand_config(const std::string& command, const po::options_description& options, const Args& args,
                   bool pass_unknown) {
  // Take --config FILE / --config=FILE out (the option may not be in
  // `options` yet: parse() adds it).
  Args given;
  std::string file;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config") {
      if (i + 1 >= args.size()) throw UsageError("--config needs a file name");
      file = args[++i];
    } else if (args[i].rfind("--config=", 0) == 0) {
      file = args[i].substr(9);
    } else {
      given.push_back(args[i]);
    }
  }
  if (file.empty()) return args;
  std::ifstream in(file);
  if (!in) throw UsageError("--config: cannot read " + file);
  po::parsed_options parsed(nullptr);
  try {
    parsed = po::parse_config_file(in, po::options_description{}, true);
  } catch (const po::error& e) {
    throw UsageError("--config " + file + ": " + e.what());
  }
  // Every command's options: a section must name a command, and a key
  // outside any section (it applies to every command) must be an option of
  // at least one (a command without it ignores it).
  const std::vector<CommandOptions> commands = every_command_options();
  const auto has = [&](const std::string& which, const std::string& name) {
    for (const auto& c : commands)
      if (c.command == which && c.options->find_nothrow(name, false)) return true;
    return false;
  };
  const auto anywhere = [&](const std::string& name) {
    for (const auto& c : commands)
      if (c.options->find_nothrow(name, false)) return true;
    return false;
  };
  Args from_file;
  for (const auto& entry : parsed.options) {
    std::string name = entry.string_key;
    const auto dot = name.rfind('.');
    const bool top_level = dot == std::string::npos;
    if (!top_level) {
      const std::string section = name.substr(0, dot);
      if (std::none_of(commands.begin(), commands.end(), [&](const auto& c) { return c.command == section; }))
        throw UsageError("--config " + file + ": section [" + section + "] is not a sinapsis command" +
                         nearest_command(section, commands));
      if (section != command) continue;  // another command's section
      name = name.substr(dot + 1);
    }
    const std::string value = entry.value.empty() ? "" : entry.value.front();
    const auto* option = options.find_nothrow(name, false);
    // A sweep passes options it does not have to its trials' train: those
    // of its own section, and the top-level ones train has.
    if (option == nullptr && pass_unknown && name != "config" && name != "help" &&
        (!top_level || has("train", name))) {
      // A switch is written `name = true`.
      if (value == "true") from_file.push_back("--" + name);
      else if (value != "false") from_file.insert(from_file.end(), {"--" + name, value});
      continue;
    }
    if (option == nullptr && top_level && name != "config" && name != "help" && anywhere(name)) continue;
    if (option == nullptr || name == "config" || name == "help")
      throw UsageError("--config " + file + ": '" + name + "' is not an option of " +
                       (top_level ? std::string("any sinapsis command") : "sinapsis " + command));
    if (!is_switch(*option)) {
      from_file.insert(from_file.end(), {"--" + name, value});
    } else if (value == "true" || value == "1" || value == "yes") {
      from_file.push_back("--" + name);
    } else if (value != "false" && value != "0" && value != "no") {
      throw UsageError("--config " + file + ": " + name + " is a switch (true or false), got '" + value + "'");
    }
  }
  return merge_arguments(options, from_file, given);
}

std::vector<std::pair<std::string, std::string>> option_values(const po::variables_map& values,
                                                               const std::vector<std::string>& skip) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : values) {
    if (name == "help" || name == "config" || std::find(skip.begin(), skip.end(), name) != skip.end()) continue;
    if (value.value().empty()) continue;
    out.emplace_back(name, value_text(value.value()));
  }
  return out;
}

std::string config_text(const std::string& command, const po::variables_map& values,
                        const std::vector<std::string>& skip,
                        const std::vector<std::pair<std::string, std::string>>& replaced) {
  std::ostringstream text;
  text << "# The effective configuration of this run (defaults included).\n"
       << "# Repeat it: sinapsis " << command << " --config THIS_FILE --out NEW_RUN_DIR\n"
       << "[" << command << "]\n";
  for (const auto& [name, value] : option_values(values, skip)) {
    const auto now = std::find_if(replaced.begin(), replaced.end(), [&](const auto& r) { return r.first == name; });
    if (now == replaced.end() || now->second == value) {
      text << name << " = " << value << "\n";
      continue;
    }
    text << "# " << name << " as given: " << value << "\n" << name << " = " << now->second << "\n";
  }
  return text.str();
}

}  // namespace sinapsis::cli
