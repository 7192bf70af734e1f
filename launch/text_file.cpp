#include "launch/text_file.hpp"

#include <fstream>
#include <sstream>
#include <system_error>

#include "core/error.hpp"

namespace sinapsis::cli {
namespace {

namespace fs = std::filesystem;

// More than any report needs (a million epochs of metrics are ~150 MB): a
// bigger file is refused rather than read into memory.
constexpr std::uintmax_t kMaxInputBytes = std::uintmax_t(1) << 30;

}  // namespace

bool present(const fs::path& file) {
  std::error_code error;
  return fs::exists(file, error);
}

std::string read_text_file(const fs::path& file) {
  std::error_code error;
  if (!fs::exists(file, error)) throw DataError(file.string() + ": missing");
  if (!fs::is_regular_file(file, error)) throw DataError(file.string() + ": not a regular file");
  if (const auto bytes = fs::file_size(file, error); !error && bytes > kMaxInputBytes)
    throw DataError(file.string() + ": " + std::to_string(bytes) + " bytes, more than sinapsis reads (" +
                    std::to_string(kMaxInputBytes) + ")");
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) throw DataError(file.string() + ": cannot be read");
  return text.str();
}

// Calls each(line number, line) for every line of a file sinapsis wrote
// whole: not empty, ending with a newline, no empty line inside. A '\r'
// before the newline is dropped.
void for_each_line(std::string_view text, const std::string& source,
                   const std::function<void(std::size_t, std::string_view)>& each) {
  if (text.empty()) throw DataError(source + ": the file is empty");
  std::size_t number = 1;
  for (std::size_t start = 0; start < text.size(); ++number) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos)
      throw DataError(source + " line " + std::to_string(number) + ": cut short (the file does not end with a newline)");
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) throw DataError(source + " line " + std::to_string(number) + ": empty");
    each(number, line);
    start = end + 1;
  }
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  for (std::size_t start = 0;;) {
    const std::size_t comma = line.find(',', start);
    fields.push_back(line.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

}  // namespace sinapsis::cli
