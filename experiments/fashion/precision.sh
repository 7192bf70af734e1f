#!/usr/bin/env bash
# Fashion-MNIST 784-512-256-10 on 2 ranks with gradients exchanged as fp32
# and as bf16 (--grad-precision), same seeds, judged on the 10,000 official
# test images (issue 12: bf16 within 0.3 points of fp32, for 3 seeds).
# The training is experiments/fashion/train.sh's, with --epochs E (default 30).
#
# Usage: experiments/fashion/precision.sh [--seeds "1 2 3"] [--epochs E] [--precisions "fp32 bf16"]
# Prints one line per run and a table: seed, test accuracy per precision, and
# the difference to fp32 in points. A measurement: exits 0 whatever the numbers.
set -euo pipefail
cd "$(dirname "$0")/../.."
sinapsis=${SINAPSIS:-build/release/launch/sinapsis}
seeds="1 2 3" epochs=30 precisions="fp32 bf16"
while (($#)); do
  case "$1" in
    --seeds) seeds=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --precisions) precisions=$2; shift 2 ;;
    *) echo "precision.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
# shellcheck source=experiments/fashion/data.sh
source experiments/fashion/data.sh
declare -A accuracy
for seed in $seeds; do
  for precision in $precisions; do
    run=runs/fashion-precision-$precision-$seed
    mpirun -n 2 "$sinapsis" train --data runs/fashion-train.h5 --test-data runs/fashion-test.h5 \
      --hidden 512,256 --activation relu --init he --lr 0.05 --momentum 0.9 --batch 128 --epochs "$epochs" \
      --lr-schedule step --lr-decay 0.3 --lr-decay-every 10 --seed "$seed" --grad-precision "$precision" \
      --quiet --overwrite --out "$run" >"$run.log" 2>&1
    accuracy[$seed,$precision]=$(awk '/^test_loss/ {print $4}' "$run.log")
    echo "seed $seed $precision: test accuracy ${accuracy[$seed,$precision]}"
  done
done
printf '\n%-6s' seed; for p in $precisions; do printf ' %10s' "$p"; done; printf '   points vs fp32\n'
for seed in $seeds; do
  printf '%-6s' "$seed"
  for p in $precisions; do printf ' %10s' "${accuracy[$seed,$p]}"; done
  for p in $precisions; do
    [[ $p == fp32 ]] && continue
    awk -v a="${accuracy[$seed,$p]}" -v b="${accuracy[$seed,fp32]:-nan}" -v p="$p" 'BEGIN { printf "   %s %+.2f", p, (a - b) * 100 }'
  done
  printf '\n'
done
