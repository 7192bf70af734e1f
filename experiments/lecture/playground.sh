#!/usr/bin/env bash
# The four TensorFlow Playground classification data sets at the Playground's
# defaults: 500 points, noise 0, inputs x1,x2, 2 hidden tanh layers of 4 and 2
# neurons, tanh output, squared error, lr 0.03, batch 10, 50 % of the data for
# training, weights U(-0.5,0.5) and biases 0.1 (--init playground), trained
# for 300 epochs on one rank. Prints each set's test loss in the Playground's
# terms (mean of 0.5*(out-target)^2, half the test MSE sinapsis reports) and
# its test accuracy, and exits 1 if any value falls outside what is expected.
#
# Expected (the bounds checked below), with what seed 1 gave and the spread
# over training seeds 1-12 (the seed also picks the train/test split):
#   circle  test loss <= 0.020, accuracy >= 0.98   (seed 1: 0.006 / 1.000; seeds 1-12: 0.0005-0.0064, all 1.000)
#   xor     test loss <= 0.060, accuracy >= 0.95   (seed 1: 0.001 / 1.000; seeds 1-12: 0.0006-0.038, 0.972-1.000)
#   gauss   test loss <= 0.010, accuracy >= 0.99   (seed 1: 0.000 / 1.000; seeds 1-12: all 0.0001, 1.000)
#   spiral  NOT solved at the defaults: test loss 0.35-0.55, accuracy 0.50-0.75
#           (seed 1: 0.477 / 0.644; seeds 1-12: 0.405-0.481, 0.552-0.692),
#           far above the exercise's target 0.15
#   spiral with all seven inputs (x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2) and 4 hidden
#           layers of 8: solved, test loss <= 0.150 (the exercise's target),
#           accuracy >= 0.90 (seed 1: 0.008 / 0.992; seeds 1-12: 0.001-0.103,
#           accuracy 0.93-1.00). With 2 layers of 8 it is less reliable: seeds
#           1-12 gave 0.003-0.203, three of them above 0.10.
#
# Usage: experiments/lecture/playground.sh      (SEED=n picks another training seed)
# Binary: ${SINAPSIS:-build/release/launch/sinapsis}; build it with
#   cmake --preset release && cmake --build --preset release
set -euo pipefail
cd "$(dirname "$0")/../.."
sinapsis="${SINAPSIS:-build/release/launch/sinapsis}"
seed="${SEED:-1}"
epochs=300
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

playground=(--activation tanh --output tanh --loss mse --init playground --lr 0.03 --batch 10
            --test-split 0.5 --epochs "$epochs" --seed "$seed" --threads 1 --quiet)
failures=0

# run NAME DATASET FEATURES HIDDEN MAX_LOSS MIN_LOSS MIN_ACC MAX_ACC
run() {
  local name=$1 dataset=$2 features=$3 hidden=$4
  local max_loss=$5 min_loss=$6 min_acc=$7 max_acc=$8
  local run_dir="$work/$name"
  "$sinapsis" train --data "$work/$dataset.h5" --features "$features" --hidden "$hidden" \
    "${playground[@]}" --out "$run_dir" >/dev/null
  local mse acc
  mse=$(jq -r .kept_model.test_loss "$run_dir/summary.json")
  acc=$(jq -r .kept_model.test_accuracy "$run_dir/summary.json")
  awk -v name="$name" -v hidden="$hidden" -v features="$features" -v mse="$mse" -v acc="$acc" \
      -v max_loss="$max_loss" -v min_loss="$min_loss" -v min_acc="$min_acc" -v max_acc="$max_acc" '
    BEGIN {
      loss = mse / 2
      ok = loss <= max_loss && loss >= min_loss && acc >= min_acc && acc <= max_acc
      printf "%-14s %-8s %-34s %9.4f %8.3f   loss %.3f-%.3f acc %.2f-%.2f  %s\n",
             name, hidden, features, loss, acc, min_loss, max_loss, min_acc, max_acc,
             ok ? "ok" : "OUTSIDE"
      exit !ok
    }' || failures=$((failures + 1))
}

for dataset in circle xor gauss spiral; do
  "$sinapsis" data make --dataset "$dataset" --samples 500 --noise 0 --seed 1 \
    --out "$work/$dataset.h5" >/dev/null
done

echo "Playground defaults: 2-4-2-1 tanh, lr 0.03, batch 10, 50 % train, noise 0, $epochs epochs, seed $seed"
printf '%-14s %-8s %-34s %9s %8s   %s\n' "data set" hidden inputs "test loss" accuracy "expected"
run circle      circle x1,x2 4,2 0.020 0    0.98 1
run xor         xor    x1,x2 4,2 0.060 0    0.95 1
run gauss       gauss  x1,x2 4,2 0.010 0    0.99 1
run spiral      spiral x1,x2 4,2 0.550 0.35 0.50 0.75
run spiral-7in  spiral x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2 8,8,8,8 0.150 0 0.90 1
echo "(test loss: the Playground's, mean of 0.5*(out-target)^2 over the 250 test points;"
echo " spiral at the defaults is expected NOT to be solved: its loss stays far above 0.15)"
if ((failures > 0)); then
  echo "$failures value(s) outside the expected range" >&2
  exit 1
fi
