#include "launch/versions.hpp"

#include <hdf5.h>

#include <sstream>

#include "core/blas_runtime.hpp"
#include "dist/communicator.hpp"
#include "launch/build_commit.hpp"

namespace sinapsis::cli {

std::string version_text() {
  const BlasRuntime blas = blas_runtime();
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  std::ostringstream text;
  text << "sinapsis " << SINAPSIS_VERSION << " (commit " << kBuildCommit << ")\n"
       << "MPI: " << mpi_library_version() << "\n"
       << "BLAS: " << blas.library << ", kernel " << blas.kernel << "\n"
       << "HDF5: " << major << "." << minor << "." << release;
  return text.str();
}

}  // namespace sinapsis::cli
