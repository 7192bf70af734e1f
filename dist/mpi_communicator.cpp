// The Open MPI implementation of Communicator. The only file that includes mpi.h.
#include <mpi.h>

#include <cstdlib>
#include <stdexcept>

#include "dist/communicator.hpp"

namespace sinapsis {
namespace {

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
      owns_ = true;
    }
    // Errors come back as codes we turn into exceptions, instead of MPI
    // aborting behind our back.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  // A sub-communicator of `parent` (from split()); it frees it.
  explicit MpiCommunicator(MPI_Comm comm) : comm_(comm), owns_comm_(true) {
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owns_comm_ && !finalized) MPI_Comm_free(&comm_);
    if (owns_ && !finalized) MPI_Finalize();
  }

  std::unique_ptr<Communicator> split(int color) override {
    MPI_Comm part = MPI_COMM_NULL;
    check(MPI_Comm_split(comm_, color, rank_, &part), "MPI_Comm_split");
    return std::make_unique<MpiCommunicator>(part);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string host() const override {
    char name[MPI_MAX_PROCESSOR_NAME] = {};
    int length = 0;
    MPI_Get_processor_name(name, &length);
    return std::string(name, std::size_t(length));
  }
  [[noreturn]] void abort(int status) override {
    MPI_Abort(MPI_COMM_WORLD, status);  // the whole job, not just this group
    std::_Exit(status);
  }

 protected:
  void allreduce_raw(void* data, std::size_t count, Type type, ReduceOp op) override {
    check(MPI_Allreduce(MPI_IN_PLACE, data, int(count), mpi_type(type), mpi_op(op), comm_), "MPI_Allreduce");
  }
  void broadcast_raw(void* data, std::size_t count, Type type, int root) override {
    check(MPI_Bcast(data, int(count), mpi_type(type), root, comm_), "MPI_Bcast");
  }
  void allgather_raw(const void* mine, std::size_t count, Type type, void* all) override {
    check(MPI_Allgather(mine, int(count), mpi_type(type), all, int(count), mpi_type(type), comm_),
          "MPI_Allgather");
  }

 private:
  static MPI_Datatype mpi_type(Type type) {
    switch (type) {
      case Type::int32: return MPI_INT32_T;
      case Type::int64: return MPI_INT64_T;
      case Type::uint64: return MPI_UINT64_T;
      case Type::float32: return MPI_FLOAT;
      case Type::float64: return MPI_DOUBLE;
      case Type::byte: return MPI_BYTE;
    }
    return MPI_BYTE;
  }
  static MPI_Op mpi_op(ReduceOp op) {
    switch (op) {
      case ReduceOp::sum: return MPI_SUM;
      case ReduceOp::max: return MPI_MAX;
      case ReduceOp::min: return MPI_MIN;
    }
    return MPI_SUM;
  }
  static void check(int code, const char* what) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING] = {};
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw std::runtime_error(std::string(what) + " failed: " + std::string(text, std::size_t(length)));
  }

  MPI_Comm comm_ = MPI_COMM_WORLD;
  bool owns_comm_ = false;  // a split() part, freed with this object
  int rank_ = 0;
  int size_ = 1;
  bool owns_ = false;  // initialized MPI, finalizes it
};

}  // namespace

bool under_mpi_launcher() {
  for (const char* variable : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(variable) != nullptr) return true;
  return false;
}

std::string mpi_library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  MPI_Get_library_version(text, &length);  // callable before MPI_Init
  std::string version(text, std::size_t(length));
  if (const auto comma = version.find(','); comma != std::string::npos) version.resize(comma);
  return version;
}

std::unique_ptr<Communicator> make_communicator() {
  if (under_mpi_launcher()) return std::make_unique<MpiCommunicator>();
  return std::make_unique<SingleProcess>();
}

}  // namespace sinapsis
