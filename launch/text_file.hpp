// Reading back the text files sinapsis writes (metrics.csv, config.ini,
// trials.csv, summary.json, plans), whole and checked: a file that is
// missing, too large, cut short or not what sinapsis writes is a DataError
// naming the file (and the line).
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sinapsis::cli {

// Whether `file` exists (false when it cannot even be looked at).
bool present(const std::filesystem::path& file);

// The whole file; DataError if it is missing, not a regular file, larger
// than sinapsis reads (1 GiB: a million epochs of metrics are ~150 MB) or
// unreadable.
std::string read_text_file(const std::filesystem::path& file);

// Calls each(line number, line) for every line of a file sinapsis wrote
// whole: not empty, ending with a newline, no empty line inside. A '\r'
// before the newline is dropped.
void for_each_line(std::string_view text, const std::string& source,
                   const std::function<void(std::size_t, std::string_view)>& each);

// The comma-separated fields of a CSV line (no quoting: sinapsis writes none).
std::vector<std::string_view> split_fields(std::string_view line);

}  // namespace sinapsis::cli
