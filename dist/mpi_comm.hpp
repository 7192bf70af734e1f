// For programs that run MPI themselves and embed sinapsis: a Communicator
// over their own MPI communicator. The one header of sinapsis that includes
// <mpi.h> (the rest of dist/ keeps it inside mpi_communicator.cpp).
#pragma once

#include <mpi.h>

#include <memory>

#include "dist/communicator.hpp"

namespace sinapsis {

// Collective over `comm`: sinapsis's collectives on a duplicate of it (so
// they never match the program's own messages), freed when the result is
// destroyed. The program initialized MPI and finalizes it after the
// result is gone. Thread level: MPI_THREAD_SERIALIZED or more lets the
// overlapped exchange (TrainOptions::bucket_floats) run on a thread of its
// own; with less it runs in the caller's thread. No stall watchdog: that
// needs MPI_THREAD_MULTIPLE and is the `sinapsis` program's (train
// --stall-timeout). Throws std::runtime_error if MPI is not initialized.
std::unique_ptr<Communicator> make_communicator(MPI_Comm comm);

}  // namespace sinapsis
