# Spack package for sinapsis. Copy this directory into a Spack repository
# (spack repo create; cp -r launch/spack REPO/packages/sinapsis) and run
# `spack install sinapsis`.
from spack.package import *


class Sinapsis(CMakePackage):
    """Train and sweep multilayer perceptrons data-parallel over MPI:
    BLAS-backed forward and backward passes, gradients summed with MPI,
    data in HDF5, runs under mpirun or SLURM with checkpoints and resume."""

    # Where the sinapsis repository is served from: set these two to your
    # copy's address (a path works: git = "file:///path/to/sinapsis").
    homepage = "https://example.org/sinapsis"
    git = "https://example.org/sinapsis.git"

    version("main", branch="main")
    version("0.1.0", tag="v0.1.0")

    variant("tests", default=False, description="Build the GoogleTest suites and benchmarks")

    depends_on("cmake@3.25:", type="build")
    depends_on("help2man", type="build")
    depends_on("mpi")
    depends_on("openblas threads=pthreads")
    depends_on("hdf5@1.10: ~mpi")
    depends_on("zlib-api")
    depends_on("boost@1.74: +program_options")
    depends_on("nlohmann-json@3.11:")
    depends_on("googletest@1.12:", when="+tests", type="build")
    depends_on("benchmark", when="+tests", type="build")

    def cmake_args(self):
        return [
            self.define_from_variant("SINAPSIS_BUILD_TESTS", "tests"),
            self.define_from_variant("SINAPSIS_BUILD_BENCHMARKS", "tests"),
            self.define("SINAPSIS_SYSTEM_TESTS", False),
        ]
