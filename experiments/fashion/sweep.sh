#!/usr/bin/env bash
# A depth x width sweep on Fashion-MNIST with ASHA, on 2 MPI ranks (one
# trial per rank): 1-3 hidden layers x 64-512 ReLU units, rungs at 1, 3 and
# 9 epochs (eta 3), judged by the loss on 6,000 held-out training images.
#
# Expected: the best trial is at least 0.87 accurate on the official test
# images after its 9 epochs; prints the table of trials and the best.
# Usage: experiments/fashion/sweep.sh [SWEEP_DIR]   (after experiments/fashion/train.sh imported the data)
set -euo pipefail
cd "$(dirname "$0")/../.."
sinapsis=${SINAPSIS:-build/release/launch/sinapsis}
out=${1:-runs/fashion-sweep}
[[ -f runs/fashion-train.h5 ]] || { echo "run experiments/fashion/train.sh first (it imports the data)" >&2; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1} OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}
export OMPI_MCA_mpi_yield_when_idle=${OMPI_MCA_mpi_yield_when_idle:-1}
mpirun -n 2 "$sinapsis" sweep --data runs/fashion-train.h5 --val-split 0.1 --test-data runs/fashion-test.h5 \
  --depth 1:3 --width 64,128,256,512 --activation relu --init he --lr 0.05 --momentum 0.9 --batch 128 \
  --prune asha --min-epochs 1 --max-epochs 9 --reduction-factor 3 --seed 1 --overwrite --out "$out" | tee "$out.log"
echo
# Columns by their header's names (trials.csv's order changes as knobs are added).
column -s, -t < <(awk -F, -v names=trial,depth,width,hidden_units,parameters,epochs_run,rung,status,val_loss,test_loss,test_accuracy \
  'NR == 1 { k = split(names, n, ","); for (i = 1; i <= NF; ++i) at[$i] = i }
   { line = ""; for (j = 1; j <= k; ++j) line = line (j > 1 ? "," : "") $(at[n[j]]); print line }' "$out/trials.csv")
accuracy=$(sed -n '/"best"/,/}/ s/.*"test_accuracy": \([0-9.]*\).*/\1/p' "$out/summary.json" | head -1)
awk -v a="$accuracy" 'BEGIN { ok = a >= 0.87; printf "best trial: test accuracy %s: %s (expected >= 0.87)\n", a, ok ? "PASS" : "FAIL"; exit !ok }'
