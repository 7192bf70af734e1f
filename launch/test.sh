#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the release build,
# then the same tests under AddressSanitizer + UndefinedBehaviorSanitizer.
# SINAPSIS_SKIP_SANITIZE=1 skips the sanitizer pass (local iteration only).
set -euo pipefail
cd "$(dirname "$0")/.."
launch/deps.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

launch/build.sh release
ctest --preset release -j "$(nproc)"

if [[ "${SINAPSIS_SKIP_SANITIZE:-0}" != "1" ]]; then
  launch/build.sh sanitize
  ctest --preset sanitize -j "$(nproc)"
fi
