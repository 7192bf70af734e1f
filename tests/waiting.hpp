// Waiting in tests for what can be seen to happen (a file appears, a line is
// logged, a process ends), never for a fixed time: a fixed sleep is too short
// on a loaded machine and wasted on a fast one. Every wait polls with a
// generous bound and says whether the event came, so a test fails with a
// message instead of hanging. A job the test starts in the background is
// its child: the test can signal it and collect its exit status.
#pragma once

#include <fcntl.h>      // O_WRONLY, O_CREAT, O_TRUNC for the log
#include <signal.h>     // kill, SIGKILL
#include <spawn.h>      // posix_spawn: the background job
#include <sys/wait.h>   // waitpid
#include <unistd.h>     // pid_t

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>

extern char** environ;

namespace sinapsis::test {

// How long a test waits for an event before it calls it missing: far longer
// than any event takes on a 2-core machine busy with other builds.
inline constexpr std::chrono::seconds kEventBound{120};
// How often a wait looks: short against any work a test interrupts.
inline constexpr std::chrono::milliseconds kPollInterval{10};

// Polls `holds` until it returns true (true) or `within` has passed (false).
template <class Condition>
bool eventually(Condition holds, std::chrono::seconds within = kEventBound) {
  const auto give_up = std::chrono::steady_clock::now() + within;
  while (!holds()) {
    if (std::chrono::steady_clock::now() >= give_up) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
  return true;
}

// Whether `path` exists within `within`. (Files that sinapsis replaces
// atomically, like checkpoint.h5 or a trial's rung-K.csv, are whole once
// they exist.)
inline bool appears(const std::string& path, std::chrono::seconds within = kEventBound) {
  return eventually([&] { return std::filesystem::exists(path); }, within);
}

// The whole text of `path` ("" if it cannot be read).
inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// `sh -c COMMAND` started in the background, stdout and stderr into `log`,
// in a process group of its own. Start COMMAND with `exec` when the test
// signals pid(): then pid() is the program itself, not the shell. A job
// still running when this object goes (a test that failed half-way) is
// ended with its whole group.
class BackgroundCommand {
 public:
  BackgroundCommand(const std::string& command, std::string log) : log_(std::move(log)) {
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&files, STDOUT_FILENO, STDERR_FILENO);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attributes, 0);
    std::string shell = "sh", dash_c = "-c", text = command;
    char* argv[] = {shell.data(), dash_c.data(), text.data(), nullptr};
    if (::posix_spawn(&pid_, "/bin/sh", &files, &attributes, argv, environ) != 0) pid_ = -1;
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&files);
  }
  ~BackgroundCommand() {
    if (!running()) return;
    // TERM first: `timeout` and mpirun pass it on to the ranks, which live
    // in process groups of their own; KILL if that does not end it.
    ::kill(-pid_, SIGTERM);
    if (wait(std::chrono::seconds(30))) return;
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  BackgroundCommand(const BackgroundCommand&) = delete;
  BackgroundCommand& operator=(const BackgroundCommand&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Whether it still runs (collects its status once it ended).
  bool running() {
    if (status_ || pid_ <= 0) return false;
    int raw = 0;
    if (::waitpid(pid_, &raw, WNOHANG) != pid_) return true;
    status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    return false;
  }
  // Its exit status (128 + signal if a signal ended it) once it ended
  // within `within`; nullopt while it runs.
  std::optional<int> wait(std::chrono::seconds within = kEventBound) {
    eventually([&] { return !running(); }, within);
    return status_;
  }
  // What it printed so far.
  std::string log() const { return read_text(log_); }

 private:
  std::string log_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

}  // namespace sinapsis::test
