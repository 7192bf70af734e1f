#!/usr/bin/env bash
# Fashion-MNIST 784-512-256-10 on 2 ranks with AdamW and a cosine schedule
# (issue 15: >= 0.90 test accuracy, next to the SGD results of train.sh),
# judged on the 10,000 official test images, one run per seed.
#
# Usage: experiments/fashion/adamw.sh [--seeds "1 2 3"] [--epochs E]
# Prints one line per run and the mean. A measurement: exits 0 whatever the numbers.
set -euo pipefail
cd "$(dirname "$0")/../.."
sinapsis=${SINAPSIS:-build/release/launch/sinapsis}
seeds="1 2 3" epochs=30
while (($#)); do
  case "$1" in
    --seeds) seeds=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    *) echo "adamw.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
# shellcheck source=experiments/fashion/data.sh
source experiments/fashion/data.sh
total=0 runs=0
for seed in $seeds; do
  run=runs/fashion-adamw-$seed
  mpirun -n 2 "$sinapsis" train --data runs/fashion-train.h5 --test-data runs/fashion-test.h5 \
    --hidden 512,256 --activation relu --init he --optimizer adamw --lr 0.001 --weight-decay 0.05 \
    --lr-schedule cosine --batch 128 --keep-prob 0.8 --epochs "$epochs" --seed "$seed" \
    --quiet --overwrite --out "$run" >"$run.log" 2>&1
  accuracy=$(awk '/^test_loss/ {print $4}' "$run.log")
  echo "seed $seed: test accuracy $accuracy ($run)"
  total=$(awk -v t="$total" -v a="$accuracy" 'BEGIN { print t + a }')
  runs=$((runs + 1))
done
awk -v t="$total" -v n="$runs" 'BEGIN { printf "mean test accuracy over %d run(s): %.4f\n", n, t / n }'
