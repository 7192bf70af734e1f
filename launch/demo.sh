#!/usr/bin/env bash
# The main job, end to end on the data sets embedded in experiments/: installs
# what is missing, builds, then runs the lecture's networks through sinapsis
# and prints what they compute.
set -euo pipefail
cd "$(dirname "$0")/.."
launch/deps.sh
launch/build.sh release >/dev/null
sinapsis=build/release/launch/sinapsis
nets=experiments/seed_networks
xor=experiments/data/xor.h5
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

outputs() {  # the model's outputs on the four XOR inputs, on one line
  "$sinapsis" predict --model "$1" --data "$xor" --out "$out/p.csv" >/dev/null
  tail -n +2 "$out/p.csv" | awk -F, '{printf "%s ", ($1 == int($1) ? int($1) : sprintf("%.3f", $1))}'
}

echo "== inputs (x1,x2): (0,0) (0,1) (1,0) (1,1)"
echo "== McCulloch-Pitts step units"
for gate in or and and_not xor; do
  printf '   %-8s -> %s\n' "$gate" "$(outputs "$nets/mp_$gate.h5")"
done
echo "== the lecture's worked XOR network (ReLU, W=[[1,1],[1,1]], c=[0,-1], w=[1,-2], b=0)"
printf '   %-8s -> %s\n' "f(x)" "$(outputs "$nets/xor_worked.h5")"
echo "== XOR learned from scratch: 2-4-1 tanh, sigmoid output, cross-entropy, SGD with momentum"
"$sinapsis" train --data "$xor" --hidden 4 --activation tanh --loss bce --lr 0.5 --momentum 0.9 \
  --batch 4 --epochs 300 --seed 1 --quiet --out "$out/run"
printf '   %-8s -> %s\n' "p(1|x)" "$(outputs "$out/run/model.h5")"
"$sinapsis" eval --model "$out/run/model.h5" --data "$xor" | sed 's/^/   /'

echo "== the lecture's exercise: the TensorFlow Playground spiral, trained data-parallel on 2 MPI ranks"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
"$sinapsis" data make --dataset spiral --samples 500 --noise 0 --seed 1 --out "$out/spiral.h5" | sed 's/^/   /'
"$sinapsis" data shard "$out/spiral.h5" --shards 2 --out-dir "$out/spiral" | sed 's/^/   /'
echo "   inputs x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2; 2 hidden layers of 8 tanh units; tanh output; half the data held out for testing"
mpirun -n 2 --oversubscribe "$sinapsis" train --data "$out/spiral" --test-split 0.5 \
  --features x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2 --hidden 8,8 --activation tanh --output tanh --loss mse \
  --init playground --lr 0.03 --batch 10 --epochs 300 --seed 1 --threads 1 --quiet --out "$out/spiral-run" \
  | tee "$out/spiral.log" | sed 's/^/   /'
test_mse=$(awk '/^test_loss/ {print $2}' "$out/spiral.log")
awk -v mse="$test_mse" 'BEGIN { printf "   test loss in the Playground'"'"'s terms (mean of 0.5*(out-target)^2): %.4f %s\n", mse / 2, (mse / 2 < 0.15 ? "(below the exercise'"'"'s 0.15)" : "(above 0.15)") }'
