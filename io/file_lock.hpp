// Exclusive advisory locks on a file (POSIX fcntl record locks: they work
// across hosts on a shared file system with lock support, and the kernel
// releases them when the process ends, however it ends: a killed job never
// leaves a stale lock behind).
//
// A lock file is divided into slots of kSlotBytes. A lock covers a range of
// slots and writes a one-line description of its holder (what, pid, host,
// since when) into its first slot, so that whoever is refused can name the
// holder. Slot ranges let parts of one directory be held separately (the
// slices of a sweep, each slot 1 + i) while slot range {0, all} (a whole run,
// a merge) conflicts with every part.
//
// fcntl locks belong to the process: two FileLocks of one process never
// exclude each other, and closing ANY descriptor of the file releases them,
// so nothing else in the process may open a lock file it holds.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>

namespace sinapsis {

// The lock is held by someone else; what() names the file and the holder.
struct LockHeld : std::runtime_error {
  LockHeld(const std::string& message, std::string holder_text)
      : std::runtime_error(message), holder(std::move(holder_text)) {}
  std::string holder;  // "sinapsis train (pid 123 on host n07, since 2026-12-01 17:40:02)"
};

class FileLock {
 public:
  static constexpr std::size_t kSlotBytes = 256;
  static constexpr std::size_t kAllSlots = 0;  // a range to the end of the file, however long

  struct Range {
    std::size_t first = 0;
    std::size_t count = kAllSlots;
  };
  enum class Wait { no, yes };

  // Locks `range` of `path` (created if missing). Wait::no throws LockHeld
  // when another process holds an overlapping range; Wait::yes blocks until
  // it is free. `what` describes the holder ("sinapsis train").
  // Other failures (no such directory, no permission) throw DataError.
  FileLock(std::string path, Range range, const std::string& what, Wait wait);
  ~FileLock();  // closing the descriptor releases the lock

  // Who holds a lock overlapping `range` of `path` now (the holder's
  // record), or nullopt: none, or no such file. Takes no lock. Never call
  // it on a file this process locks (closing its descriptor would release
  // them).
  static std::optional<std::string> holder(const std::string& path, Range range = Range{0, kAllSlots});
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace sinapsis
