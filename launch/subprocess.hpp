// Running another program (gnuplot for the report) from an argument vector,
// never through a shell: a path with a space, a quote or `; rm -rf ~` in it
// is one argument like any other, and nothing in it is ever interpreted.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sinapsis::cli {

struct ProgramResult {
  int status = 0;      // its exit status; 128 + the signal if a signal ended it
  std::string output;  // everything it wrote to stdout and stderr, interleaved as written
};

// Runs `program` (a path, as find_program returns) with `arguments` (argv[1]
// on), stdin from /dev/null, in `working_directory` ("" = ours), and waits for
// it. Throws std::system_error naming the program if it cannot be started
// (missing, not executable, working directory missing).
ProgramResult run_program(const std::string& program, const std::vector<std::string>& arguments,
                          const std::string& working_directory = "");

// The executable file `name` resolves to as execvp would resolve it: a name
// with a '/' as it is, otherwise the first directory of `search_path` (a
// PATH-style list; an empty entry is the current directory) holding an
// executable regular file of that name. nullopt if there is none.
std::optional<std::string> find_program(const std::string& name, std::string_view search_path);
// The same over this process's PATH (unset PATH: nothing is found).
std::optional<std::string> find_program(const std::string& name);

}  // namespace sinapsis::cli
