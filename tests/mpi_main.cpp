// main() for GoogleTest suites that run under mpirun: every rank runs every
// test, and the job fails if any test failed on any rank (the verdicts are
// reduced with a max). Ranks other than 0 print only their failures.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>

#include "dist/communicator.hpp"
#include "tests/mpi_environment.hpp"

namespace sinapsis::test {
Communicator* world = nullptr;

// Prints each failed assertion with its rank (for ranks other than 0, whose
// usual output is silenced).
class RankFailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (result.failed())
      std::fprintf(stderr, "[rank %d] %s:%d: %s\n", rank_, result.file_name() ? result.file_name() : "?",
                   result.line_number(), result.summary());
  }

 private:
  int rank_;
};
}  // namespace sinapsis::test

int main(int argc, char** argv) {
  auto comm = sinapsis::make_communicator();
  sinapsis::test::world = comm.get();
  ::testing::InitGoogleTest(&argc, argv);
  if (comm->rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new sinapsis::test::RankFailurePrinter(comm->rank()));
  }
  std::int32_t failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  failed = comm->allreduce(failed, sinapsis::ReduceOp::max);
  if (comm->rank() == 0 && failed) std::fprintf(stderr, "a test failed on at least one rank\n");
  return failed;
}
