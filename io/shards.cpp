#include "io/shards.hpp"

#include <unistd.h>  // getpid

#include <cerrno>
#include <cstring>  // std::strerror
#include <filesystem>
#include <numeric>
#include <regex>

#include "core/error.hpp"
#include "io/atomic_file.hpp"
#include "io/data_file.hpp"

namespace sinapsis {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void cannot_write(const std::string& out_dir, const std::string& reason) {
  throw DataError(out_dir + ": cannot be written: " + reason);
}

// The first entry of `dir` that is not a file of a shard set, or "".
std::string foreign_entry(const fs::path& dir) {
  static const std::regex shard_file(R"(.*-\d{5}-of-\d{5}\.h5|.*-index\.csv)");
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    if (!it->is_regular_file(ec) || !std::regex_match(file, shard_file)) return file;
  }
  if (ec) cannot_write(dir.string(), ec.message());
  return "";
}

bool is_empty_directory(const fs::path& dir) {
  std::error_code ec;
  const bool empty = fs::is_empty(dir, ec);
  if (ec) cannot_write(dir.string(), ec.message());
  return empty;
}

}  // namespace

std::vector<std::string> write_shards(const Dataset& data, const std::string& name, std::size_t shards,
                                      const std::string& out_dir, bool replace, std::size_t chunk_rows) {
  if (shards < 1) throw UsageError("--shards must be >= 1, got 0");
  if (shards > data.size())
    throw UsageError("--shards " + std::to_string(shards) + " is more than the " +
                     std::to_string(data.size()) + " rows of the data set");
  std::error_code ec;
  // The directory itself, not a link to it, is what gets replaced ("DIR/"
  // names DIR).
  fs::path target = fs::weakly_canonical(fs::absolute(out_dir), ec);
  if (ec) cannot_write(out_dir, ec.message());
  if (!target.has_filename()) target = target.parent_path();
  const bool exists = fs::exists(target, ec);
  if (exists && !fs::is_directory(target, ec))
    throw UsageError("--out-dir " + out_dir + " exists and is not a directory");
  const bool holds_a_set = exists && !is_empty_directory(target);
  if (holds_a_set && !replace)
    throw UsageError("--out-dir " + out_dir + " is not empty; pass --overwrite to replace the shard set in it");
  if (holds_a_set) {
    if (const std::string other = foreign_entry(target); !other.empty())
      throw UsageError("--out-dir " + out_dir + " holds " + other +
                       ", which is not part of a shard set: --overwrite replaces the whole directory, so choose "
                       "one that holds only shards");
  }
  fs::create_directories(target.parent_path(), ec);
  if (ec) cannot_write(out_dir, ec.message());
  const fs::path fresh = target.string() + ".tmp." + std::to_string(::getpid());
  fs::remove_all(fresh, ec);  // left by a killed process that had this pid
  if (!fs::create_directory(fresh, ec) || ec)
    cannot_write(out_dir, ec ? ec.message() : "cannot create " + fresh.string());
  std::vector<std::string> paths;
  try {
    AtomicFile index((fresh / (name + "-index.csv")).string());
    index.stream() << "shard,file,rows\n";
    for (std::size_t s = 0; s < shards; ++s) {
      const std::size_t begin = data.size() * s / shards, end = data.size() * (s + 1) / shards;
      const std::string file = shard_file_name(name, s, shards);
      std::vector<std::size_t> rows(end - begin);
      std::iota(rows.begin(), rows.end(), begin);
      write_data_file((fresh / file).string(), select_rows(data, rows),
                      {true, {{"shard_index", double(s)}, {"shard_count", double(shards)}}, {}, chunk_rows});
      index.stream() << s << ',' << file << ',' << end - begin << '\n';
      paths.push_back((fs::path(out_dir) / file).string());
    }
    index.commit();
    replace_directory(fresh.string(), target.string());
  } catch (const DataError& e) {
    fs::remove_all(fresh, ec);
    // A file inside the temporary directory is no name the user knows.
    std::string reason = e.what();
    if (const auto colon = reason.find(": cannot be written: "); colon != std::string::npos)
      reason = reason.substr(colon + 21);
    cannot_write(out_dir, reason);
  } catch (...) {
    fs::remove_all(fresh, ec);
    throw;
  }
  return paths;
}

}  // namespace sinapsis
