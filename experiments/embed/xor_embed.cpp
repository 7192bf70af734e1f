// Embeds sinapsis in a program that runs MPI itself (experiments/embed).
//
//   mpirun -n 2 xor_embed               the lecture's XOR network: the four
//                                       points of the truth table, split
//                                       over the ranks, learned by a 2-4-2
//                                       net; prints the four answers
//   mpirun -n 2 xor_embed DATA MODEL    a data file of `sinapsis data`
//                                       (e.g. data make --dataset xor), a
//                                       2-8-8-2 net; writes MODEL
//
// Exits 0 when the trained net answers every truth-table point right (or
// reaches 90 % accuracy on DATA), 1 otherwise, 2 on an error.
#include <mpi.h>

#include <cstdio>
#include <exception>
#include <string>

#include <sinapsis/sinapsis.hpp>

namespace {

// Rank r of p takes the truth-table rows r, r + p, ...: its part of the data.
sinapsis::EncodedData<float> truth_table_part(int rank, int ranks) {
  const float inputs[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
  const int labels[4] = {0, 1, 1, 0};
  sinapsis::Dataset part;
  part.task = sinapsis::Task::classification;
  part.classes = 2;
  std::size_t rows = 0;
  for (int i = rank; i < 4; i += ranks) ++rows;
  part.features = sinapsis::Matrix<float>(rows, 2);
  std::size_t row = 0;
  for (int i = rank; i < 4; i += ranks, ++row) {
    part.features(row, 0) = inputs[i][0];
    part.features(row, 1) = inputs[i][1];
    part.labels.push_back(labels[i]);
  }
  return sinapsis::encode<float>(part, sinapsis::Loss::categorical_cross_entropy, sinapsis::Activation::softmax, 2,
                                 "the XOR truth table");
}

int run(int argc, char** argv, sinapsis::Communicator& comm) {
  const bool from_file = argc >= 3;
  const sinapsis::Loss loss = sinapsis::Loss::categorical_cross_entropy;
  sinapsis::Network shape{2, from_file ? std::vector<std::size_t>{8, 8} : std::vector<std::size_t>{4}, 2};
  shape.hidden_activation = sinapsis::Activation::tanh;
  sinapsis::Model<float> model = sinapsis::make_model(shape, sinapsis::Initializer::glorot, 7);
  const sinapsis::EncodedData<float> part = from_file ? sinapsis::read_training_part(argv[1], model, loss, comm)
                                                      : truth_table_part(comm.rank(), comm.size());
  sinapsis::TrainOptions options;
  options.loss = loss;
  options.batch = from_file ? 32 : 4;  // global: the whole truth table per step
  options.epochs = from_file ? 200 : 1000;
  options.schedule.base = from_file ? 0.1 : 0.5;
  options.optimizer.momentum = 0.9;
  const sinapsis::TrainResult result = sinapsis::train(model, part, options, comm);
  const sinapsis::Evaluation e = sinapsis::evaluate(model, part, loss, comm);
  if (comm.rank() == 0)
    std::printf("sinapsis %s (commit %s), %d ranks: %zu epochs, loss %.4f, accuracy %.3f\n",
                sinapsis::library_version().c_str(), sinapsis::library_commit().c_str(), comm.size(),
                result.epochs_run, e.loss, e.accuracy);
  if (from_file) {
    sinapsis::save_model(argv[2], model, loss, comm);
    if (comm.rank() == 0) std::printf("wrote %s\n", argv[2]);
    return e.accuracy >= 0.9 ? 0 : 1;
  }
  // The four answers, from rank 0's copy (every rank holds the same weights).
  const sinapsis::EncodedData<float> all = truth_table_part(0, 1);
  sinapsis::Workspace<float> ws(model.architecture(), 4);
  const sinapsis::MatrixView<float> out = sinapsis::forward(model, ws, all.features.view());
  int right = 0;
  for (std::size_t r = 0; r < 4; ++r) {
    const int answer = sinapsis::predicted_class(out.row(r), 2, sinapsis::Activation::softmax);
    right += answer == all.class_ids[r];
    if (comm.rank() == 0)
      std::printf("XOR(%g, %g) = %d\n", all.features(r, 0), all.features(r, 1), answer);
  }
  return right == 4 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
  int status = 2;
  try {
    const auto comm = sinapsis::make_communicator(MPI_COMM_WORLD);
    status = run(argc, argv, *comm);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "xor_embed: %s\n", e.what());
  }
  // Every rank agrees on the status (a rank's failure fails the job).
  int worst = status;
  MPI_Allreduce(&status, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return worst;
}
