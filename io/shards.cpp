#include "io/shards.hpp"

#include <filesystem>
#include <numeric>

#include "core/error.hpp"
#include "io/atomic_file.hpp"
#include "io/data_file.hpp"

namespace sinapsis {

std::vector<std::string> write_shards(const Dataset& data, const std::string& name, std::size_t shards,
                                      const std::string& out_dir) {
  if (shards < 1) throw UsageError("--shards must be >= 1, got 0");
  if (shards > data.size())
    throw UsageError("--shards " + std::to_string(shards) + " is more than the " +
                     std::to_string(data.size()) + " rows of the data set");
  namespace fs = std::filesystem;
  fs::create_directories(out_dir);
  std::vector<std::string> paths;
  AtomicFile index((fs::path(out_dir) / (name + "-index.csv")).string());
  index.stream() << "shard,file,rows\n";
  for (std::size_t s = 0; s < shards; ++s) {
    const std::size_t begin = data.size() * s / shards, end = data.size() * (s + 1) / shards;
    const std::string file = shard_file_name(name, s, shards);
    const std::string path = (fs::path(out_dir) / file).string();
    std::vector<std::size_t> rows(end - begin);
    std::iota(rows.begin(), rows.end(), begin);
    write_data_file(path, select_rows(data, rows),
                    {true, {{"shard_index", double(s)}, {"shard_count", double(shards)}}, {}});
    index.stream() << s << ',' << file << ',' << end - begin << '\n';
    paths.push_back(path);
  }
  index.commit();
  return paths;
}

}  // namespace sinapsis
