#!/usr/bin/env bash
# Sweep benchmarks (issue 6), printed as tables with PASS/FAIL:
#  1. a 32-trial sweep on 2 ranks (--ranks-per-trial 1) against the same
#     sweep on 1 rank: wall-clock ratio, median over --runs interleaved runs
#     (threshold: >= 1.8x faster);
#  2. on the lecture's spiral exercise (the demo's grid), ASHA against the
#     full grid: total training epochs and the simplest network meeting the
#     target (threshold: the same network with >= 3x fewer epochs).
# Usage: experiments/bench/sweep.sh [--runs N] [--build DIR]   (exits 0 whatever the verdicts)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=3
build=build/release
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--build DIR]" >&2; exit 2 ;;
  esac
done
sinapsis=$build/launch/sinapsis
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. 32 trials: 4 depths x 4 widths x 2 learning rates on a 4,000-point spiral.
"$sinapsis" data make --dataset spiral --samples 4000 --noise 0.1 --seed 2 --out "$work/spiral4k.h5" >/dev/null
grid=(--data "$work/spiral4k.h5" --test-split 0.5 --depth 1:4 --width 4,8,16,32 --lr 0.01,0.03
      --features x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2 --activation tanh --batch 10 --max-epochs 40 --threads 1 --quiet)
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
one=() two=()
for r in $(seq "$runs"); do
  if (( r % 2 )); then
    one+=("$(seconds mpirun -n 1 "$sinapsis" sweep "${grid[@]}" --overwrite --out "$work/one")")
    two+=("$(seconds mpirun -n 2 "$sinapsis" sweep "${grid[@]}" --overwrite --out "$work/two")")
  else
    two+=("$(seconds mpirun -n 2 "$sinapsis" sweep "${grid[@]}" --overwrite --out "$work/two")")
    one+=("$(seconds mpirun -n 1 "$sinapsis" sweep "${grid[@]}" --overwrite --out "$work/one")")
  fi
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
m1=$(median "${one[@]}"); m2=$(median "${two[@]}")
trials=$(($(wc -l < "$work/one/trials.csv") - 1))
# Every column up to test_accuracy (not seconds, ranks), found by its header's name.
upto=$(head -1 "$work/one/trials.csv" | tr , '\n' | grep -n -x test_accuracy | cut -d: -f1)
same=$(cmp -s <(cut -d, -f1-"$upto" "$work/one/trials.csv") <(cut -d, -f1-"$upto" "$work/two/trials.csv") && echo yes || echo NO)
echo "## 1. $trials-trial sweep, 1 rank vs 2 ranks (--ranks-per-trial 1), $runs runs"
echo "| ranks | seconds (median) | runs |"
echo "|------:|-----------------:|------|"
echo "| 1 | $(printf %.2f "$m1") | ${one[*]} |"
echo "| 2 | $(printf %.2f "$m2") | ${two[*]} |"
ratio=$(echo "$m1 / $m2" | bc -l)
printf 'speed-up %.2fx (threshold 1.8x): %s; identical trial results on 1 and 2 ranks: %s\n\n' "$ratio" \
  "$(awk -v r="$ratio" 'BEGIN {print (r >= 1.8 ? "PASS" : "FAIL")}')" "$same"

# 2. The demo's exercise: ASHA against the full grid.
"$sinapsis" data make --dataset spiral --samples 500 --noise 0 --seed 1 --out "$work/spiral.h5" >/dev/null
exercise=(--data "$work/spiral.h5" --test-split 0.5 --depth 0:3 --width 2,4,6,8
          --features "x1,x2;x1,x2,x1sq,x2sq;x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2" --activation tanh --output tanh
          --loss mse --init playground --lr 0.03 --batch 10 --threads 1 --max-epochs 270 --target-loss 0.30 --quiet)
mpirun -n 2 "$sinapsis" sweep "${exercise[@]}" --out "$work/grid" > "$work/grid.log"
mpirun -n 2 "$sinapsis" sweep "${exercise[@]}" --prune asha --min-epochs 10 --reduction-factor 3 --out "$work/asha" > "$work/asha.log"
epochs() { sed -n 's/.*"total_epochs": \([0-9]*\).*/\1/p' "$1/summary.json"; }
simplest() { grep '^simplest' "$1" | sed 's/; test_loss.*//; s/^simplest[^:]*: //'; }
ge=$(epochs "$work/grid"); ae=$(epochs "$work/asha")
echo "## 2. spiral exercise (target: test MSE < 0.30, the Playground's 0.15): ASHA vs the full grid"
echo "| sweep | total epochs | simplest network under the target |"
echo "|-------|-------------:|-----------------------------------|"
echo "| full grid | $ge | $(simplest "$work/grid.log") |"
echo "| ASHA (eta 3, rungs 10/30/90/270) | $ae | $(simplest "$work/asha.log") |"
ratio=$(echo "$ge / $ae" | bc -l)
same=$([[ "$(simplest "$work/grid.log")" == "$(simplest "$work/asha.log")" ]] && echo yes || echo NO)
printf 'epochs ratio %.2fx (threshold 3x), same simplest network: %s: %s\n' "$ratio" "$same" \
  "$(awk -v r="$ratio" -v s="$same" 'BEGIN {print (r >= 3 && s == "yes" ? "PASS" : "FAIL")}')"
