#!/usr/bin/env bash
# The lecture's XOR training setup: 2-2-1, ReLU hidden units, linear output,
# mean squared error, plain full-batch SGD, from 20 seeds. A seed succeeds when
# every one of the four outputs is within 0.1 of its target (0, 1, 1, 0).
# Usage: experiments/seed_networks/xor_relu_success.sh [sinapsis binary]
set -euo pipefail
cd "$(dirname "$0")/../.."
sinapsis="${1:-build/release/launch/sinapsis}"
data=experiments/data/xor_regression.h5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
lr="${LR:-0.1}" epochs="${EPOCHS:-2000}" init="${INIT:-glorot}"
successes=0
for seed in $(seq 1 20); do
  "$sinapsis" train --data "$data" --hidden 2 --activation relu --output linear --loss mse \
    --init "$init" --lr "$lr" --batch 4 --epochs "$epochs" --seed "$seed" --threads 1 --quiet \
    --out "$work/$seed" >/dev/null
  "$sinapsis" predict --model "$work/$seed/model.h5" --data "$data" --out "$work/p.csv" >/dev/null
  outputs=$(tail -n +2 "$work/p.csv" | tr '\n' ' ')
  if tail -n +2 "$work/p.csv" | paste -sd, | awk -F, '{t[1]=0;t[2]=1;t[3]=1;t[4]=0; ok=1;
       for (i=1;i<=4;i++) { d=$i-t[i]; if (d<0) d=-d; if (d>=0.1) ok=0 } exit !ok}'; then
    successes=$((successes + 1)); verdict=learned
  else
    verdict=stuck
  fi
  printf 'seed %2d  %-8s outputs %s\n' "$seed" "$verdict" "$outputs"
done
echo "2-2-1 ReLU + MSE (init $init, lr $lr, $epochs epochs): $successes of 20 seeds learn XOR"
