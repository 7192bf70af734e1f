// A small file system of its own (a tmpfs mounted on a test's directory), to
// make writes fail as on a full disk: fill() leaves only so many bytes free.
// Mounting needs root (or CAP_SYS_ADMIN): where it is not permitted,
// mounted() is false and the test skips itself.
#pragma once

#include <sys/mount.h>   // mount, umount2
#include <sys/statvfs.h>  // statvfs: the bytes left

#include <cerrno>
#include <cstdio>
#include <cstring>  // strerror
#include <filesystem>
#include <string>
#include <vector>

namespace sinapsis::test {

class SmallDisk {
 public:
  // Mounts a tmpfs of `bytes` on `dir` (created if missing).
  SmallDisk(std::filesystem::path dir, std::size_t bytes) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
    const std::string options = "size=" + std::to_string(bytes);
    mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, options.c_str()) == 0;
    if (!mounted_) why_ = std::string("cannot mount a tmpfs: ") + std::strerror(errno);
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;
  ~SmallDisk() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }

  bool mounted() const { return mounted_; }
  const std::string& why_not() const { return why_; }
  const std::filesystem::path& dir() const { return dir_; }

  std::size_t free_bytes() const {
    struct statvfs s {};
    ::statvfs(dir_.c_str(), &s);
    return std::size_t(s.f_bavail) * std::size_t(s.f_frsize);
  }
  // Writes a filler file (FILLER, outside whatever a test looks at) until
  // about `leave` bytes are free.
  void fill(std::size_t leave) {
    const std::size_t now = free_bytes();
    if (now <= leave) return;
    std::FILE* filler = std::fopen((dir_ / "FILLER").c_str(), "ab");
    const std::vector<char> block(4096, 'x');
    for (std::size_t left = now - leave; left >= block.size(); left -= block.size())
      if (std::fwrite(block.data(), 1, block.size(), filler) != block.size()) break;
    std::fclose(filler);
  }

 private:
  std::filesystem::path dir_;
  bool mounted_ = false;
  std::string why_;
};

}  // namespace sinapsis::test
