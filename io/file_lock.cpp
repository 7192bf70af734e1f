#include "io/file_lock.hpp"

#include <fcntl.h>   // open, fcntl record locks
#include <unistd.h>  // pread, pwrite, close, gethostname, getpid

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

#include "core/error.hpp"

namespace sinapsis {
namespace {

struct flock region(short type, FileLock::Range range) {
  struct flock lock {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = off_t(range.first * FileLock::kSlotBytes);
  lock.l_len = range.count == FileLock::kAllSlots ? 0 : off_t(range.count * FileLock::kSlotBytes);
  return lock;
}

std::string describe(const std::string& what) {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  char since[32] = {};
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  ::localtime_r(&now, &local);
  std::strftime(since, sizeof since, "%Y-%m-%d %H:%M:%S", &local);
  return what + " (pid " + std::to_string(::getpid()) + " on host " + host + ", since " + since + ")";
}

// The record a holder wrote at the start of its range; the pid the kernel
// reports when the record is missing (a holder that has not written it yet).
std::string read_holder(int fd, const struct flock& held) {
  char text[FileLock::kSlotBytes + 1] = {};
  const ssize_t got = ::pread(fd, text, FileLock::kSlotBytes, held.l_start);
  std::string record(text, got > 0 ? std::size_t(got) : 0);
  record = record.substr(0, record.find('\0'));
  if (const auto end = record.find('\n'); end != std::string::npos) record.resize(end);
  return record.empty() ? "process " + std::to_string(held.l_pid) : record;
}

}  // namespace

FileLock::FileLock(std::string path, Range range, const std::string& what, Wait wait) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (fd_ < 0) throw DataError(path_ + ": cannot be opened for locking: " + std::strerror(errno));
  struct flock lock = region(F_WRLCK, range);
  for (;;) {
    if (::fcntl(fd_, wait == Wait::yes ? F_SETLKW : F_SETLK, &lock) == 0) break;
    if (errno == EINTR) continue;
    const int error = errno;
    if (error == EACCES || error == EAGAIN) {
      struct flock held = region(F_WRLCK, range);
      std::string who = "another process";
      if (::fcntl(fd_, F_GETLK, &held) == 0 && held.l_type != F_UNLCK) who = read_holder(fd_, held);
      ::close(fd_);
      throw LockHeld(path_ + " is locked by " + who, who);
    }
    ::close(fd_);
    throw DataError(path_ + ": cannot be locked: " + std::strerror(error));
  }
  // Our record, padded with NULs to the slot (a shorter one leaves no tail
  // of an earlier holder's). Best effort: without it, a refused process
  // names the holder by the pid the kernel reports.
  std::string record = describe(what) + "\n";
  record.resize(kSlotBytes, '\0');
  [[maybe_unused]] const ssize_t written =
      ::pwrite(fd_, record.data(), record.size(), off_t(range.first * kSlotBytes));
}

std::optional<std::string> FileLock::holder(const std::string& path, Range range) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct flock held = region(F_WRLCK, range);
  std::optional<std::string> who;
  if (::fcntl(fd, F_GETLK, &held) == 0 && held.l_type != F_UNLCK) who = read_holder(fd, held);
  ::close(fd);
  return who;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace sinapsis
