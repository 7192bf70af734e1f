// Helpers shared by the subcommands' option parsing: parsing with Boost,
// range checks that name the option and value, and list options.
#pragma once

#include <boost/program_options.hpp>  // options_description, variables_map

#include <cstddef>
#include <string>
#include <vector>

#include "launch/commands.hpp"

namespace sinapsis::cli {

namespace po = boost::program_options;

// Parses args against `options`; returns false (after printing help) when
// --help was given. Boost's errors become UsageError naming the option.
bool parse(const std::string& command, const Args& args, po::options_description& options,
           po::variables_map& values, const std::string& synopsis,
           const po::positional_options_description* positional = nullptr);

// "a,b,c" -> {"a", "b", "c"}.
std::vector<std::string> parse_name_list(const std::string& text);

// "8,8" -> {8, 8}; "" or "none" -> {}. Throws UsageError naming `option`.
std::vector<std::size_t> parse_size_list(const std::string& text, const std::string& option);

void require_positive(double value, const std::string& option);
void require_non_negative(double value, const std::string& option);
void require_in_unit_interval(double value, const std::string& option);  // (0, 1]
// Threads for BLAS: 0 means the cores of this host.
// BLAS threads for a command that runs as one process: --threads N, or all
// the cores for 0 (see host_layout.hpp for ranks sharing a host).
int resolve_threads(int requested);

}  // namespace sinapsis::cli
