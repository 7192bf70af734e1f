#include "launch/output_paths.hpp"

#include <glob.h>  // glob: inputs given as patterns

#include <filesystem>
#include <system_error>

#include "core/error.hpp"

namespace sinapsis::cli {
namespace {

namespace fs = std::filesystem;

// The existing files an input names: itself, or what its glob matches.
std::vector<fs::path> existing_files(const std::string& spec) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (fs::exists(spec, ec)) {
    files.emplace_back(spec);
  } else if (spec.find_first_of("*?[") != std::string::npos) {
    glob_t matches{};
    if (::glob(spec.c_str(), 0, nullptr, &matches) == 0)
      for (std::size_t i = 0; i < matches.gl_pathc; ++i) files.emplace_back(matches.gl_pathv[i]);
    ::globfree(&matches);
  }
  return files;
}

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  return fs::equivalent(a, b, ec) && !ec;
}

// Whether `directory` is `file` or one of the directories above it.
bool holds(const fs::path& directory, const fs::path& file) {
  std::error_code ec;
  fs::path at = fs::canonical(file, ec);
  if (ec) return false;
  for (;;) {
    if (same_file(directory, at)) return true;
    if (at == at.parent_path()) return false;
    at = at.parent_path();
  }
}

}  // namespace

void refuse_output_over_inputs(const NamedPath& output, const std::vector<NamedPath>& inputs) {
  std::error_code ec;
  if (!fs::exists(output.path, ec)) return;  // a new file cannot be an existing input
  const bool directory = fs::is_directory(output.path, ec);
  for (const auto& input : inputs) {
    if (input.path.empty()) continue;
    for (const auto& file : existing_files(input.path)) {
      if (same_file(output.path, file))
        throw UsageError(output.option + " " + output.path + " is " + input.option + " " + input.path +
                         ": an output cannot replace an input");
      // An input directory (a shard set) is read file by file: none of them may be replaced.
      if (!directory && fs::is_directory(file, ec) && holds(file, output.path))
        throw UsageError(output.option + " " + output.path + " is a file of " + input.option + " " + input.path +
                         ": an output cannot replace an input");
      if (directory && holds(output.path, file))
        throw UsageError(output.option + " " + output.path + " holds " + input.option + " " +
                         (file.string() == input.path ? input.path : input.path + " (" + file.string() + ")") +
                         ": an output cannot replace an input");
    }
  }
}

void refuse_existing_output(const NamedPath& output, bool overwrite) {
  std::error_code ec;
  const auto status = fs::symlink_status(output.path, ec);
  if (ec || !fs::exists(status)) return;
  if (fs::is_directory(output.path, ec))
    throw UsageError(output.option + " " + output.path + " is a directory; name a file to write");
  if (!overwrite)
    throw UsageError(output.option + " " + output.path + " exists; pass --overwrite to replace it");
}

}  // namespace sinapsis::cli
