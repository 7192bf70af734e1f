#include "io/shards.hpp"

#include <filesystem>

#include "core/error.hpp"
#include "io/atomic_file.hpp"
#include "io/data_file.hpp"

namespace sinapsis {
namespace {

// Rows [begin, end) of `data`, with its description.
Dataset slice(const Dataset& data, std::size_t begin, std::size_t end) {
  Dataset part;
  part.task = data.task;
  part.classes = data.classes;
  part.feature_names = data.feature_names;
  part.class_names = data.class_names;
  part.generator = data.generator;
  const std::size_t d = data.dimension();
  part.features = Matrix<float>(end - begin, d);
  std::copy(data.features.values.begin() + std::ptrdiff_t(begin * d),
            data.features.values.begin() + std::ptrdiff_t(end * d), part.features.values.begin());
  if (data.task == Task::classification) {
    part.labels.assign(data.labels.begin() + std::ptrdiff_t(begin), data.labels.begin() + std::ptrdiff_t(end));
  } else {
    const std::size_t k = data.targets.cols;
    part.targets = Matrix<float>(end - begin, k);
    std::copy(data.targets.values.begin() + std::ptrdiff_t(begin * k),
              data.targets.values.begin() + std::ptrdiff_t(end * k), part.targets.values.begin());
  }
  return part;
}

}  // namespace

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
    write_data_file(path, slice(data, begin, end),
                    {true, {{"shard_index", double(s)}, {"shard_count", double(shards)}}, {}});
    index.stream() << s << ',' << file << ',' << end - begin << '\n';
    paths.push_back(path);
  }
  index.commit();
  return paths;
}

}  // namespace sinapsis
