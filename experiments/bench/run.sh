#!/usr/bin/env bash
# Core-engine speed benchmark: sinapsis (bench_engine) against bare sgemm and
# PyTorch 1.13, same OpenBLAS kernel, one thread. Prints the table and the
# PASS/FAIL of each acceptance threshold (issue 2). A benchmark, not a test:
# exits 0 whatever the verdicts (non-zero only if something fails to run).
#
# Usage (from anywhere):
#   experiments/bench/run.sh [--rounds N] [--repetitions N] [--breakdown] [--no-build]
#     --rounds N       rounds (default 5); in each round every net is timed in
#                      sinapsis and in PyTorch back to back (order alternating
#                      between rounds), so each ratio compares runs made
#                      seconds apart; reported: medians over rounds
#     --repetitions N  repetitions per benchmark per round (default 5); each
#                      round's value is the median over its repetitions
#     --breakdown      also time the pieces of each sinapsis step (part/*)
#     --no-build       do not (re)build bench_engine and sinapsis
#
# Times are thread CPU time per training step (what the thresholds compare:
# other processes on a shared machine disturb it much less than wall-clock);
# the wall-clock ratios are printed alongside. Raw JSON is kept in the
# directory printed first.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD="$ROOT/build/release"
PYTHON=/usr/bin/python3
NETS=(wide medium tiny)
rounds=5
repetitions=5
breakdown=0
build=1
while (($#)); do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --repetitions) repetitions=$2; shift 2 ;;
    --breakdown) breakdown=1; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if ((build)); then
  # A failed build (e.g. someone else's file mid-edit) is fatal only when
  # there is no binary from an earlier build to run.
  if ! (cd "$ROOT" && { [[ -f "$BUILD/CMakeCache.txt" ]] || cmake --preset release >/dev/null; } &&
        cmake --build "$BUILD" -j2 --target bench_engine sinapsis >"$BUILD/bench_build.log" 2>&1); then
    if [[ -x "$BUILD/experiments/bench_engine" && -x "$BUILD/launch/sinapsis" ]]; then
      echo "run.sh: warning: the build failed (see $BUILD/bench_build.log); using the existing binaries" >&2
    else
      echo "run.sh: the build failed, see $BUILD/bench_build.log" >&2
      exit 1
    fi
  fi
fi

# The kernel sinapsis runs (after its own CPU check) is forced on PyTorch too.
kernel=$("$BUILD/launch/sinapsis" info --no-measure | sed -n 's/^BLAS kernel: //p')
export OPENBLAS_CORETYPE="$kernel" OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
export SINAPSIS_BENCH_REPETITIONS="$repetitions"
out=$(mktemp -d /tmp/sinapsis_bench.XXXXXX)
echo "OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE, 1 thread; $rounds rounds x $repetitions repetitions; raw JSON in $out" >&2

run_sinapsis() {  # round net
  "$BUILD/experiments/bench_engine" --benchmark_filter="^(step|sgemm_only|paired)/$2/" \
    --benchmark_enable_random_interleaving=true \
    --benchmark_out="$out/r$1_$2_sinapsis.json" --benchmark_out_format=json \
    >/dev/null 2>"$out/r$1_$2_sinapsis.log"
}
run_torch() {  # round net
  "$PYTHON" "$ROOT/experiments/bench/torch_bench.py" --nets "$2" --repetitions "$repetitions" \
    >"$out/r$1_$2_torch.json"
}
for ((r = 1; r <= rounds; ++r)); do
  echo "round $r/$rounds ..." >&2
  for net in "${NETS[@]}"; do
    if ((r % 2)); then run_sinapsis "$r" "$net"; run_torch "$r" "$net"
    else run_torch "$r" "$net"; run_sinapsis "$r" "$net"; fi
  done
done
if ((breakdown)); then
  echo "breakdown ..." >&2
  "$BUILD/experiments/bench_engine" --benchmark_filter='^(part|step|sgemm_only|timed_step)/' \
    --benchmark_enable_random_interleaving=true \
    --benchmark_out="$out/breakdown.json" --benchmark_out_format=json >/dev/null 2>"$out/breakdown.log"
fi

"$PYTHON" - "$out" "$rounds" "$breakdown" <<'EOF' | tee "$out/summary.txt"
import json, statistics, sys
out, rounds, breakdown = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
NETS = ("wide", "medium", "tiny")
BATCH = {"wide": 256, "medium": 128, "tiny": 10}
UNIT = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
CLOCKS = ("cpu", "wall")

def gbench(path):
    """Medians from a Google Benchmark JSON file: {"step/wide": (cpu_s, wall_s)};
    for paired/<net> the (cpu, wall) step/sgemm ratios."""
    data = json.load(open(path))
    res = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        key = "/".join(b["run_name"].split("/")[:-3])  # drop min_time/repeats/real_time
        if key.startswith("paired/"):
            res[key] = (b["ratio_cpu"], b["ratio_wall"])
        elif key.startswith("timed_step/"):
            res[key] = {k: b[k] * 1e-3 for k in b if k.endswith("_ms")}
        else:
            u = UNIT[b["time_unit"]]
            res[key] = (b["cpu_time"] * u, b["real_time"] * u)
    return data["context"], res

rows = []  # one dict per round
for r in range(1, rounds + 1):
    row = {}
    for net in NETS:
        ctx, s = gbench(f"{out}/r{r}_{net}_sinapsis.json")
        torch = json.load(open(f"{out}/r{r}_{net}_torch.json"))
        tn = torch["nets"][net]
        for i, c in enumerate(CLOCKS):
            row[f"{net}.sinapsis.{c}"] = s[f"step/{net}"][i]
            row[f"{net}.sgemm.{c}"] = s[f"sgemm_only/{net}"][i]
            row[f"{net}.torch.{c}"] = tn[f"{c}_seconds_per_step"]
            row[f"{net}.over_sgemm.{c}"] = row[f"{net}.sinapsis.{c}"] / row[f"{net}.sgemm.{c}"]
            row[f"{net}.speedup.{c}"] = row[f"{net}.torch.{c}"] / row[f"{net}.sinapsis.{c}"]
            if f"paired/{net}" in s:
                row[f"{net}.paired.{c}"] = s[f"paired/{net}"][i]
    rows.append(row)

med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
lo = {k: min(r[k] for r in rows) for k in rows[0]}
hi = {k: max(r[k] for r in rows) for k in rows[0]}

def fmt_time(sec):
    return f"{sec * 1e3:.2f} ms" if sec >= 1e-3 else f"{sec * 1e6:.2f} us"

print()
print(f"Core engine benchmark: {rounds} round(s); every value is the median over rounds")
print(f"BLAS  sinapsis: {ctx['blas_library']}; kernel {ctx['blas_kernel']}, {ctx['blas_threads']} thread")
print(f"      PyTorch {torch['torch_version']}: OpenBLAS kernel {torch['openblas']['kernel']}, "
      f"{torch['openblas']['threads']} OpenBLAS thread, {torch['torch_threads']} torch thread "
      f"(torch BLAS_INFO={torch['torch_build_blas']})")
print()
print("thread CPU time per training step; ratios per round, then median [wall-clock ratio]")
print("  sinapsis/sgemm: step/<net> over sgemm_only/<net> (same process, interleaved repetitions)")
print("  paired: step and sgemm calls alternated iteration by iteration (paired/<net>)")
hdr = (f"{'net':<7}{'batch':>6}{'sinapsis':>11}{'bare sgemm':>12}{'PyTorch':>11}"
       f"{'sinapsis/sgemm':>17}{'paired':>16}{'PyTorch/sinapsis':>19}")
print(hdr)
print("-" * len(hdr))
for net in NETS:
    paired = (f"{med[f'{net}.paired.cpu']:.3f} [{med[f'{net}.paired.wall']:.3f}]"
              if f"{net}.paired.cpu" in med else "-")
    print(f"{net:<7}{BATCH[net]:>6}{fmt_time(med[f'{net}.sinapsis.cpu']):>11}"
          f"{fmt_time(med[f'{net}.sgemm.cpu']):>12}{fmt_time(med[f'{net}.torch.cpu']):>11}"
          f"{med[f'{net}.over_sgemm.cpu']:>9.3f} [{med[f'{net}.over_sgemm.wall']:.3f}]"
          f"{paired:>16}{med[f'{net}.speedup.cpu']:>11.2f} [{med[f'{net}.speedup.wall']:.2f}]")
print()

checks = [
    ("wide   step <= 1.10 x bare sgemm (paired)", "wide.paired", lambda v: v <= 1.10),
    ("wide   the same, separate benchmarks", "wide.over_sgemm", lambda v: v <= 1.10),
    ("wide   not slower than PyTorch", "wide.speedup", lambda v: v >= 1.0),
    ("medium samples/s >= 1.3 x PyTorch", "medium.speedup", lambda v: v >= 1.3),
    ("tiny   steps/s >= 30 x PyTorch", "tiny.speedup", lambda v: v >= 30),
]
print("thresholds (median over rounds; min..max over rounds; verdict on wall-clock)")
for label, key, ok in checks:
    v = med[key + ".cpu"]
    print(f"  {'PASS' if ok(v) else 'FAIL'}  {label:<38}{v:>8.3f}   "
          f"[{lo[key + '.cpu']:.3f}..{hi[key + '.cpu']:.3f}]   "
          f"(wall-clock {med[key + '.wall']:.3f}: {'PASS' if ok(med[key + '.wall']) else 'FAIL'})")

if breakdown:
    _, b = gbench(f"{out}/breakdown.json")
    print()
    print("breakdown of a sinapsis step: each piece timed alone, CPU time, one run")
    parts = ["zero_grad", "forward", "loss", "backward", "sgd"]
    print(f"{'net':<7}" + "".join(f"{p:>11}" for p in parts) + f"{'sum':>11}{'step':>11}"
          + f"{'sgemm fwd':>11}{'sgemm bwd':>11}")
    for net in NETS:
        vals = [b[f"part/{net}/{p}"][0] for p in parts]
        print(f"{net:<7}" + "".join(f"{fmt_time(v):>11}" for v in vals)
              + f"{fmt_time(sum(vals)):>11}{fmt_time(b[f'step/{net}'][0]):>11}"
              + f"{fmt_time(b[f'part/{net}/sgemm_forward'][0]):>11}"
              + f"{fmt_time(b[f'part/{net}/sgemm_backward'][0]):>11}")
    print()
    print("the same pieces timed inside consecutive steps (timed_step/<net>), CPU time")
    print(f"{'net':<7}" + "".join(f"{p:>11}" for p in parts) + f"{'sum':>11}")
    for net in NETS:
        if f"timed_step/{net}" not in b:
            continue
        vals = [b[f"timed_step/{net}"][p + "_ms"] for p in parts]
        print(f"{net:<7}" + "".join(f"{fmt_time(v):>11}" for v in vals) + f"{fmt_time(sum(vals)):>11}")
EOF
exit 0
