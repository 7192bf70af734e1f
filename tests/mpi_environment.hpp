// The communicator of an MPI test binary (set by tests/mpi_main.cpp).
#pragma once

#include "dist/communicator.hpp"

namespace sinapsis::test {
extern Communicator* world;
}
