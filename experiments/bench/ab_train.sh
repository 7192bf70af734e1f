#!/usr/bin/env bash
# A/B of two sinapsis binaries on the same training job, measured in one run:
# each round trains with both (the order alternates from round to round),
# and the ratio candidate/baseline of samples/s is taken per round, then the
# median over rounds. Written to check that a change leaves the default path
# as fast as before (issue 12: 2 ranks on one host within 1.02x of the fused
# step before the overlap work).
#
# Usage:
#   experiments/bench/ab_train.sh --baseline BIN --candidate BIN [--ranks N] [--rounds N]
#                                 [--no-guard] -- TRAIN_OPTIONS...
#     TRAIN_OPTIONS   given to `sinapsis train` of both (with --data, without
#                     --out); samples/s is the median of epochs 2..E of a
#                     run's metrics.csv, so give --epochs 3 or more
#     --ranks N       mpirun -n N (default 2, one host)
#     --rounds N      rounds (default 5)
#     --no-guard      do not wait for a quiet machine (experiments/bench/quiet.sh)
# Prints one line per round and the medians; exits non-zero only if a run fails.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
baseline='' candidate='' ranks=2 rounds=5
while (($#)); do
  case $1 in
    --baseline) baseline=$(realpath "$2"); shift 2 ;;
    --candidate) candidate=$(realpath "$2"); shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --no-guard) export QUIET_GUARD=0; shift ;;
    --) shift; break ;;
    *) echo "ab_train.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
[[ -x $baseline && -x $candidate ]] || { echo "ab_train.sh: --baseline and --candidate must be executables" >&2; exit 2; }
(($#)) || { echo "ab_train.sh: give the train options after --" >&2; exit 2; }
# shellcheck source=experiments/bench/quiet.sh
source "$here/quiet.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d "${TMPDIR:-/tmp}/sinapsis_ab.XXXXXX")
trap 'rm -rf "$work"' EXIT

# samples/s of a run: the median over epochs 2.. of its metrics.csv.
samples_per_second() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == "samples_per_second") c = i; next } NR > 2 { print $c }' \
    "$1/metrics.csv" | sort -g | awk '{ v[n++] = $1 } END { if (n == 0) exit 1; printf "%.1f", n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2 }'
}
train_options=("$@")
run() {  # run NAME BINARY: trains into $work/NAME, prints its samples/s
  local name=$1 binary=$2
  rm -rf "${work:?}/$name"
  guarded "$name" mpirun -n "$ranks" --oversubscribe "$binary" train "${train_options[@]}" --out "$work/$name" --quiet \
    >"$work/$name.log" 2>&1 || { cat "$work/$name.log" >&2; exit 1; }
  samples_per_second "$work/$name"
}
echo "A/B: $ranks ranks, train ${train_options[*]}"
echo "baseline: $baseline"
echo "candidate: $candidate"
ratios=() a_all=() b_all=()
for ((r = 1; r <= rounds; ++r)); do
  if ((r % 2)); then a=$(run a "$baseline"); b=$(run b "$candidate")
  else b=$(run b "$candidate"); a=$(run a "$baseline"); fi
  ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')
  ratios+=("$ratio") a_all+=("$a") b_all+=("$b")
  echo "round $r: baseline $a samples/s, candidate $b samples/s, candidate/baseline $ratio"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[n++] = $1 } END { print n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2 }'; }
echo "median: baseline $(median "${a_all[@]}") samples/s, candidate $(median "${b_all[@]}") samples/s," \
  "candidate/baseline $(median "${ratios[@]}") (per-round ratios: ${ratios[*]}; quiet-guard repeats: $QUIET_REPEATS)"
