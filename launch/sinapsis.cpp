#include "launch/sinapsis.hpp"

#include <array>
#include <functional>

#include "dist/communicator_group.hpp"
#include "io/data_file.hpp"
#include "io/model_file.hpp"
#include "launch/agreement.hpp"
#include "launch/build_commit.hpp"
#include "launch/pipeline.hpp"

namespace sinapsis {

std::string library_version() { return SINAPSIS_VERSION; }
std::string library_commit() { return kBuildCommit; }

Model<float> make_model(const Network& network, Initializer init, std::uint64_t seed) {
  Model<float> model(Architecture::mlp(network.inputs, network.hidden, network.hidden_activation, network.outputs,
                                       network.output_activation));
  initialize(model, init, seed);
  return model;
}

EncodedData<float> read_training_part(const std::string& path, const Model<float>& model, Loss loss,
                                      Communicator& comm) {
  const Architecture& a = model.architecture();
  // The program's own path (launch/pipeline.hpp), without its features and
  // standardization: each rank reads its rows; what fails on one rank (its
  // shard missing or cut short) fails on every rank alike (cli::agree), so
  // no rank waits in the collectives that agree on the schema and the
  // class count.
  cli::DataOptions options;
  options.data = path;
  options.standardize = "off";
  options.class_labels = loss != Loss::mse;
  cli::PreparedData data;
  cli::agree(comm, [&] {
    data = cli::read_training_data(options, std::size_t(comm.rank()), std::size_t(comm.size()));
    if (data.train.dimension() != a.inputs())
      throw DataError(path + ": " + std::to_string(data.train.dimension()) + " features, but the model takes " +
                      std::to_string(a.inputs()) + " inputs");
  });
  cli::finish_training_data(data, options, comm);
  EncodedData<float> encoded;
  cli::agree(comm, [&] {
    encoded = encode_moving(std::move(data.train), loss, a.output_activation(), a.outputs(), path);
  });
  return encoded;
}

TrainResult train(Model<float>& model, const EncodedData<float>& part, const TrainOptions& options,
                  Communicator& comm, const EncodedData<float>* validation,
                  const Trainer<float>::EpochCallback& on_epoch) {
  comm.broadcast(model.parameters(), 0);
  // The overlapped exchange runs on a thread of its own when MPI allows it.
  CommunicatorGroup group(comm, options.bucket_floats > 0);
  Trainer<float> trainer(model, part, validation, options, nullptr, &group);
  return trainer.run(on_epoch);
}

namespace {

// Each rank's sums (from `local`, run inside agree(): a rank that cannot read
// its rows fails every rank alike), summed with the confusion counts.
Evaluation evaluate_summed(const Model<float>& model, bool rank_has_classes, Loss loss, Communicator& comm,
                           bool confusion,
                           const std::function<EvaluationSums(Workspace<float>&, std::vector<double>*)>& local) {
  Workspace<float> ws(model.architecture(), 256);
  const bool classes = comm.allreduce(std::uint64_t(rank_has_classes ? 1 : 0), ReduceOp::max) > 0;
  std::vector<double> counts;
  EvaluationSums mine;
  cli::agree(comm, [&] { mine = local(ws, classes && confusion ? &counts : nullptr); });
  // One sum: loss, correct, samples, then the confusion counts.
  std::vector<double> sums{mine.loss, mine.correct, mine.samples};
  sums.insert(sums.end(), counts.begin(), counts.end());
  comm.allreduce(std::span<double>(sums), ReduceOp::sum);
  Evaluation e = finish_evaluation({sums[0], sums[1], sums[2]}, loss, model.architecture().outputs(), classes);
  if (!counts.empty()) {
    const std::size_t k = output_classes(model.architecture().outputs());
    e.confusion.assign(k, std::vector<std::size_t>(k, 0));
    for (std::size_t t = 0; t < k; ++t)
      for (std::size_t p = 0; p < k; ++p) e.confusion[t][p] = std::size_t(sums[3 + t * k + p]);
  }
  return e;
}

}  // namespace

Evaluation evaluate(const Model<float>& model, const EncodedData<float>& part, Loss loss, Communicator& comm,
                    bool confusion) {
  return evaluate_summed(model, !part.class_ids.empty(), loss, comm, confusion,
                         [&](Workspace<float>& ws, std::vector<double>* counts) {
                           return evaluation_sums(model, ws, part, loss, counts);
                         });
}

Evaluation evaluate(const Model<float>& model, const StreamedEvaluation<float>& part, Loss loss, Communicator& comm,
                    bool confusion) {
  return evaluate_summed(model, part.classes, loss, comm, confusion,
                         [&](Workspace<float>& ws, std::vector<double>* counts) {
                           return evaluation_sums(model, ws, part, loss, counts);
                         });
}

void save_model(const std::string& path, const Model<float>& model, Loss loss, Communicator& comm) {
  // Rank 0 writes; every rank learns whether it worked, and why not.
  cli::agree(comm, [&] {
    if (comm.rank() == 0) write_model_file(path, model, loss, "");
  });
}

}  // namespace sinapsis
