// Splitting one data set into a shard set for rank-local reading.
#pragma once

#include <string>
#include <vector>

#include "core/dataset.hpp"

namespace sinapsis {

// Writes `data` as `shards` files NAME-00000-of-0000S.h5 ... in out_dir
// (contiguous, near-equal row ranges; each file has the data-set layout plus
// shard_index / shard_count attributes) and NAME-index.csv with the rows of
// each shard. Returns the shard paths.
std::vector<std::string> write_shards(const Dataset& data, const std::string& name, std::size_t shards,
                                      const std::string& out_dir);

}  // namespace sinapsis
