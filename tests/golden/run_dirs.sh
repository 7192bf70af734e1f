#!/usr/bin/env bash
# The run directories of train (fresh, checkpointed, resumed; 1 and 2 ranks)
# and of a sweep, compared byte for byte with the ones recorded in
# tests/golden/expected/, except what measures the machine: timings, memory,
# host names and the build's commit (masked to "~" by mask()), and where it
# ran (WORK).
#
#   run_dirs.sh SINAPSIS_BINARY            compare (the ctest golden.run_dirs)
#   run_dirs.sh SINAPSIS_BINARY --record   rewrite expected/ (only when a format
#                                          change is meant; say so in the commit)
#
# The numbers are bitwise reproducible on any x86-64 CPU of these machines:
# one BLAS thread, the Haswell kernel named (OPENBLAS_CORETYPE is respected,
# never re-executed), and sinapsis itself built without -march.
set -euo pipefail
sinapsis=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
expected=$here/expected
export OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1 LC_ALL=C
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

common=(--hidden 6,4 --activation tanh --lr 0.05 --momentum 0.9 --l2 0.001 --batch 16 --threads 1
        --val-split 0.2 --test-split 0.2 --patience 20 --quiet --progress plain
        --check-consistency true)  # (on in debug builds by default)
"$sinapsis" data make --dataset spiral --noise 0.1 --samples 400 --seed 3 --out spiral.h5 >/dev/null
# 1 rank, straight through; then 2 ranks, stopped at epoch 3 and resumed to 6.
"$sinapsis" train --data spiral.h5 --out one "${common[@]}" --epochs 6 --checkpoint-every 2 --keep-prob 0.9 >/dev/null
mpirun -n 2 "$sinapsis" train --data spiral.h5 --out two "${common[@]}" --epochs 3 --checkpoint-every 1 >/dev/null
mkdir -p two-stopped && cp two/checkpoint.h5 two/metrics.csv two/config.ini two-stopped/
mpirun -n 2 "$sinapsis" train --resume two --epochs 6 --quiet --check-consistency true >/dev/null
# A sweep of four trials with ASHA's rungs (one rank: the order trials end
# in, which decides promotions, is then fixed), and one of two trials that
# two ranks train together.
"$sinapsis" sweep --data spiral.h5 --out sweep --depth 1:2 --width 2,4 --max-epochs 4 --min-epochs 1 \
  --prune asha --reduction-factor 2 --val-split 0.25 --batch 16 --threads 1 --check-consistency true --quiet >/dev/null
mpirun -n 2 "$sinapsis" sweep --data spiral.h5 --out sweep2 --depth 1 --width 3,5 --lr 0.03,0.1 --max-epochs 3 \
  --ranks-per-trial 2 --test-split 0.25 --batch 16 --threads 1 --check-consistency true --quiet >/dev/null

# The text of one run file with what measures the machine masked, and the
# work directory (runs record absolute paths) written WORK.
mask() {
  mask_machine "$1" | sed "s|$work|WORK|g"
}
mask_machine() {
  case "$1" in
    *.h5)  # line 1 names the file; a checkpoint holds the metrics rows
      h5dump "$1" | tail -n +2 | awk -F, -v OFS=, 'NF >= 16 { $7 = $8 = $11 = $12 = $13 = $14 = "~" } { print }' ;;
    *metrics.csv)  # epoch_seconds, samples_per_second, compute/comm/io/comm_hidden seconds
      awk -F, -v OFS=, 'NR > 1 { $7 = $8 = $11 = $12 = $13 = $14 = "~" } { print }' "$1" ;;
    *trials.csv | */rung-*.csv)  # the columns named *seconds*
      awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i ~ /seconds|samples_per_second/) m[i] = 1 }
                        NR > 1 { for (i in m) $i = "~" } { print }' "$1" ;;
    *.json)
      sed -E 's/^( *"(wall_seconds|samples_per_second|compute|communication|communication_hidden|io|evaluation_and_other|peak_memory_mib_per_rank|seconds|trial_seconds|commit)": )[^,]*(,?)$/\1~\3/;
              s/^( *"hosts": ).*$/\1~/' "$1" ;;
    *.lock) tr -d '\000' < "$1" | sed -E 's/ \(pid .*$/ (~)/' ;;  # the holder: pid, host, time (NUL-padded)
    *) cat "$1" ;;
  esac
}

files=$(find one two two-stopped sweep sweep2 -type f ! -name .lock ! -path '*/report/*' | LC_ALL=C sort)
if [[ ${2:-} == --record ]]; then
  rm -rf "$expected" && mkdir -p "$expected"
  for f in $files; do mkdir -p "$expected/$(dirname "$f")"; mask "$f" > "$expected/$f.txt"; done
  echo "recorded $(echo "$files" | wc -l) files in $expected"
  exit 0
fi
status=0
listed=$(cd "$expected" && find . -type f -name '*.txt' | sed 's|^\./||; s|\.txt$||' | LC_ALL=C sort)
if [[ "$listed" != "$files" ]]; then
  echo "golden: the run directories hold other files than recorded:"; diff <(echo "$listed") <(echo "$files") || true
  status=1
fi
for f in $files; do
  [[ -f "$expected/$f.txt" ]] || continue
  if ! diff -u "$expected/$f.txt" <(mask "$f") > diff.out; then
    echo "golden: $f differs from tests/golden/expected/$f.txt:"; head -40 diff.out; status=1
  fi
done
[[ $status == 0 ]] && echo "golden: $(echo "$files" | wc -l) files identical (timings masked)"
exit $status
