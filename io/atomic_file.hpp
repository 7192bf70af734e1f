// Files that appear whole or not at all: written under a temporary name
// beside the target (TARGET.tmp.PID), flushed to the disk (fsync) and
// renamed over the target. Any failure on the way (a full disk, a lost
// permission, a quota) throws DataError "TARGET: cannot be written: REASON"
// with the system's reason, removes the temporary, and leaves the target as
// it was. A target that is a symbolic link is written through: the file it
// points to is replaced and the link kept.
#pragma once

#include <memory>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

namespace sinapsis {

// A text file written as a stream, then committed.
class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path);  // creates the temporary
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();  // without commit(): removes the temporary

  std::ostream& stream();
  // Writes out what is buffered, syncs, renames over the target.
  void commit();

 private:
  class Buffer;  // a stream buffer over the temporary's descriptor
  std::string path_;       // as the user named it (for messages)
  std::string temporary_;  // beside the file it replaces
  std::string target_;     // path_, or the file a link at path_ points to
  int fd_ = -1;
  std::unique_ptr<Buffer> buffer_;
  std::unique_ptr<std::ostream> stream_;
  bool committed_ = false;
};

// `bytes` as the whole content of `path`, the same way.
void write_file_atomically(const std::string& path, std::span<const char> bytes);

// Appends `text` (one or more whole lines) to the existing file `path` with
// one write of O_APPEND and closes it, so a reader (another host on a
// shared file system, after close) sees the lines at once; no fsync. If the
// write fails part-way, the file is cut back to its old length: it holds the
// lines whole or not at all. Returns false, touching nothing, when `path`
// does not exist (the caller writes it whole); other failures throw
// DataError "PATH: cannot be written: REASON".
bool append_to_file(const std::string& path, std::string_view text);

// Directories that appear whole: the finished directory `fresh` takes the
// place of `target` (none, an empty directory or an old one) in one step, an
// atomic exchange where the file system has it (then the old one, now at
// `fresh`, is removed); where it has none (NFS), the old one steps aside
// first and comes back if the new one cannot take its place. Throws
// DataError "TARGET: cannot be written: REASON", leaving `target` as it was.
void replace_directory(const std::string& fresh, const std::string& target);

}  // namespace sinapsis
