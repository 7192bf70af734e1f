#include "launch/run_directory.hpp"

#include <filesystem>
#include <system_error>

#include "core/error.hpp"

namespace sinapsis::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kLockFile = ".lock";

// Leftovers of writes that a killed process never finished (name.tmp.PID).
void remove_temporaries(const fs::path& dir) {
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    for (const char* file : kRunFiles)
      if (name.rfind(std::string(file) + ".tmp.", 0) == 0) fs::remove_all(entry.path(), error);
  }
}

void remove_file(const fs::path& path) {
  std::error_code error;
  fs::remove_all(path, error);
  if (error) throw DataError(path.string() + ": cannot be removed: " + error.message());
}

}  // namespace

std::optional<std::string> run_file_in(const std::string& dir) {
  std::error_code error;
  for (const char* file : kRunFiles)
    if (fs::exists(fs::path(dir) / file, error)) return std::string(file);
  return std::nullopt;
}

std::optional<std::string> run_writer(const std::string& dir) {
  return FileLock::holder((fs::path(dir) / kLockFile).string());
}

RunDirectory::RunDirectory(std::string dir, Mode mode, const std::string& option, const std::string& holder)
    : dir_(std::move(dir)), mode_(mode) {
  std::error_code error;
  if (!fs::exists(dir_, error)) {
    created_ = fs::create_directories(dir_, error);
    if (error) throw UsageError(option + ": " + dir_ + " cannot be created: " + error.message());
  } else if (!fs::is_directory(dir_, error)) {
    throw UsageError(option + ": " + dir_ + " exists and is not a directory");
  }
  try {
    lock_.emplace(file(kLockFile), FileLock::Range{}, holder, FileLock::Wait::no);
  } catch (const LockHeld& e) {
    throw UsageError(option + ": " + dir_ + " is in use by " + e.holder + "; wait for it to end or choose another " +
                     option);
  } catch (const DataError& e) {
    throw UsageError(option + ": " + e.what());
  }
  if (mode_ == Mode::fresh)
    if (const auto found = run_file_in(dir_))
      throw UsageError(option + ": " + dir_ + " already holds a run (" + *found + "); " +
                       (*found == "checkpoint.h5" && !fs::exists(file("model.h5"))
                            ? "it was stopped before the end: continue it with --resume " + dir_ + ", or "
                            : std::string()) +
                       "pass --overwrite to replace it");
}

RunDirectory::~RunDirectory() {
  if (written_) return;
  // Nothing of ours was written: leave no trace of this job. (The lock file
  // goes while we hold it: a job that opened it meanwhile locks a file
  // without a name and proceeds as if it had locked this one, which is
  // what it would have done a moment later.)
  std::error_code error;
  fs::remove(file(kLockFile), error);
  if (created_) fs::remove(dir_, error);  // only if empty
}

std::string RunDirectory::file(const std::string& name) const { return (fs::path(dir_) / name).string(); }

void RunDirectory::before_writing() {
  if (written_) return;
  written_ = true;
  remove_temporaries(dir_);
  if (mode_ == Mode::overwrite) {
    for (const char* name : kRunFiles) remove_file(file(name));
  } else if (mode_ == Mode::resume) {
    for (const char* name : {"model.h5", "summary.json", "report"}) remove_file(file(name));
  }
}

}  // namespace sinapsis::cli
