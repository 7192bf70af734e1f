-- Environment Modules / Lmod modulefile for sinapsis, installed as
-- PREFIX/share/sinapsis/modulefiles/sinapsis/VERSION.lua:
--   module use PREFIX/share/sinapsis/modulefiles
--   module load sinapsis
-- The install prefix is found from this file's own path, so the tree can be
-- installed anywhere (cmake --install --prefix DIR) or moved.
whatis("Name: sinapsis")
whatis("Description: train and sweep multilayer perceptrons data-parallel over MPI")
help([[
sinapsis trains multilayer perceptrons data-parallel across MPI ranks.
  mpirun -n 4 sinapsis train --data DATA.h5 --hidden 64,64 --out RUN
  sinapsis --help
Scripts for sbatch: $SINAPSIS_ROOT/share/sinapsis/slurm.
C++ and CMake: find_package(sinapsis) finds this installation.
]])

local root = myFileName():match("^(.*)/share/sinapsis/modulefiles/")
conflict("sinapsis")
setenv("SINAPSIS_ROOT", root)
prepend_path("PATH", pathJoin(root, "bin"))
prepend_path("MANPATH", pathJoin(root, "share/man"))
prepend_path("CMAKE_PREFIX_PATH", root)
