#!/usr/bin/env bash
# Streamed-data memory benchmark (issue 17): a data set FACTOR times larger
# than the memory budget of each rank trains with a peak resident memory per
# rank within baseline + budget + 10 %, on 1 and 2 ranks.
#
# Usage (from anywhere):
#   experiments/bench/stream_memory.sh [SINAPSIS_BINARY]
#     default binary: build/release/launch/sinapsis
#   environment: BUDGET (default 256MB), FACTOR (default 4), D (features,
#   default 256), KEEP=1 keeps the data directory.
#
# It writes (python3 + h5py, a block at a time) a synthetic data set of
# FACTOR x BUDGET bytes of float32 features (D per row, two classes split by
# a random hyperplane), and trains one epoch of a D-64-2 net on it with
# --data-in-memory off --memory-budget BUDGET --shuffle global. The baseline
# is the same command on a 1000-row file held in memory: the binary, MPI,
# BLAS buffers and the model. The value read is what `sinapsis train` prints:
# "peak memory per rank" = the largest ru_maxrss over the ranks (the page
# cache the reads fill is the kernel's, not the rank's). For contrast, the
# data held (--data-in-memory on, --shuffle shard: each rank its half) on 2
# ranks. Everything goes to a mktemp directory under /tmp, removed at the
# end. A benchmark, not a test: exits 0 unless something fails to run; it
# prints PASS or FAIL per rank count against the bound.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SINAPSIS=${1:-$ROOT/build/release/launch/sinapsis}
PYTHON=/usr/bin/python3
BUDGET=${BUDGET:-256MB}
FACTOR=${FACTOR:-4}
D=${D:-256}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

[[ -x "$SINAPSIS" ]] || { echo "stream_memory.sh: no sinapsis binary at $SINAPSIS" >&2; exit 1; }
"$PYTHON" -c 'import h5py, numpy' 2>/dev/null ||
  { echo "stream_memory.sh: needs python3-h5py and python3-numpy (apt-get install python3-h5py)" >&2; exit 1; }
budget_mib=$("$PYTHON" -c "
import re, sys
m = re.fullmatch(r'([0-9.]+)\s*([KMGT]?)B?', sys.argv[1].upper())
print(int(float(m.group(1)) * 1024 ** ' KMGT'.index(m.group(2) or ' ') / 1048576))" "$BUDGET")
data_mib=$((budget_mib * FACTOR))
rows=$((data_mib * 1048576 / (D * 4)))
free_mib=$(df -Pm /tmp | awk 'NR == 2 { print $4 }')
((free_mib > data_mib + 512)) || { echo "stream_memory.sh: /tmp has $free_mib MiB free, needs ~$((data_mib + 512))" >&2; exit 1; }
work=$(mktemp -d /tmp/sinapsis_streammem.XXXXXX)
cleanup() { if [[ "${KEEP:-0}" == 1 ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi; }
trap cleanup EXIT
echo "stream_memory.sh: $rows rows x $D float32 features ($data_mib MiB), budget $BUDGET ($budget_mib MiB), in $work" >&2

"$PYTHON" - "$work" "$rows" "$D" <<'EOF'
import sys
import h5py
import numpy as np
work, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(1)
w = rng.standard_normal(d).astype(np.float32)
def write(path, rows):
    with h5py.File(path, "w") as f:  # contiguous layout, like `sinapsis data make`
        x = f.create_dataset("features", (rows, d), dtype="<f4")
        y = f.create_dataset("labels", (rows,), dtype="<i8")
        step = 65536
        for a in range(0, rows, step):
            b = min(rows, a + step)
            block = rng.standard_normal((b - a, d), dtype=np.float32)
            x[a:b] = block
            y[a:b] = (block @ w > 0).astype(np.int64)
        f.attrs["task"] = "classification"
        f.attrs["classes"] = 2
write(f"{work}/big.h5", n)
write(f"{work}/tiny.h5", 1000)
EOF

# One run of one epoch; prints the peak resident memory per rank in MiB.
peak() {  # ranks data options...
  local ranks=$1 data=$2
  shift 2
  mpirun -n "$ranks" --oversubscribe "$SINAPSIS" train --data "$data" --hidden 64 --activation relu --batch 256 \
    --epochs 1 --threads 1 --overwrite --quiet --out "$work/run" "$@" >"$work/log" 2>&1 ||
    { cat "$work/log" >&2; exit 1; }
  awk '/^peak memory per rank/ { print $5 }' "$work/log"
}

echo "| ranks | data | residency | peak MiB per rank | baseline MiB | bound (baseline + budget + 10 %) | |"
echo "|---|---|---|---|---|---|---|"
for ranks in 1 2; do
  base=$(peak "$ranks" "$work/tiny.h5" --data-in-memory on)
  streamed=$(peak "$ranks" "$work/big.h5" --data-in-memory off --memory-budget "$BUDGET" --shuffle global)
  bound=$(awk -v b="$base" -v m="$budget_mib" 'BEGIN { printf "%.0f", b + 1.1 * m }')
  verdict=$(awk -v p="$streamed" -v b="$bound" 'BEGIN { print (p <= b ? "PASS" : "FAIL") }')
  echo "| $ranks | $data_mib MiB | streamed, budget $BUDGET | $streamed | $base | $bound | $verdict |"
done
held=$(peak 2 "$work/big.h5" --data-in-memory on)
echo "| 2 | $data_mib MiB | held (each rank its half) | $held | | | contrast |"
