#include "launch/subprocess.hpp"

#include <fcntl.h>     // O_CLOEXEC, O_RDONLY
#include <signal.h>    // sigset_t
#include <spawn.h>     // posix_spawn
#include <sys/stat.h>  // stat
#include <sys/wait.h>  // waitpid
#include <unistd.h>    // pipe2, read, access, environ

#include <array>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace sinapsis::cli {
namespace {

[[noreturn]] void fail(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

// A file descriptor closed when it goes out of scope.
struct Descriptor {
  int fd = -1;
  ~Descriptor() { close(); }
  void close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

// posix_spawn's file actions and attributes, released with the scope.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

bool is_executable_file(const std::string& path) {
  struct stat status {};
  return ::stat(path.c_str(), &status) == 0 && S_ISREG(status.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// Absolute, so that a program found relative to our directory is still the
// one run when run_program starts it in another.
std::string absolute(const std::string& path) { return std::filesystem::absolute(path).lexically_normal().string(); }

}  // namespace

ProgramResult run_program(const std::string& program, const std::vector<std::string>& arguments,
                          const std::string& working_directory) {
  const std::string where = "cannot run " + program + (working_directory.empty() ? "" : " in " + working_directory);
  std::array<int, 2> pipe_ends{};
  if (::pipe2(pipe_ends.data(), O_CLOEXEC) != 0) fail(errno, where);
  Descriptor read_end{pipe_ends[0]}, write_end{pipe_ends[1]};
  SpawnSetup setup;
  // The child reads nothing (a program waiting for input would hang us) and
  // writes stdout and stderr into the one pipe, in the order it writes them.
  posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, write_end.fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, write_end.fd, STDERR_FILENO);
  if (!working_directory.empty()) posix_spawn_file_actions_addchdir_np(&setup.actions, working_directory.c_str());
  // It starts with no signal blocked and the default action for the signals
  // that train catches or a launcher may have ignored: Ctrl-C ends it too.
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (const int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGCHLD})
    sigaddset(&defaults, signal);
  posix_spawnattr_setsigmask(&setup.attributes, &none);
  posix_spawnattr_setsigdefault(&setup.attributes, &defaults);
  posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> argv{const_cast<char*>(program.c_str())};
  for (const auto& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (const int error = posix_spawn(&pid, program.c_str(), &setup.actions, &setup.attributes, argv.data(), environ))
    fail(error, where);
  write_end.close();  // the child holds the only writer: end of file when it exits

  ProgramResult result;
  std::array<char, 4096> buffer{};
  for (;;) {
    const ssize_t got = ::read(read_end.fd, buffer.data(), buffer.size());
    if (got > 0) result.output.append(buffer.data(), std::size_t(got));
    else if (got == 0 || errno != EINTR) break;  // end of file (or a pipe that broke: wait for the child anyway)
  }
  int raw = 0;
  while (::waitpid(pid, &raw, 0) < 0)
    if (errno != EINTR) fail(errno, "waiting for " + program);
  result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  return result;
}

std::optional<std::string> find_program(const std::string& name, std::string_view search_path) {
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos)
    return is_executable_file(name) ? std::optional(absolute(name)) : std::nullopt;
  if (search_path.empty()) return std::nullopt;
  for (std::size_t start = 0;;) {
    const std::size_t end = search_path.find(':', start);
    const std::string directory(search_path.substr(start, end == std::string_view::npos ? end : end - start));
    const std::string candidate = (directory.empty() ? std::string(".") : directory) + "/" + name;
    if (is_executable_file(candidate)) return absolute(candidate);
    if (end == std::string_view::npos) return std::nullopt;
    start = end + 1;
  }
}

std::optional<std::string> find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  return path == nullptr ? std::nullopt : find_program(name, path);
}

}  // namespace sinapsis::cli
