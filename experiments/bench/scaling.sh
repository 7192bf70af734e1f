#!/usr/bin/env bash
# Data-parallel training benchmark (issue 4): weak scaling of `sinapsis train`
# from 1 to 2 ranks, and sinapsis on 2 ranks against PyTorch
# DistributedDataParallel (gloo) on 2 processes, same model, same per-rank
# batch, same OpenBLAS kernel, one thread per rank. Prints the tables and the
# PASS/FAIL of each threshold. A benchmark, not a test: exits 0 whatever the
# verdicts (non-zero only if something fails to run).
#
# Usage (from anywhere):
#   experiments/bench/scaling.sh [--runs N] [--epochs N] [--build-dir DIR] [--no-build]
#                                [--no-torch] [--torch-1rank] [--mpirun-args "ARGS"]
#                                [--train-args "ARGS"] [--no-guard]
#     --runs N          runs (default 5); each run trains 1 rank, 2 ranks and
#                       (unless --no-torch) times DDP on 2 processes, in an
#                       order that rotates from run to run
#     --epochs N        epochs per sinapsis run (default 3); epochs 2..N count
#     --build-dir DIR   the build to use (default ROOT/build/release, as run.sh)
#     --no-build        do not (re)build sinapsis
#     --no-torch        skip PyTorch DDP
#     --torch-1rank     also time DDP on 1 process (for reference)
#     --mpirun-args     extra mpirun options, e.g. "--bind-to none" or
#                       "--mca mpi_yield_when_idle 1" (default: none)
#     --train-args      extra `sinapsis train` options for both sinapsis
#                       configurations, e.g. "--prefetch off"
#     --no-guard        do not wait for a quiet machine (see below)
#
# This machine is shared: two ranks on two cores collapse when anything else
# runs (MPI ranks busy-poll). So by default each configuration starts only
# after 8 s in which no process of another session was running (at most 120 s
# of waiting), and is run again (up to 5 times) if one ran meanwhile for more
# than about a second (experiments/bench/quiet.sh). The number of such
# repeats is printed.
#
# The model is 784-256-128-10, relu, softmax + cross-entropy, lr 0.05,
# momentum 0.9, on Fashion-MNIST's 60,000 training images (imported once from
# /usr/share/datasets/fashion-mnist, cached in $SINAPSIS_BENCH_DATA, default
# /tmp/sinapsis_bench_fashion, and sharded in 2), 128 samples per rank per
# step: 1 rank --batch 128, 2 ranks --batch 256 (the global batch), both
# --threads 1. samples/s is read from RUN_DIR/metrics.csv (columns found by
# header name); a run's value is the median over its epochs 2..N, and the
# ratios are per run, then the median over runs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD="$ROOT/build/release"
PYTHON=/usr/bin/python3
FASHION=/usr/share/datasets/fashion-mnist
DATA=${SINAPSIS_BENCH_DATA:-/tmp/sinapsis_bench_fashion}
runs=5
epochs=3
build=1
torch=1
torch1=0
mpirun_args=""
train_args=""
guard=1
while (($#)); do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --build-dir) BUILD=$(cd "$2" && pwd); shift 2 ;;
    --no-build) build=0; shift ;;
    --no-torch) torch=0; shift ;;
    --torch-1rank) torch1=1; shift ;;
    --mpirun-args) mpirun_args=$2; shift 2 ;;
    --train-args) train_args=$2; shift 2 ;;
    --no-guard) guard=0; shift ;;
    -h|--help) sed -n '2,41p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "scaling.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
((epochs >= 2)) || { echo "scaling.sh: --epochs must be >= 2 (epoch 1 is warm-up)" >&2; exit 2; }

SINAPSIS="$BUILD/launch/sinapsis"
if ((build)); then
  if ! (cd "$ROOT" && { [[ -f "$BUILD/CMakeCache.txt" ]] || cmake --preset release >/dev/null; } &&
        cmake --build "$BUILD" -j2 --target sinapsis >"$BUILD/scaling_build.log" 2>&1); then
    if [[ -x "$SINAPSIS" ]]; then
      echo "scaling.sh: warning: the build failed (see $BUILD/scaling_build.log); using the existing binary" >&2
    else
      echo "scaling.sh: the build failed, see $BUILD/scaling_build.log" >&2
      exit 1
    fi
  fi
fi

if [[ ! -f "$DATA/F.h5" || ! -d "$DATA/D" ]]; then
  echo "importing Fashion-MNIST into $DATA ..." >&2
  mkdir -p "$DATA"
  rm -rf "$DATA/D" "$DATA/F.h5"
  "$SINAPSIS" data import --format idx --images "$FASHION/train-images-idx3-ubyte.gz" \
    --labels "$FASHION/train-labels-idx1-ubyte.gz" --out "$DATA/F.h5" >/dev/null
  "$SINAPSIS" data shard "$DATA/F.h5" --shards 2 --out-dir "$DATA/D" >/dev/null
fi

# The kernel sinapsis runs is forced on PyTorch too; one BLAS thread everywhere.
kernel=$("$SINAPSIS" info --no-measure | sed -n 's/^BLAS kernel: //p')
export OPENBLAS_CORETYPE="$kernel" OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
if [[ $(id -u) == 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
out=$(mktemp -d /tmp/sinapsis_scaling.XXXXXX)
echo "OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE, 1 thread per rank; $runs runs x $epochs epochs;" \
     "mpirun args: '${mpirun_args}'; train args: '${train_args}'; output in $out" >&2

TRAIN=(train --data "$DATA/D" --hidden 256,128 --activation relu --lr 0.05 --momentum 0.9
       --threads 1 --epochs "$epochs" --overwrite --quiet)
# shellcheck disable=SC2206  # word splitting of the user's option strings is intended
EXTRA_TRAIN=($train_args)
# shellcheck disable=SC2206
EXTRA_MPIRUN=($mpirun_args)
# shellcheck disable=SC2317  # called through guarded
run_config() {  # run config
  case "$2" in
    sinapsis1) "$SINAPSIS" "${TRAIN[@]}" "${EXTRA_TRAIN[@]}" --batch 128 --out "$out/r$1_sinapsis1" \
                 >"$out/r$1_sinapsis1.log" 2>&1 ;;
    sinapsis2) mpirun -n 2 "${EXTRA_MPIRUN[@]}" "$SINAPSIS" "${TRAIN[@]}" "${EXTRA_TRAIN[@]}" --batch 256 \
                 --out "$out/r$1_sinapsis2" >"$out/r$1_sinapsis2.log" 2>&1 ;;
    ddp1|ddp2) "$PYTHON" "$ROOT/experiments/bench/torch_ddp.py" --world "${2#ddp}" --batch 128 \
                 --data "$DATA/F.h5" --no-sync-steps 100 >"$out/r$1_$2.json" 2>"$out/r$1_$2.log" ;;
  esac
}
# The guard (quiet.sh): each configuration runs on a quiet machine.
# shellcheck disable=SC2034  # read by quiet.sh
QUIET_GUARD=$guard
# shellcheck source=experiments/bench/quiet.sh
source "$ROOT/experiments/bench/quiet.sh"
configs=(sinapsis1 sinapsis2)
((torch)) && configs+=(ddp2)
((torch && torch1)) && configs+=(ddp1)
for ((r = 1; r <= runs; ++r)); do
  n=${#configs[@]}
  order=()
  for ((i = 0; i < n; ++i)); do order+=("${configs[$(((i + r - 1) % n))]}"); done
  echo "run $r/$runs: ${order[*]} ..." >&2
  for c in "${order[@]}"; do
    guarded "$c" run_config "$r" "$c" || { echo "scaling.sh: run $r $c failed, see $out/r${r}_$c.log" >&2; exit 1; }
  done
done

((guard)) && echo "guard: $QUIET_REPEATS configuration run(s) repeated because another session was running" >&2
"$PYTHON" - "$out" "$runs" "$epochs" "${configs[*]}" <<'EOF' | tee "$out/summary.txt"
import csv, json, math, statistics, sys
out, runs, epochs, configs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split()
ROWS = 60000
med = statistics.median

def metrics(path):
    """Epochs 2..N of a metrics.csv, as dicts keyed by header name."""
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if int(r["epoch"]) >= 2]
    return rows

res = {c: [] for c in configs}  # per run: dict of values
for r in range(1, runs + 1):
    for c in configs:
        if c.startswith("sinapsis"):
            ranks = int(c[-1])
            rows = metrics(f"{out}/r{r}_{c}/metrics.csv")
            steps = math.ceil(ROWS / ranks / 128)
            v = {k: med(float(x[k]) for x in rows) for k in
                 ("samples_per_second", "compute_seconds", "comm_seconds", "io_seconds", "epoch_seconds")}
            v["train_seconds"] = ROWS / v["samples_per_second"]
            v["comm_share"] = v["comm_seconds"] / v["train_seconds"]
            v["steps"] = steps
        else:
            j = json.load(open(f"{out}/r{r}_{c}.json"))
            v = dict(samples_per_second=j["samples_per_second"], no_sync=j["no_sync_samples_per_second"],
                     kernel=j["openblas"]["kernel"], threads=j["openblas"]["threads"], torch=j["torch_version"])
        res[c].append(v)

s1 = [v["samples_per_second"] for v in res["sinapsis1"]]
s2 = [v["samples_per_second"] for v in res["sinapsis2"]]
weak = [b / a for a, b in zip(s1, s2)]
print()
print(f"Data-parallel benchmark: {runs} run(s); per run the median over epochs 2..{epochs}; "
      "then median [min..max] over runs")
print("784-256-128-10 relu/softmax+CE, Fashion-MNIST 60,000 rows, 128 samples per rank per step, 1 thread per rank")
print()
hdr = (f"{'configuration':<28}{'samples/s':>11}{'range':>19}{'compute/step':>14}{'comm/step':>11}"
       f"{'io/step':>10}{'comm share':>12}")
print(hdr)
print("-" * len(hdr))
def rng(xs, f="{:.0f}"):
    return f"[{f.format(min(xs))}..{f.format(max(xs))}]"
for c, label in (("sinapsis1", "sinapsis 1 rank, --batch 128"), ("sinapsis2", "sinapsis 2 ranks, --batch 256")):
    vs = res[c]
    sps = [v["samples_per_second"] for v in vs]
    per_step = lambda k: med(v[k] / v["steps"] for v in vs) * 1e3
    print(f"{label:<28}{med(sps):>11.0f}{rng(sps):>19}{per_step('compute_seconds'):>11.3f} ms"
          f"{per_step('comm_seconds'):>8.3f} ms{per_step('io_seconds'):>7.3f} ms"
          f"{med(v['comm_share'] for v in vs) * 100:>11.1f}%")
for c in configs:
    if not c.startswith("ddp"):
        continue
    vs = res[c]
    sps = [v["samples_per_second"] for v in vs]
    ns = [v["no_sync"] for v in vs]
    print(f"{'PyTorch DDP gloo ' + c[3:] + ' proc':<28}{med(sps):>11.0f}{rng(sps):>19}"
          f"   (no_sync, i.e. no allreduce: {med(ns):.0f} samples/s; OpenBLAS {vs[0]['kernel']}, "
          f"{vs[0]['threads']} thread, torch {vs[0]['torch']})")
print()
print("per run (samples/s):")
print(f"  {'run':<5}{'1 rank':>10}{'2 ranks':>10}{'2r/1r':>8}" + ("".join(f"{c:>10}" for c in configs if c.startswith('ddp')))
      + ("   2r/DDP2" if "ddp2" in configs else ""))
for i in range(runs):
    line = f"  {i + 1:<5}{s1[i]:>10.0f}{s2[i]:>10.0f}{weak[i]:>8.3f}"
    for c in configs:
        if c.startswith("ddp"):
            line += f"{res[c][i]['samples_per_second']:>10.0f}"
    if "ddp2" in configs:
        line += f"{s2[i] / res['ddp2'][i]['samples_per_second']:>10.2f}"
    print(line)
print()
print("thresholds (median over runs of the per-run ratio; min..max over runs)")
checks = [("weak scaling: 2 ranks >= 1.8 x samples/s of 1 rank", weak, 1.8)]
if "ddp2" in configs:
    vs_ddp = [b / d["samples_per_second"] for b, d in zip(s2, res["ddp2"])]
    checks.append(("sinapsis 2 ranks >= 2 x PyTorch DDP (gloo) 2 procs", vs_ddp, 2.0))
for label, xs, threshold in checks:
    v = med(xs)
    print(f"  {'PASS' if v >= threshold else 'FAIL'}  {label:<52}{v:>7.3f}   {rng(xs, '{:.3f}')}")
EOF
exit 0
