// Splitting one data set into a shard set for rank-local reading.
#pragma once

#include <string>
#include <vector>

#include "core/dataset.hpp"

namespace sinapsis {

// Writes `data` as `shards` files NAME-00000-of-0000S.h5 ... in out_dir
// (contiguous, near-equal row ranges; each file has the data-set layout plus
// shard_index / shard_count attributes) and NAME-index.csv with the rows of
// each shard. Returns the shard paths. Each shard's /features is gzip
// compressed in chunks of `chunk_rows` rows (the last one shorter; 0: about
// 1 MiB of float32 rows), in the data's feature_storage when it holds the
// values (io/data_file.hpp: uint8 images stay uint8).
//
// All or nothing: the set is written into a temporary directory beside
// out_dir (OUT.tmp.PID) and renamed into place in one step, so out_dir
// never shows part of a set, nor an old set mixed with a new one. An
// out_dir that exists must be empty, or, with `replace`, hold only the
// files of a shard set (NAME-iiiii-of-nnnnn.h5, NAME-index.csv): it is then
// swapped out whole and removed; anything else in it is refused
// (UsageError), never deleted. A failure (DataError, e.g. a full disk)
// leaves out_dir as it was and no temporary behind.
std::vector<std::string> write_shards(const Dataset& data, const std::string& name, std::size_t shards,
                                      const std::string& out_dir, bool replace = false, std::size_t chunk_rows = 0);

}  // namespace sinapsis
