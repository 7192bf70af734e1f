// Options from INI files (`--config FILE.ini`) and back: a run's effective
// configuration is written as RUN_DIR/config.ini, and `--config
// RUN_DIR/config.ini` repeats the run.
//
// File syntax (Boost.Program_options config files): `name = value` lines,
// `#` comments; keys outside any section apply to every subcommand, keys
// under `[train]` (or `[data make]`, ...) only to that one. Switches take
// true/false. Options given on the command line override the file's.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "launch/options.hpp"

namespace sinapsis::cli {

// A command line split into options with their tokens: ("lr", {"--lr", "0.1"}).
std::vector<std::pair<std::string, Args>> option_groups(const po::options_description& options, const Args& args);

// `stored` with every option that `given` sets (and every one named in
// `always_replaced`) taken out, then `given` appended: later wins.
Args merge_arguments(const po::options_description& options, const Args& stored, const Args& given,
                     const std::vector<std::string>& always_replaced = {});

// args with `--config FILE` replaced by the file's options for `command`
// (those also on the command line are left out). Throws UsageError naming
// the file for an unreadable file, an unknown option or a bad switch value.
// With `pass_unknown`, keys that are not options of `command` are passed on
// as options too (a sweep hands them to its trials' train).
Args expand_config(const std::string& command, const po::options_description& options, const Args& args,
                   bool pass_unknown = false);

// Every option in `values` (defaults included) except those in `skip`, as
// (name, text) in name order.
std::vector<std::pair<std::string, std::string>> option_values(const po::variables_map& values,
                                                               const std::vector<std::string>& skip);

// The INI text of every option in `values` (defaults included) except those
// in `skip`, under a [command] section; an option in `replaced` is written
// with its value there, after a comment line with the value as given.
std::string config_text(const std::string& command, const po::variables_map& values,
                        const std::vector<std::string>& skip,
                        const std::vector<std::pair<std::string, std::string>>& replaced = {});

}  // namespace sinapsis::cli
