#include "launch/sweep_queue.hpp"

#include <fcntl.h>   // open
#include <unistd.h>  // close

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <span>
#include <stdexcept>

#include "core/error.hpp"
#include "io/atomic_file.hpp"
#include "launch/options.hpp"

namespace sinapsis::cli {
namespace {

namespace fs = std::filesystem;

// Creates `path` if it does not exist; true if this call created it.
bool create_exclusively(const std::string& path) {
  const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

// One worker at a time decides on the queue: an exclusive lock on
// SWEEP_DIR/queue.lock (works across hosts on a shared file system).
FileLock queue_lock(const std::string& sweep) {
  return FileLock((fs::path(sweep) / "queue.lock").string(), {}, "sinapsis sweep queue", FileLock::Wait::yes);
}

std::string rung_file(const std::string& dir, std::size_t rung) {
  return dir + "/rung-" + std::to_string(rung) + ".csv";
}

FileLock::Range slice_range(const Slice& slice) {
  if (slice.count == 1) return {};
  return {1 + slice.index, 1};
}

}  // namespace

Slice parse_slice(const std::string& text) {
  Slice s;
  if (text.empty()) return s;
  const auto slash = text.find('/');
  // (std::stoul took "0/-1" as n = 2^64-1: one slice ran only trial 0)
  if (slash == std::string::npos || !read_number(text.substr(0, slash), at_least(0), s.index).empty() ||
      !read_number(text.substr(slash + 1), at_least(1), s.count).empty())
    throw UsageError(option_text("slice", text) + " is not i/n (whole numbers)");
  if (s.index >= s.count) throw UsageError(option_text("slice", text) + " needs 0 <= i < n");
  return s;
}

std::string trial_dir(const std::string& sweep, std::size_t id) {
  char name[32];
  std::snprintf(name, sizeof name, "t%04zu", id);
  return (fs::path(sweep) / "trials" / name).string();
}

std::optional<Args> stored_sweep_args(const std::string& sweep) {
  std::ifstream in((fs::path(sweep) / "sweep.args").string());
  if (!in) return std::nullopt;
  Args stored;
  for (std::string line; std::getline(in, line);) stored.push_back(line);
  return stored;
}

std::optional<TrialRecord> read_record(const std::string& file) {
  std::ifstream in(file);
  std::string header, row;
  if (!std::getline(in, header) || !std::getline(in, row)) return std::nullopt;
  return parse_trial_row(trial_csv_columns(header, file), row, file);
}

std::map<std::size_t, TrialRecord> latest_records(const std::string& sweep) {
  std::map<std::size_t, TrialRecord> latest;
  const fs::path trials = fs::path(sweep) / "trials";
  if (!fs::exists(trials)) return latest;
  for (const auto& dir : fs::directory_iterator(trials))
    for (std::size_t k = 0;; ++k) {
      const auto record = read_record(rung_file(dir.path().string(), k));
      if (!record) break;
      latest[record->config.id] = *record;
    }
  return latest;
}

SweepQueue::SweepQueue(std::string sweep, std::vector<TrialConfig> trials, AshaOptions asha)
    : sweep_(std::move(sweep)), trials_(std::move(trials)), asha_(asha) {}

void SweepQueue::open(const Slice& slice, const std::string& slice_text, const Args& defining, bool resume,
                      bool overwrite, const std::function<void()>& check_resume) {
  fs::create_directories(sweep_);
  try {
    lock_.emplace((fs::path(sweep_) / kSweepLock).string(), slice_range(slice),
                  "sinapsis sweep" + (slice.count > 1 ? " --slice " + slice_text : std::string()), FileLock::Wait::no);
  } catch (const LockHeld& e) {
    throw UsageError("--out: " + sweep_ + " is in use by " + e.holder + "; wait for it to end or choose another --out");
  }
  if (const std::optional<Args> stored = stored_sweep_args(sweep_); stored && !resume && !overwrite) {
    if (slice.count == 1 || *stored != defining)
      throw UsageError("--out: " + sweep_ + " already holds " + (slice.count == 1 ? "a sweep" : "another sweep") +
                       "; pass --resume to continue it or --overwrite");
  }
  if (overwrite && !resume && slice.count == 1)  // all but the lock we hold
    for (const auto& entry : fs::directory_iterator(sweep_))
      if (entry.path().filename() != kSweepLock) fs::remove_all(entry.path());
  if (resume && check_resume) check_resume();  // before anything of the sweep changes
  fs::create_directories(fs::path(sweep_) / "trials");
  if (resume) forget_unfinished();
  AtomicFile stored((fs::path(sweep_) / "sweep.args").string());
  for (const auto& a : defining) stored.stream() << a << '\n';
  stored.commit();
}

// What ASHA needs of each trial of this slice, read from the files.
std::vector<TrialProgress> SweepQueue::progress() const {
  std::vector<TrialProgress> progress(trials_.size());
  for (std::size_t i = 0; i < trials_.size(); ++i) {
    const std::string dir = trial_dir(sweep_, trials_[i].id);
    TrialProgress& p = progress[i];
    for (std::size_t k = 0;; ++k) {
      const auto record = read_record(rung_file(dir, k));
      if (!record) break;
      p.rung_values.push_back(record->status == "failed" ? TrialRecord::kNaN : record->rank_loss());
      p.stopped = record->status == "failed" || record->stop_reason == "early_stopping" ||
                  record->epochs_run >= asha_.max_epochs;
    }
    for (std::size_t k = 0; k <= asha_.top_rung(); ++k)
      p.promoted_from.push_back(fs::exists(dir + "/promoted-" + std::to_string(k)));
    // Started but its latest rung not yet recorded: someone trains it.
    const std::size_t sent = std::size_t(std::count(p.promoted_from.begin(), p.promoted_from.end(), true));
    p.in_flight = fs::exists(dir + "/claimed") && p.rung_values.size() < 1 + sent;
  }
  return progress;
}

AshaJob SweepQueue::take_job() {
  const FileLock lock = queue_lock(sweep_);
  AshaJob job = next_asha_job(asha_, progress());
  if (job.kind == AshaJob::Kind::start) {
    const std::string dir = trial_dir(sweep_, trials_[job.trial].id);
    fs::create_directories(dir);
    if (!create_exclusively(dir + "/claimed"))
      throw DataError(sweep_ + ": trial " + std::to_string(trials_[job.trial].id) + " was claimed twice");
  } else if (job.kind == AshaJob::Kind::promote) {
    create_exclusively(trial_dir(sweep_, trials_[job.trial].id) + "/promoted-" + std::to_string(job.rung - 1));
  }
  return job;
}

AshaJob SweepQueue::take_job_together(Communicator& group, bool stop) {
  AshaJob job;  // done
  std::string error;
  if (group.rank() == 0 && !stop && !(stop_file_.empty() ? false : fs::exists(stop_file_))) {
    try {
      job = take_job();
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  std::array<std::uint64_t, 4> message{std::uint64_t(job.kind), job.trial, job.rung, error.empty() ? 0u : 1u};
  group.broadcast(std::span<std::uint64_t>(message), 0);
  if (message[3] != 0) throw std::runtime_error(group.broadcast(error, 0));  // ends the job
  return {AshaJob::Kind(message[0]), std::size_t(message[1]), std::size_t(message[2])};
}

void SweepQueue::ask_job_to_stop() const {
  if (!stop_file_.empty()) create_exclusively(stop_file_);
}

void SweepQueue::forget_stop() const {
  std::error_code ignored;
  if (!stop_file_.empty()) fs::remove(stop_file_, ignored);
}

void SweepQueue::record(const AshaJob& job, const TrialRecord& record) const {
  AtomicFile out(rung_file(trial_dir(sweep_, trials_[job.trial].id), job.rung));
  out.stream() << trial_csv_header() << '\n' << trial_csv_row(record) << '\n';
  out.commit();
}

std::optional<TrialRecord> SweepQueue::record_of(std::size_t id, std::size_t rung) const {
  return read_record(rung_file(trial_dir(sweep_, id), rung));
}

// A resumed sweep forgets the jobs the killed run left unfinished, for its
// own trials only: other slices sharing SWEEP_DIR may be running theirs.
void SweepQueue::forget_unfinished() const {
  for (const auto& trial : trials_) {
    const fs::path dir = trial_dir(sweep_, trial.id);
    if (!fs::exists(dir)) continue;
    std::size_t rungs = 0;
    while (fs::exists(rung_file(dir.string(), rungs))) ++rungs;
    if (rungs == 0) fs::remove(dir / "claimed");
    // promoted-K without rung-(K+1): that promotion did not finish.
    for (std::size_t k = rungs == 0 ? 0 : rungs - 1; k < 64; ++k) fs::remove(dir / ("promoted-" + std::to_string(k)));
  }
}

}  // namespace sinapsis::cli
