// sinapsis as a library, for C++ programs that run MPI themselves (an HPC
// code embedding MLP training, say): build a network, read each rank's part
// of a data file, train it data-parallel over the program's own MPI
// communicator, evaluate, save the model file the `sinapsis` program reads
// (predict, eval, report, train --init-model).
//
// Installed as <sinapsis/sinapsis.hpp>; link the CMake target
// sinapsis::sinapsis (find_package(sinapsis)). The engine is the program's
// own: core/'s Model, Trainer and Coordinator (every rank makes the same
// decisions), dist/'s communicators, io/'s files. What the `sinapsis`
// program adds on top (options, run directories, checkpoints and resume,
// input features and standardization, the stall watchdog) stays in it.
//
//   MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
//   {
//     auto comm = sinapsis::make_communicator(MPI_COMM_WORLD);
//     sinapsis::Model<float> model = sinapsis::make_model({2, {8}, 2});
//     auto part = sinapsis::read_training_part("xor.h5", model, sinapsis::Loss::categorical_cross_entropy, *comm);
//     sinapsis::TrainOptions options;
//     options.loss = sinapsis::Loss::categorical_cross_entropy;
//     options.batch = 4;          // the global batch, split over the ranks
//     options.epochs = 500;
//     options.schedule.base = 0.5;
//     sinapsis::train(model, part, options, *comm);
//     sinapsis::save_model("xor-model.h5", model, options.loss, *comm);
//   }
//   MPI_Finalize();
//
// Every function here is collective over `comm` unless it says otherwise:
// every rank calls it, in the same order. Errors throw the exceptions of
// core/error.hpp (UsageError for bad options, DataError for bad data,
// ModelError for a network that does not fit). Reading and saving fail on
// every rank alike when they fail on one (a shard only one rank reads is
// cut short, rank 0 cannot write): a std::runtime_error with the failing
// rank's message on every rank, so no rank is left waiting for the others.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/activation.hpp"
#include "core/dataset.hpp"
#include "core/error.hpp"
#include "core/init.hpp"
#include "core/loss.hpp"
#include "core/model.hpp"
#include "core/trainer.hpp"
#include "dist/communicator.hpp"
#include "dist/mpi_comm.hpp"

namespace sinapsis {

// The library's version, e.g. "0.1.0", and the git commit it was built
// from ("unknown" outside a git checkout).
std::string library_version();
std::string library_commit();

struct Network {
  std::size_t inputs = 0;
  std::vector<std::size_t> hidden;  // widths, input side first; empty: no hidden layer
  std::size_t outputs = 0;
  Activation hidden_activation = Activation::relu;
  // softmax with cross-entropy over classes, sigmoid with bce for 2, linear with mse for regression
  Activation output_activation = Activation::softmax;
};

// A model of that shape, initialized (not collective: give every rank the
// same seed, or let train() broadcast rank 0's parameters). Throws
// ModelError for a shape that cannot be built.
Model<float> make_model(const Network& network, Initializer init = Initializer::glorot, std::uint64_t seed = 1);

// This rank's part of a data file, shard directory or glob written by
// `sinapsis data` (or any HDF5 file in that layout: README, "Data files"),
// encoded for `model` and `loss`: each rank reads only its rows, the ranks
// agree on the class count. Throws DataError naming the file if a label
// does not fit the model or the features are not the model's inputs.
EncodedData<float> read_training_part(const std::string& path, const Model<float>& model, Loss loss,
                                      Communicator& comm);

// Trains `model` on the parts of every rank (rank 0's parameters are
// broadcast first, so every rank starts from them): options.batch is the
// global batch, split over the ranks; gradients are summed over `comm`
// every step; the coordinator decides early stopping on the validation
// loss summed over the ranks, the same on every rank. `validation` (this
// rank's part, or null) and `on_epoch` (after every epoch, on every rank)
// are optional. Returns the same result on every rank.
TrainResult train(Model<float>& model, const EncodedData<float>& part, const TrainOptions& options,
                  Communicator& comm, const EncodedData<float>* validation = nullptr,
                  const Trainer<float>::EpochCallback& on_epoch = {});

// Loss and accuracy (NaN for regression) over every rank's part together;
// with `confusion`, a classifier's confusion matrix too (from the same pass).
Evaluation evaluate(const Model<float>& model, const EncodedData<float>& part, Loss loss, Communicator& comm,
                    bool confusion = false);
// The same over rows streamed from files (StreamedEvaluation: each rank reads
// its part a chunk at a time); a rank that cannot read its rows fails every
// rank alike, with its one line.
Evaluation evaluate(const Model<float>& model, const StreamedEvaluation<float>& part, Loss loss, Communicator& comm,
                    bool confusion = false);

// Rank 0 writes the model file (to a temporary name, then renamed: a
// reader never sees half a file); every rank returns once it is there.
void save_model(const std::string& path, const Model<float>& model, Loss loss, Communicator& comm);

}  // namespace sinapsis
