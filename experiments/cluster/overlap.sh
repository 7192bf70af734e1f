#!/usr/bin/env bash
# The overlapped gradient exchange against the fused one, on 2 emulated
# hosts per link preset (issue 12, section 2). For each preset and net,
# bench_buckets (experiments/bench/bench_buckets.cpp) measures in ONE run, on
# the same 2 hosts, rounds of: compute alone, the fused sum alone (comm),
# fused, and the overlapped variants (thread: blocking calls on a background
# thread; poll: the trainer's --overlap on, a background thread testing a
# nonblocking allreduce every 100 us; nbc: nonblocking calls progressed from
# backward's hook, no thread). The ratio that matters is printed as
# "vs max(cp,cm)": 1.0 is a perfect overlap, (compute + comm) / max the
# fused step.
#
# Usage: experiments/cluster/overlap.sh [--presets "unshaped 10gbit 1gbit"]
#          [--rounds N] [--steps S] [--yield 0|1] [--build-dir DIR] [--no-guard]
# Output: one bench_buckets table per (preset, net), to stdout and to
# $OUT_DIR (default /tmp/sinapsis_overlap) as PRESET_NET.txt.
# A benchmark, not a test: exits 0 whatever the numbers.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$here/../.." && pwd)
# shellcheck source=experiments/bench/quiet.sh
source "$ROOT/experiments/bench/quiet.sh"
presets="unshaped 10gbit 1gbit" rounds=5 steps=30 build="$ROOT/build/release" yield=1
while (($#)); do
  case "$1" in
    --presets) presets=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --yield) yield=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --no-guard) QUIET_GUARD=0; shift ;;
    *) echo "overlap.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
out=${OUT_DIR:-/tmp/sinapsis_overlap}
mkdir -p "$out"
bench=$build/experiments/bench_buckets
[[ -x "$bench" ]] || { echo "overlap.sh: no $bench (build the release preset)" >&2; exit 1; }
echo "# $(date -u +%FT%TZ), CPU: $(lscpu | sed -n 's/^Model name: *//p'), mpi_yield_when_idle $yield"
for preset in $presets; do
  for spec in "medium 128" "wide 256"; do
    read -r net rows <<<"$spec"
    file="$out/${preset}_${net}.txt"
    guarded "${preset}_${net}" "$here/run.sh" --preset "$preset" -- --mca mpi_yield_when_idle "$yield" \
      "$bench" --net "$net" --rows "$rows" --rounds "$rounds" --steps "$steps" >"$file" 2>&1
    echo "## $preset, $net net, $rows rows per rank (repeats $QUIET_REPEATS, busy samples $QUIET_BUSY)"
    grep -v '^cluster:' "$file"
  done
done
