#!/usr/bin/env bash
# Installs the Debian packages sinapsis builds and tests with, only those
# missing; does nothing (and needs no network) when all are present.
# Run as root (apt-get). Usage: launch/deps.sh [--with-python]
#   --with-python  also the comparison tools (PyTorch, h5py) used by experiments/
set -euo pipefail

packages=(
  cmake g++ make pkg-config
  openmpi-bin libopenmpi-dev
  libopenblas-dev
  libhdf5-dev hdf5-tools zlib1g-dev
  libboost-program-options-dev
  nlohmann-json3-dev
  libgtest-dev googletest
  libbenchmark-dev
  slurmctld slurmd slurm-client munge   # the SLURM system test (tests/slurm)
  iproute2 util-linux                   # the two-host system test (tests/netns)
  gnuplot-nox                           # sinapsis report's plots
  chromium                              # the report test opens the pages in headless Chromium
  help2man                              # the man page (cmake --install)
  lmod python3-minimal                  # the install test: module load, the Spack recipe's syntax
)
if [[ "${1:-}" == "--with-python" ]]; then
  packages+=(python3-torch python3-h5py python3-numpy)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "launch/deps.sh: missing packages: ${missing[*]}; run as root or install them with apt-get" >&2
  exit 1
fi
echo "launch/deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
