// A sweep's shared state, SWEEP_DIR, as files: the groups of one job, the
// tasks of a SLURM job array and a resumed sweep all see the same queue.
//
//   .lock                     held by the job (slot 0 and up for a whole sweep
//                             or a merge, slot 1 + i for slice i)
//   sweep.args                the options that define the sweep (for --resume)
//   queue.lock                fcntl lock: one worker decides at a time
//   trials/tNNNN/claimed      trial NNNN was started (created exclusively)
//   trials/tNNNN/promoted-K   it was sent on from rung K
//   trials/tNNNN/rung-K.csv   its record after rung K (one trials.csv row)
//   trials/tNNNN/             its run: model.h5, metrics.csv, summary.json, ...
//   trials.csv, summary.json  the results (written at the end, or by merge)
//   .stop-JOB                 a group of job JOB was stopped by a signal: the
//                             job's other groups stop taking jobs (removed at the end)
//
// The lock files work across hosts on a shared file system. A job's
// decisions (which trial a free group trains next, ASHA's promotions) are
// taken under queue.lock and marked in the files before it is released.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/asha.hpp"
#include "dist/communicator.hpp"
#include "io/file_lock.hpp"
#include "launch/sweep_plan.hpp"

namespace sinapsis::cli {

// --slice i/n: this job runs the trials with id % n == i.
struct Slice {
  std::size_t index = 0, count = 1;
};
Slice parse_slice(const std::string& text);  // "" is the whole grid; UsageError naming --slice

inline constexpr const char* kSweepLock = ".lock";

// SWEEP_DIR/trials/tNNNN.
std::string trial_dir(const std::string& sweep, std::size_t id);
// The options a sweep stored in SWEEP_DIR/sweep.args, one per line (nullopt
// if there is none).
std::optional<Args> stored_sweep_args(const std::string& sweep);
// The record of every trial's highest rung, by id.
std::map<std::size_t, TrialRecord> latest_records(const std::string& sweep);
// A record file (rung-K.csv): nullopt if it is missing or has no row yet.
std::optional<TrialRecord> read_record(const std::string& file);

class SweepQueue {
 public:
  // The queue of `trials` (this job's slice of the grid) in `sweep`.
  SweepQueue(std::string sweep, std::vector<TrialConfig> trials, AshaOptions asha);

  // Rank 0, once: holds SWEEP_DIR (or the slice) for the job, refuses a
  // directory that holds another sweep unless `resume` or `overwrite`,
  // clears it for `overwrite`, forgets the jobs a killed run left unfinished
  // for `resume`, and stores `defining` as sweep.args. UsageError naming the
  // directory and, when in use, the holder. `check_resume` runs (with
  // `resume`) once the directory is held, before any of it changes.
  void open(const Slice& slice, const std::string& slice_text, const Args& defining, bool resume, bool overwrite,
            const std::function<void()>& check_resume = {});

  // The next job for a free group (under queue.lock): start a trial, promote
  // one to the next rung, wait, or done.
  AshaJob take_job();
  // The job as every rank of `group` sees it: the leader takes it (unless
  // `stop`: then done); a failure to take one ends every rank alike.
  AshaJob take_job_together(Communicator& group, bool stop);

  // This job's name among the jobs sharing SWEEP_DIR (the same on every rank).
  void set_job(const std::string& job) { stop_file_ = sweep_ + "/.stop-" + job; }
  // A group stopped by a signal tells the job's other groups, which may be
  // waiting for its trial (ASHA) or would start new ones; forget_stop() at the end.
  void ask_job_to_stop() const;
  void forget_stop() const;

  // The record of `job`'s rung (rung-K.csv).
  void record(const AshaJob& job, const TrialRecord& record) const;
  // Trial `id`'s record of `rung`, if written.
  std::optional<TrialRecord> record_of(std::size_t id, std::size_t rung) const;

  const std::vector<TrialConfig>& trials() const { return trials_; }
  const AshaOptions& asha() const { return asha_; }
  const std::string& dir() const { return sweep_; }

 private:
  std::vector<TrialProgress> progress() const;
  void forget_unfinished() const;

  std::string sweep_;
  std::vector<TrialConfig> trials_;
  AshaOptions asha_;
  std::optional<FileLock> lock_;
  std::string stop_file_;
};

}  // namespace sinapsis::cli
