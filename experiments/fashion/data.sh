# shellcheck shell=bash
# Sourced by train.sh and precision.sh (from the repository's top, with
# $sinapsis set): imports the official Fashion-MNIST train and test sets
# into runs/fashion-train.h5 and runs/fashion-test.h5 once, and sets the
# MPI environment the scripts' mpirun lines expect.
data=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
[[ -f $data/train-images-idx3-ubyte.gz ]] || { echo "no Fashion-MNIST in $data: apt-get install dataset-fashion-mnist" >&2; exit 2; }
mkdir -p runs
[[ -f runs/fashion-train.h5 ]] || "$sinapsis" data import --format idx --images "$data/train-images-idx3-ubyte.gz" \
  --labels "$data/train-labels-idx1-ubyte.gz" --out runs/fashion-train.h5
[[ -f runs/fashion-test.h5 ]] || "$sinapsis" data import --format idx --images "$data/t10k-images-idx3-ubyte.gz" \
  --labels "$data/t10k-labels-idx1-ubyte.gz" --out runs/fashion-test.h5
export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1} OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}
export OMPI_MCA_mpi_yield_when_idle=${OMPI_MCA_mpi_yield_when_idle:-1}
