// Data sets on disk (HDF5):
//   /features  [N, D], any integer or float type (read as float32; chunked,
//              gzip- or shuffle-filtered files load too)
//   /labels    [N] integer class ids 0..K-1            -> classification
//              [N] or [N, K] float targets               -> regression
//              (absent in data to predict on)
//   /ids       optional [N] strings: row ids (`data import --id`)
//   optional root attributes: feature_names, class_names (lists of strings),
//   task ("classification" | "regression"), classes (K), the parameters of
//   the generator that made the data (generator, samples, noise, seed), and
//   schema, the input schema of an imported table (JSON; io/schema.hpp).
//
// A data set is one file, or a shard set written by `sinapsis data shard`:
// NAME-00000-of-0000S.h5 ... in one directory (given as the directory or as
// a glob), each shard with the layout above.
//
// Reading is rank-local: with p ranks, rank r reads only its part (whole
// shards round-robin when S >= p, otherwise a contiguous 1/p of the rows,
// read as hyperslabs). Everything read is checked: a bad file throws
// DataError with one line naming the file, the dataset and the row.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/dataset.hpp"

namespace sinapsis {

enum class LabelsRequired { yes, no };

// Files kept open from one read_slices to the next (the streamed reader
// reads a few blocks at a time): a file is opened again, and checked again,
// when its path no longer names the file it was (stat: device, inode, size,
// modification time), so a shard removed, replaced or cut while streaming
// fails its next read as if it were opened each time. About 64 files at most.
class OpenFiles {
 public:
  OpenFiles();
  ~OpenFiles();
  OpenFiles(const OpenFiles&) = delete;
  OpenFiles& operator=(const OpenFiles&) = delete;
  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// How read_part reads /labels.
struct ReadOptions {
  // Implicit: read_data_file(file, LabelsRequired::no) reads as it says.
  ReadOptions(LabelsRequired required = LabelsRequired::yes)  // NOLINT(google-explicit-constructor)
      : labels(required) {}
  LabelsRequired labels;
  // Float labels are class ids, as a classification loss needs them: whole
  // numbers >= 0 in [N] or [N, 1]. (Integer labels are class ids anyway,
  // unless the file's task attribute says regression.)
  bool class_ids = false;
  // Class ids must be below this count, fixed elsewhere (0: the data set's
  // own; see ClassIdRule in core/dataset.hpp), e.g. a model's outputs.
  std::size_t classes = 0;
  std::string classes_from;  // what fixed it, for messages: "the model m.h5"
  // The data set as read before (its task and classes): read_slices reads
  // rows alone, not the first file's description again (streamed reads).
  const Dataset* described = nullptr;
  // Where read_slices keeps its files open between calls (null: it opens
  // and closes them in each call).
  OpenFiles* open_files = nullptr;
};

// A data set located and checked, before any rows are read.
struct DataSource {
  std::string spec;                  // what the user gave: file, directory or glob
  std::vector<std::string> files;    // one file, or the shards in order
  std::vector<std::size_t> rows;     // rows per file
  std::size_t dimension = 0;         // D
  std::size_t total_rows() const;
};

// One contiguous run of rows of one file.
struct RowSlice {
  std::size_t file = 0;
  std::size_t begin = 0;
  std::size_t end = 0;
  bool operator==(const RowSlice&) const = default;
};

// Opens a file, a shard directory or a glob; checks every shard is there
// once, and that all agree on D. Reads only metadata.
DataSource open_data_source(const std::string& spec);

// The rows rank `rank` of `ranks` reads (pure; see the header comment).
std::vector<RowSlice> plan_part(const std::vector<std::size_t>& rows, std::size_t rank,
                                std::size_t ranks);

// Where row `index` of rank `rank`'s part of `source` (as read_part reads
// it) comes from: a file of the source and the row in that file.
struct RowOrigin {
  std::string file;
  std::size_t row = 0;
};
RowOrigin locate_part_row(const DataSource& source, std::size_t rank, std::size_t ranks, std::size_t index);

struct ReadStats {
  std::size_t rows_read = 0;  // rows fetched from disk, over all files
  std::vector<RowSlice> slices;
};

// "NAME-00003-of-00008.h5": the file name of shard `index` of `count`.
std::string shard_file_name(const std::string& name, std::size_t index, std::size_t count);

// Reads rank `rank`'s part of the source, checked. Class ids follow
// ClassIdRule over the whole source's rows; the part's `classes` is the
// count its own ids need (ranks agree on the largest).
Dataset read_part(const DataSource& source, std::size_t rank, std::size_t ranks, const ReadOptions& options = {},
                  ReadStats* stats = nullptr);

// Rows of the source given as slices of its files, in that order (read_part
// reads plan_part's), checked the same way.
Dataset read_slices(const DataSource& source, const std::vector<RowSlice>& slices, const ReadOptions& options = {},
                    ReadStats* stats = nullptr);
// Rows [begin, end) of the source (its files' rows one after the other) as
// slices of its files.
std::vector<RowSlice> slices_of(const DataSource& source, std::size_t begin, std::size_t end);

// The whole data set (one process).
Dataset read_data_file(const std::string& spec, const ReadOptions& options = {});

// /features is written in the data's feature_storage when every value is
// a whole number that type holds (uint8 images read from uint8 stay uint8),
// else as float32.
struct WriteOptions {
  bool compress = false;  // gzip + shuffle in row chunks
  // Extra root attributes, e.g. {"noise", 0.1} or {"shard_index", 3}.
  std::vector<std::pair<std::string, double>> numbers;
  std::vector<std::pair<std::string, std::string>> texts;
  // Rows per chunk when compressed; 0: about 1 MiB of float32 rows. A
  // streamed run whose --shuffle-block is a multiple of it reads whole chunks.
  std::size_t chunk_rows = 0;
};

// Writes `data` (its task, names and classes included; classes 0: none
// declared) atomically (h5::NewFile): whole, or the target as it was.
void write_data_file(const std::string& path, const Dataset& data, const WriteOptions& options = {});

}  // namespace sinapsis
