// The versions sinapsis runs with, for --version and `info`: its own, the
// MPI library, the BLAS library and kernel, HDF5.
#pragma once

#include <string>

namespace sinapsis::cli {

// Several lines, no trailing newline.
std::string version_text();

}  // namespace sinapsis::cli
