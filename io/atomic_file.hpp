// A text file that appears whole or not at all: written under a temporary
// name beside the target and renamed over it by commit(). Destroyed without
// commit() (an error, an exception), it removes the temporary.
#pragma once

#include <unistd.h>  // getpid

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.hpp"

namespace sinapsis {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path)
      : path_(std::move(path)), temporary_(path_ + ".tmp." + std::to_string(::getpid())),
        stream_(temporary_) {
    if (!stream_) throw DataError(path_ + ": cannot be written");
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile() {
    if (!committed_) {
      stream_.close();
      std::remove(temporary_.c_str());
    }
  }

  std::ofstream& stream() { return stream_; }

  void commit() {
    stream_.flush();
    if (!stream_) throw DataError(path_ + ": write failed (disk full?)");
    stream_.close();
    std::filesystem::rename(temporary_, path_);
    committed_ = true;
  }

 private:
  std::string path_;
  std::string temporary_;
  std::ofstream stream_;
  bool committed_ = false;
};

}  // namespace sinapsis
