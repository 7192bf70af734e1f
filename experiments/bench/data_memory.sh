#!/usr/bin/env bash
# Data-pipeline memory benchmark (issue 3): does the peak resident memory of
# a rank grow with N/p (its own part of the data) rather than with N?
#
# Usage (from anywhere):
#   experiments/bench/data_memory.sh [SINAPSIS_BINARY]
#     default binary: build/release/launch/sinapsis
#   environment: SAMPLES (default 2000000 rows), REPEATS (default 3 runs per
#   configuration; the median is printed), KEEP=1 keeps the data directory.
#
# It writes (python3 + h5py) a synthetic data set of SAMPLES rows x 64 float32
# features (~512 MB at 2M rows) with int64 class ids 0/1, shards it into 8
# shards with `sinapsis data shard`, and trains one epoch of a 64-8-2 net on
# it under `mpirun -n p` for p = 1, 2, 4 (each rank reads whole shards,
# round-robin). For contrast it trains on the unsharded file with p = 1, 2
# (each rank reads a contiguous hyperslab of N/p rows), on a file of N/2 rows
# with p = 1 (same rows per rank as N with p = 2), and on a 1000-row file (the
# constant: binary, MPI, BLAS buffers, model; run with each p). The value read is what
# `sinapsis train` prints: "peak memory per rank" = the largest ru_maxrss over
# the ranks. Everything goes to a mktemp directory under /tmp, removed at the
# end. A benchmark, not a test: exits 0 unless something fails to run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SINAPSIS=${1:-$ROOT/build/release/launch/sinapsis}
PYTHON=/usr/bin/python3
SAMPLES=${SAMPLES:-2000000}
REPEATS=${REPEATS:-3}
D=64
SHARDS=8
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

[[ -x "$SINAPSIS" ]] || { echo "data_memory.sh: no sinapsis binary at $SINAPSIS (build it, or pass its path)" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "data_memory.sh: mpirun not found (apt-get install openmpi-bin)" >&2; exit 1; }
"$PYTHON" -c 'import h5py, numpy' 2>/dev/null ||
  { echo "data_memory.sh: needs python3-h5py and python3-numpy (apt-get install python3-h5py)" >&2; exit 1; }

# Disk: the file, its N/2 copy and the 8 shards, ~2.6 x the data, plus slack.
data_mib=$((SAMPLES * D * 4 / 1048576))
need_mib=$((data_mib * 3 + 256))
free_mib=$(df -Pm /tmp | awk 'NR == 2 { print $4 }')
if ((free_mib < need_mib)); then
  echo "data_memory.sh: /tmp has $free_mib MiB free, needs ~$need_mib MiB for $SAMPLES rows (set SAMPLES lower)" >&2
  exit 1
fi
work=$(mktemp -d /tmp/sinapsis_datamem.XXXXXX)
cleanup() { if [[ "${KEEP:-0}" == 1 ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi; }
trap cleanup EXIT
echo "data_memory.sh: $SAMPLES rows x $D float32 features (${data_mib} MiB), $REPEATS run(s) each, in $work" >&2

"$PYTHON" - "$work" "$SAMPLES" "$D" <<'EOF'
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
        step = 250_000
        for a in range(0, rows, step):
            b = min(rows, a + step)
            block = rng.standard_normal((b - a, d), dtype=np.float32)
            x[a:b] = block
            y[a:b] = (block @ w > 0).astype(np.int64)
        f.attrs["task"] = "classification"
        f.attrs["classes"] = 2
write(f"{work}/big.h5", n)
write(f"{work}/half.h5", n // 2)
write(f"{work}/tiny.h5", 1000)
EOF
"$SINAPSIS" data shard "$work/big.h5" --shards "$SHARDS" --out-dir "$work/shards" >/dev/null

# One training run; prints "peak_MiB wall_seconds".
train() {  # ranks data
  local start end peak
  start=$(date +%s.%N)
  peak=$(mpirun -n "$1" --oversubscribe "$SINAPSIS" train --data "$2" --hidden 8 --epochs 1 --batch 256 \
           --threads 1 --out "$work/run" --overwrite --quiet | sed -n 's/^peak memory per rank: \([0-9]*\) MiB$/\1/p')
  end=$(date +%s.%N)
  [[ -n "$peak" ]] || { echo "data_memory.sh: no 'peak memory per rank' line from mpirun -n $1 ... --data $2" >&2; exit 1; }
  echo "$peak $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# layout | ranks | data path | rows
configs=(
  "baseline (1000 rows)|1|$work/tiny.h5|1000"
  "baseline (1000 rows)|2|$work/tiny.h5|1000"
  "baseline (1000 rows)|4|$work/tiny.h5|1000"
  "8 shards|1|$work/shards|$SAMPLES"
  "8 shards|2|$work/shards|$SAMPLES"
  "8 shards|4|$work/shards|$SAMPLES"
  "one file|1|$work/big.h5|$SAMPLES"
  "one file|2|$work/big.h5|$SAMPLES"
  "one file, N/2 rows|1|$work/half.h5|$((SAMPLES / 2))"
)
declare -A peaks walls
for ((r = 1; r <= REPEATS; ++r)); do
  echo "round $r/$REPEATS ..." >&2
  for i in "${!configs[@]}"; do
    IFS='|' read -r _ ranks path _ <<<"${configs[$i]}"
    read -r peak wall < <(train "$ranks" "$path")
    peaks[$i]+="$peak "
    walls[$i]+="$wall "
  done
done

declare -A base  # ranks -> median peak of the 1000-row runs
for i in 0 1 2; do
  IFS='|' read -r _ ranks _ _ <<<"${configs[$i]}"
  base[$ranks]=$(tr ' ' '\n' <<<"${peaks[$i]}" | grep . | median)
done
echo
echo "N = $SAMPLES rows x $D float32 features = $data_mib MiB; 64-8-2 net, batch 256, 1 epoch, 1 BLAS thread per rank"
echo "baseline = the same run on a 1000-row file with the same p (binary, MPI, BLAS, model). Medians of $REPEATS run(s)."
echo
printf '| %-20s | %2s | %14s | %14s | %10s | %21s | %8s |\n' layout p "data MiB/rank" "peak MiB/rank" "peak/data" "(peak-baseline)/data" "wall s"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' "----------------------" "---:" "---------------:" "---------------:" "-----------:" "----------------------:" "---------:"
for i in "${!configs[@]}"; do
  IFS='|' read -r layout ranks _ rows <<<"${configs[$i]}"
  peak=$(tr ' ' '\n' <<<"${peaks[$i]}" | grep . | median)
  wall=$(tr ' ' '\n' <<<"${walls[$i]}" | grep . | median)
  awk -v l="$layout" -v p="$ranks" -v rows="$rows" -v d="$D" -v peak="$peak" -v base="${base[$ranks]}" -v wall="$wall" 'BEGIN {
    data = rows * d * 4 / p / 1048576
    big = rows > 1000
    printf "| %-20s | %2d | %14.1f | %14d | %10s | %21s | %8.1f |\n", l, p, data, peak,
           (big ? sprintf("%.2f", peak / data) : "-"), (big ? sprintf("%.2f", (peak - base) / data) : "-"), wall }'
done
echo
echo "peak/data near a constant c (and (peak-baseline)/data flat across p) means peak ~ baseline + c * N/p."
