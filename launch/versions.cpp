#include "launch/versions.hpp"

#include <sstream>

#include "core/blas_runtime.hpp"
#include "dist/communicator.hpp"
#include "io/inspect.hpp"
#include "launch/build_commit.hpp"

namespace sinapsis::cli {

std::string version_text() {
  const BlasRuntime blas = blas_runtime();
  std::ostringstream text;
  text << "sinapsis " << SINAPSIS_VERSION << " (commit " << kBuildCommit << ")\n"
       << "MPI: " << mpi_library_version() << "\n"
       << "BLAS: " << blas.library << ", kernel " << blas.kernel << "\n"
       << "HDF5: " << hdf5_library_version();
  return text.str();
}

}  // namespace sinapsis::cli
