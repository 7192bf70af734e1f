#!/usr/bin/env bash
# Streamed-data throughput benchmark (issue 17): the share of epoch time a
# rank spends getting its batches (metrics.csv io_seconds / epoch_seconds,
# median over the epochs), held in memory against streamed from the page
# cache, on Fashion-MNIST (60,000 x 784), measured in one run.
#
# Usage (from anywhere):
#   experiments/bench/stream_throughput.sh [SINAPSIS_BINARY]
#     default binary: build/release/launch/sinapsis
#   environment: EPOCHS (default 3), RANKS (default 2)
#
# The recipe is experiments/fashion/adamw.sh's (784-512-256-10, AdamW, batch
# 128) with --shuffle global --shuffle-block 256 --shuffle-buffer 4096, so
# held and streamed train on the same rows in the same order. Three runs:
#   held       `data import`'s file, --data-in-memory on
#   import     the same file streamed (--data-in-memory off --memory-budget
#              20MB): uint8, gzip in chunks of ~1 MiB of float32 rows (334),
#              so a block of 256 rows straddles two chunks
#   shards     `data shard --chunk-rows 256`'s set of 2 shards streamed the
#              same way: a block is one chunk, inflated once an epoch
# The files go to runs/stream-bench/ (made once). A benchmark, not a test:
# exits 0 unless something fails to run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SINAPSIS=${1:-$ROOT/build/release/launch/sinapsis}
EPOCHS=${EPOCHS:-3}
RANKS=${RANKS:-2}
[[ -x "$SINAPSIS" ]] || { echo "stream_throughput.sh: no sinapsis binary at $SINAPSIS" >&2; exit 1; }
cd "$ROOT"
sinapsis=$SINAPSIS
# shellcheck source=experiments/fashion/data.sh
source experiments/fashion/data.sh
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
out=runs/stream-bench
mkdir -p "$out"
data=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
[[ -f $out/train.h5 ]] || "$sinapsis" data import --format idx --images "$data/train-images-idx3-ubyte.gz" \
  --labels "$data/train-labels-idx1-ubyte.gz" --out "$out/train.h5" >/dev/null
[[ -d $out/shards ]] || "$sinapsis" data shard "$out/train.h5" --shards 2 --chunk-rows 256 --out-dir "$out/shards" \
  >/dev/null

echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), OpenBLAS kernel: $("$sinapsis" info 2>/dev/null |
  sed -n 's/.*kernel \([A-Za-z0-9_]*\).*/\1/p' | head -1), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
for run in held import shards; do
  input=$out/train.h5 residency=(--data-in-memory off --memory-budget 20MB)
  [[ $run == held ]] && residency=(--data-in-memory on)
  [[ $run == shards ]] && input=$out/shards
  mpirun -n "$RANKS" --oversubscribe "$sinapsis" train --data "$input" \
    --hidden 512,256 --activation relu --init he --optimizer adamw --lr 0.001 --weight-decay 0.05 \
    --batch 128 --epochs "$EPOCHS" --seed 1 --shuffle global --shuffle-block 256 --shuffle-buffer 4096 \
    "${residency[@]}" --quiet --overwrite --out "$out/run-$run" >"$out/run-$run.log" 2>&1 ||
    { echo "stream_throughput.sh: the $run run failed (see $out/run-$run.log)" >&2; exit 1; }
  awk -F, -v run="$run" '
    NR == 1 { for (i = 1; i <= NF; ++i) { if ($i == "io_seconds") a = i; if ($i == "epoch_seconds") b = i } next }
    { io[NR - 1] = $a; ep[NR - 1] = $b; share[NR - 1] = $a / $b; n = NR - 1 }
    function median(v,   i, j, t, w) {
      for (i = 1; i <= n; ++i) w[i] = v[i]
      for (i = 1; i <= n; ++i) for (j = i + 1; j <= n; ++j) if (w[j] < w[i]) { t = w[i]; w[i] = w[j]; w[j] = t }
      return w[int((n + 1) / 2)]
    }
    END { printf "%-7s epoch %.2f s, io %.3f s, io/epoch %.3f (medians of %d epochs)\n", run, median(ep), median(io), median(share), n }
  ' "$out/run-$run/metrics.csv"
done
