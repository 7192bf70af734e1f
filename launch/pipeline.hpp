// From the files a user names to the matrices a model trains or predicts on:
// read (rank-local), split, compute input features, standardize. Training
// records the features and the standardization in the model file; predict
// and eval replay them from it.
#pragma once

#include <optional>
#include <string>

#include "core/dataset.hpp"
#include "core/loss.hpp"
#include "core/preprocess.hpp"
#include "core/stream_plan.hpp"
#include "core/streamed_batches.hpp"
#include "core/trainer.hpp"
#include "dist/communicator.hpp"
#include "io/data_file.hpp"
#include "io/model_file.hpp"

namespace sinapsis::cli {

struct DataOptions {
  std::string data, val_data, test_data;
  double val_split = 0, test_split = 0;
  std::string features;             // FeatureSet text; "" = the data's columns
  std::string standardize = "auto";  // auto | on | off
  bool class_labels = false;         // the loss needs class ids (bce, cce)
  // A class count fixed by a model (--init-model, a resumed run): the
  // training labels must be below it (0: the training data's own).
  std::size_t classes = 0;
  std::string classes_from;          // "the model m.h5", for messages
  std::uint64_t seed = 1;
  // --shuffle, and whether the training rows are streamed instead of held
  // (--data-in-memory, resolved before reading). With global or streamed,
  // the training data's statistics come from a pass over each rank's part,
  // `chunk_rows` rows at a time when streamed.
  ShuffleMode shuffle = ShuffleMode::shard;
  bool streamed = false;
  std::size_t chunk_rows = 4096;
  // --shuffle-block: with global or streamed, --val-split and --test-split
  // hold out whole blocks (core/stream_plan.hpp split_blocks).
  std::size_t block_rows = 256;

  // Checks what needs no file (names, the two splits together): UsageError.
  void validate() const;
};

struct PreparedData {
  Dataset train;
  std::optional<Dataset> val, test;
  FeatureSet features;
  Standardizer standardizer;
  // The files of --val-data and --test-data, to name a row of them later.
  // Streamed: val and test hold their description and no rows, read at
  // each evaluation from these files: this rank's slices of them (its
  // plan_part of --val-data, or its share of the blocks --val-split holds
  // out of the training data).
  std::optional<DataSource> val_source, test_source;
  std::vector<RowSlice> val_part, test_part;
  // --shuffle global or streamed: the training data's files (with
  // streamed, `train` holds its description and no rows), and this rank's
  // part's moments, for the standardization.
  std::optional<DataSource> train_source;
  std::optional<RunningMoments> moments;
  // The training files as ranges of rows of the whole data set, and this
  // rank's part (plan_part) as such ranges.
  std::vector<RowRange> train_files, train_part;
};

// Each rank reads only its part of every data set, splits it and computes
// the input features: local work, no collective (run it inside agree()).
PreparedData read_training_data(const DataOptions& options, std::size_t rank, std::size_t ranks);
// Then, on every rank together: agree on the class count, which is the
// training data's (the largest over the ranks' parts): validation and test
// data must fit it, never widen it, or every rank fails alike, naming the
// file, row and label. Then standardize with statistics of all ranks'
// training rows; a resumed run passes the standardization it was trained
// with (`fixed`).
void finish_training_data(PreparedData& data, const DataOptions& options, Communicator& comm,
                          const Standardizer* fixed = nullptr);

// The Reader of streamed training rows: read from the files, input features
// computed and standardized as held rows are, targets encoded for `loss`
// and a model of `outputs` units of `output`. After finish_training_data().
StreamedBatches<float>::Reader training_reader(const PreparedData& data, const DataOptions& options, Loss loss,
                                               Activation output, std::size_t outputs);

// With streamed training data (DataOptions::streamed), the validation or
// test data (`which`: "val" or "test") streams too: this rank's part of it,
// read and decoded as training rows are, a chunk at a time. nullopt when it
// is held or absent. After finish_training_data().
std::optional<StreamedEvaluation<float>> evaluation_reader(const PreparedData& data, const DataOptions& options,
                                                           const std::string& which, Loss loss, Activation output,
                                                           std::size_t outputs);

// A data set's features as the model file says to feed them to its model.
void apply_model_preprocessing(const ModelFile& model, Dataset& data, const std::string& source);

}  // namespace sinapsis::cli
