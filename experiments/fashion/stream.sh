#!/usr/bin/env bash
# Fashion-MNIST streamed from its file with a 20 MB budget per rank against
# the same recipe held in memory (issue 17): test accuracy, the share of
# epoch time spent waiting for batches (io_seconds / epoch_seconds, median
# over the epochs), and peak resident memory per rank.
#
# The recipe is adamw.sh's (784-512-256-10, AdamW, cosine, 2 ranks) with
# --shuffle global, blocks of 256 rows and a buffer of 4096 rows per rank.
# Held (--data-in-memory on) every rank holds the 60,000 training images;
# streamed (--data-in-memory off --memory-budget 20MB) it reads them from the
# file (from the page cache after the first epoch) through the buffer. With
# the same shuffle options both train on the same rows in the same order.
#
# Usage: experiments/fashion/stream.sh [--epochs E] [--seed S]
# A measurement: exits 0 whatever the numbers.
set -euo pipefail
cd "$(dirname "$0")/../.."
sinapsis=${SINAPSIS:-build/release/launch/sinapsis}
epochs=30 seed=1
while (($#)); do
  case "$1" in
    --epochs) epochs=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) echo "stream.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
# shellcheck source=experiments/fashion/data.sh
source experiments/fashion/data.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
for mode in held streamed; do
  run=runs/fashion-stream-$mode-$seed
  residency=(--data-in-memory on)
  [[ $mode == streamed ]] && residency=(--data-in-memory off --memory-budget 20MB)
  mpirun -n 2 "$sinapsis" train --data runs/fashion-train.h5 --test-data runs/fashion-test.h5 \
    --hidden 512,256 --activation relu --init he --optimizer adamw --lr 0.001 --weight-decay 0.05 \
    --lr-schedule cosine --batch 128 --keep-prob 0.8 --epochs "$epochs" --seed "$seed" \
    --shuffle global --shuffle-block 256 --shuffle-buffer 4096 "${residency[@]}" \
    --quiet --overwrite --out "$run" >"$run.log" 2>&1
  accuracy=$(awk '/^test_loss/ {print $4}' "$run.log")
  peak=$(awk '/^peak memory per rank/ {print $5, $6}' "$run.log")
  io=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) { if ($i == "io_seconds") a = i; if ($i == "epoch_seconds") b = i } }
                NR > 1 { print $a / $b }' "$run/metrics.csv" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  echo "$mode: test accuracy $accuracy, io/epoch time (median) $io, peak memory per rank $peak ($run)"
done
