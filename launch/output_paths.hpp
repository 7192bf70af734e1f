// Where a command writes, checked before it reads or computes anything, the
// same way by every command: an output never replaces one of the command's
// own inputs (not even with --overwrite), and never replaces existing data
// unless --overwrite is given.
#pragma once

#include <string>
#include <vector>

namespace sinapsis::cli {

// A path as the user gave it, with the option that gave it (for messages).
struct NamedPath {
  std::string option;  // "--out", "--data"
  std::string path;
};

// Throws UsageError, naming both options and paths, when `output` is one of
// `inputs` or an existing file inside an input directory (a shard set), or
// is a directory that holds one of them (at any depth). Paths
// are compared as files, not as text: relative paths, ./ and .., symbolic
// and hard links all name the file they lead to. An input given as a glob
// stands for every file it matches; inputs that do not exist are skipped
// (the command reports them when it reads them).
void refuse_output_over_inputs(const NamedPath& output, const std::vector<NamedPath>& inputs);

// Throws UsageError when `output` exists and `overwrite` is false, and when
// it is a directory where a command writes a file.
void refuse_existing_output(const NamedPath& output, bool overwrite);

}  // namespace sinapsis::cli
