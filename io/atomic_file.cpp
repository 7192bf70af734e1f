#include "io/atomic_file.hpp"

#include <fcntl.h>   // open, AT_FDCWD
#include <sys/stat.h>  // fstat
#include <unistd.h>  // write, fsync, close, unlink, getpid

#include <array>
#include <cerrno>
#include <cstdio>   // std::rename, renameat2 (_GNU_SOURCE)
#include <cstring>  // std::strerror
#include <filesystem>
#include <streambuf>

#include "core/error.hpp"

namespace sinapsis {
namespace {

[[noreturn]] void fail(const std::string& path, int error) {
  throw DataError(path + ": cannot be written: " + std::strerror(error));
}

// 0, or the errno of the write that failed.
int write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t written = ::write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += written;
    size -= std::size_t(written);
  }
  return 0;
}

// The file a write of `path` replaces: the one a symbolic link points to.
std::string target_of(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_symlink(path, ec)) return path;
  const auto resolved = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : resolved.string();
}

int create_temporary(const std::string& path, const std::string& temporary) {
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) fail(path, errno);
  return fd;
}

// After the last write (`error`: 0 or its errno): sync, close, rename over
// the target. Closes `fd` and, on any failure, removes the temporary and
// throws naming `path`.
void finish(int fd, int error, const std::string& path, const std::string& temporary, const std::string& target) {
  // fsync: a write error that the file system reports late (NFS, quotas)
  // surfaces here, and the renamed file is on the disk, not only in cache.
  // EINVAL: a file that cannot be synced (a pipe, /dev/null).
  if (error == 0 && ::fsync(fd) != 0 && errno != EINVAL) error = errno;
  if (::close(fd) != 0 && error == 0 && errno != EINTR) error = errno;
  if (error == 0 && std::rename(temporary.c_str(), target.c_str()) != 0) error = errno;
  if (error == 0) return;
  ::unlink(temporary.c_str());
  fail(path, error);
}

}  // namespace

bool append_to_file(const std::string& path, std::string_view text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return false;
    fail(path, errno);
  }
  struct stat before {};
  int error = ::fstat(fd, &before) != 0 ? errno : 0;
  if (error == 0) error = write_all(fd, text.data(), text.size());
  if (error != 0 && ::ftruncate(fd, before.st_size) != 0) {
    // The file keeps a partial line; the caller's error says so.
  }
  if (::close(fd) != 0 && error == 0 && errno != EINTR) error = errno;
  if (error != 0) fail(path, error);
  return true;
}

class AtomicFile::Buffer : public std::streambuf {
 public:
  explicit Buffer(int fd) : fd_(fd) { setp(space_.data(), space_.data() + space_.size()); }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  // Writes out the buffer; after the first failure, keeps its errno.
  bool drain() {
    if (error_ == 0) error_ = write_all(fd_, pbase(), std::size_t(pptr() - pbase()));
    setp(space_.data(), space_.data() + space_.size());
    return error_ == 0;
  }

  int fd_;
  int error_ = 0;
  std::array<char, 1 << 16> space_{};
};

AtomicFile::AtomicFile(const std::string& path)
    : path_(path), temporary_(target_of(path) + ".tmp." + std::to_string(::getpid())), target_(target_of(path)) {
  fd_ = create_temporary(path_, temporary_);
  buffer_ = std::make_unique<Buffer>(fd_);
  stream_ = std::make_unique<std::ostream>(buffer_.get());
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  if (fd_ >= 0) ::close(fd_);
  ::unlink(temporary_.c_str());
}

std::ostream& AtomicFile::stream() { return *stream_; }

void AtomicFile::commit() {
  stream_->flush();
  const int fd = fd_;
  fd_ = -1;
  committed_ = true;  // finish() closes and, failing, removes the temporary itself
  finish(fd, buffer_->error(), path_, temporary_, target_);
}

void write_file_atomically(const std::string& path, std::span<const char> bytes) {
  const std::string target = target_of(path);
  const std::string temporary = target + ".tmp." + std::to_string(::getpid());
  const int fd = create_temporary(path, temporary);
  finish(fd, write_all(fd, bytes.data(), bytes.size()), path, temporary, target);
}

void replace_directory(const std::string& fresh, const std::string& target) {
  std::error_code ignored;
  if (::renameat2(AT_FDCWD, fresh.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
    std::filesystem::remove_all(fresh, ignored);  // the old one
    return;
  }
  if (errno == ENOENT) {  // no target: one rename
    if (std::rename(fresh.c_str(), target.c_str()) != 0) fail(target, errno);
    return;
  }
  if (errno != EINVAL && errno != ENOSYS) fail(target, errno);
  // No atomic exchange on this file system: the old one steps aside first.
  const std::string aside = target + ".old." + std::to_string(::getpid());
  if (std::rename(target.c_str(), aside.c_str()) != 0) fail(target, errno);
  if (std::rename(fresh.c_str(), target.c_str()) != 0) {
    const int error = errno;
    std::rename(aside.c_str(), target.c_str());  // the old one back
    fail(target, error);
  }
  std::filesystem::remove_all(aside, ignored);
}

}  // namespace sinapsis
