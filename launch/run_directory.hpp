// A training run's directory, RUN_DIR, as one job owns it:
//
//   .lock          held (FileLock) by the job writing the run, for its whole life
//   config.ini, metrics.csv, summary.json, model.h5, checkpoint.h5, report/
//                  the run's files (kRunFiles)
//
// The rules a user can rely on:
// - One job writes a run at a time: a second `train --out` (or `--resume`)
//   on a locked directory is refused, naming the holder.
// - A directory holding any run file (finished, or stopped with only a
//   checkpoint) is refused unless the job resumes it or --overwrite is given.
// - --overwrite clears the whole earlier run, checkpoint included, at the
//   moment the new run first writes: a job that fails before then leaves
//   the earlier run as it was. A resumed run drops the earlier part's final
//   model.h5 and summary.json at that moment, so the directory never mixes
//   a new checkpoint and metrics with an old final model.
// - A job that never wrote leaves no trace: neither its lock file nor the
//   directory, if it created it.
#pragma once

#include <optional>
#include <string>

#include "io/file_lock.hpp"

namespace sinapsis::cli {

inline constexpr const char* kRunFiles[] = {"model.h5", "checkpoint.h5", "metrics.csv", "summary.json",
                                            "config.ini", "report"};

// The first run file in `dir`, or nullopt.
std::optional<std::string> run_file_in(const std::string& dir);

// Who is writing the run in `dir` now (the lock holder's record), or
// nullopt: no job holds it.
std::optional<std::string> run_writer(const std::string& dir);

class RunDirectory {
 public:
  enum class Mode { fresh, overwrite, resume };

  // Creates `dir` if needed and locks it; then checks it holds no run
  // unless `mode` allows one. Throws UsageError naming the directory and,
  // when locked, the holder. `option` names the option that chose `dir`.
  RunDirectory(std::string dir, Mode mode, const std::string& option, const std::string& holder);
  ~RunDirectory();
  RunDirectory(const RunDirectory&) = delete;
  RunDirectory& operator=(const RunDirectory&) = delete;

  const std::string& path() const { return dir_; }
  std::string file(const std::string& name) const;

  // Call before every write: the first call clears what the mode says must
  // go (see above).
  void before_writing();

 private:
  std::string dir_;
  Mode mode_;
  bool created_ = false;
  bool written_ = false;
  std::optional<FileLock> lock_;
};

}  // namespace sinapsis::cli
