#!/usr/bin/env bash
# The exchange of today's fused gradient allreduce, measured on one host and
# on 2 emulated hosts (run.sh) per link preset (issue 12, section 1).
#
#   (a) bare MPI_Allreduce of 1 KiB ... 8 MiB (bench_allreduce --sweep): the
#       latency alpha and the cost per byte beta as Open MPI sees the link,
#       for 2 ranks on one host (shared memory) and 2 hosts per preset;
#   (b) `sinapsis train` of the medium (784-256-128-10) and wide
#       (784-1024-1024-10) nets at 128 and 256 samples per rank, 1 BLAS
#       thread per rank: samples/s and compute/comm/io seconds per epoch,
#       for 1 rank, 2 ranks on one host and 2 hosts per preset;
#   (c) the same with OMPI_MCA_mpi_yield_when_idle=1 (2 ranks, one host and
#       2 hosts);
#   (d) the same on 2 unshaped hosts with Open MPI's own binding in place of
#       run.sh's --bind-to none, and per run the CPU time each core spent in
#       softirq and system mode and the NET_RX/NET_TX softirqs it ran
#       (/proc/stat, /proc/softirqs), and where every thread of every rank
#       may run (Cpus_allowed_list of /proc/PID/task/*/status).
#
# Usage: experiments/cluster/bench.sh [--runs N] [--epochs N] [--presets "unshaped 10gbit 1gbit"]
#                                     [--parts "allreduce train"] [--build-dir DIR] [--no-guard]
#   --runs N      runs of every training configuration (default 5); the
#                 allreduce sweep runs N rounds
#   --epochs N    epochs per training run (default 4); epochs 2..N count
#
# Every process runs the OpenBLAS kernel sinapsis picks with OPENBLAS_CORETYPE
# and OPENBLAS_L2_SIZE unset, named explicitly (and passed to the ranks with
# -x, as on a cluster where ssh carries no environment). The data: 8,192
# synthetic 28x28 images of 10 classes (generated once, imported with `data
# import --format idx`). A run's value is the median over its epochs 2..N of
# rank 0's metrics.csv; the tables give the median over runs and min..max.
# Each configuration runs on a quiet machine (experiments/bench/quiet.sh), at
# most 3 times (QUIET_ATTEMPTS); the tables count the half-second samples in
# which another session ran during the run kept.
# Timing is meant for 2 hosts on 2 cores: one core per host. A benchmark,
# not a test: exits 0 whatever the numbers, non-zero if something fails to run.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$here/../.." && pwd)
export QUIET_ATTEMPTS=${QUIET_ATTEMPTS:-3}
# shellcheck source=experiments/bench/quiet.sh
source "$ROOT/experiments/bench/quiet.sh"

# shellcheck disable=SC2054  # 256,128 is one value
declare -A HIDDEN=([medium]=256,128 [wide]=1024,1024)
NETS=(medium wide)
BATCHES=(128 256)

# Inside run.sh (on hostA of the emulated cluster): one run of every 2-host
# configuration of this preset. Its settings come from the caller's environment.
if [[ "${1:-}" == --on-cluster ]]; then
  preset=$2 run=$3
  read -r -a mpirun_words <<<"$CLUSTER_MPIRUN"
  read -r -a train_words <<<"$BENCH_TRAIN"
  configs=("2hosts_$preset" "2hosts_${preset}_yield")
  [[ "$preset" == unshaped ]] && configs+=(2hosts_unshaped_ompibind)
  for net in "${NETS[@]}"; do
    for batch in "${BATCHES[@]}"; do
      n=${#configs[@]}
      for ((i = 0; i < n; ++i)); do
        config=${configs[$(((i + run) % n))]}
        # shellcheck disable=SC2054  # tcp,self is one argument
        case "$config" in
          *_yield) cmd=("${mpirun_words[@]}" --mca mpi_yield_when_idle 1) ;;
          *_ompibind) cmd=(mpirun --hostfile "$CLUSTER_HOSTFILE" -n 2 --mca btl tcp,self) ;;
          *) cmd=("${mpirun_words[@]}") ;;
        esac
        cmd+=(-x OPENBLAS_CORETYPE -x OPENBLAS_NUM_THREADS "$BENCH_SINAPSIS" "${train_words[@]}"
              --hidden "${HIDDEN[$net]}" --batch $((2 * batch)))
        "$BENCH_SELF" --one "$BENCH_OUT/r${run}_${net}_${batch}_$config" "${cmd[@]}"
      done
    done
  done
  exit 0
fi

# One training run, guarded, with the CPU counters around it and the ranks'
# placement sampled while it runs: --one RUN_DIR COMMAND...
cpu_counters() {  # per core: softirq, system and steal ticks; NET_RX and NET_TX softirqs
  awk '/^cpu[0-9]/ { print $1, $8, $4, $9 }' /proc/stat
  awk '$1 == "NET_RX:" || $1 == "NET_TX:" { $1 = substr($1, 1, length($1) - 1); print }' /proc/softirqs
}
placement() {  # namespace, pid, thread: cores allowed; every 0.5 s
  while true; do
    for pid in $(pgrep -x -s "$quiet_sid" sinapsis); do
      ns=$(ip netns identify "$pid" 2>/dev/null || true)
      for task in /proc/"$pid"/task/*; do
        echo "${ns:-host} $pid ${task##*/} $(sed -n 's/^Cpus_allowed_list:\s*//p' "$task/status" 2>/dev/null)"
      done
    done
    sleep 0.5
  done
}
one_run() {
  local dir=$1; shift
  cpu_counters >"$dir.cpu0"
  placement >"$dir.placement.all" 2>/dev/null &
  local watcher=$!
  local status=0
  "$@" --out "$dir" >"$dir.log" 2>&1 || status=$?
  kill "$watcher"; wait "$watcher" 2>/dev/null || true
  cpu_counters >"$dir.cpu1"
  # The last sample of each thread: while MPI_Init reads the topology, the
  # main thread is bound to each core in turn and then put back (strace shows
  # sched_setaffinity [0], [1], ... on every rank).
  awk '{ last[$1 " " $2 " " $3] = $4 } END { for (t in last) print t, last[t] }' "$dir.placement.all" >"$dir.placement"
  rm -f "$dir.placement.all"
  ((status == 0)) || { echo "bench.sh: failed ($status), see $dir.log" >&2; return 1; }
}
if [[ "${1:-}" == --one ]]; then
  dir=$2; shift 2
  status=0
  guarded "${dir##*/}" one_run "$dir" "$@" || status=$?
  echo "$QUIET_REPEATS" >>"$BENCH_OUT/repeats"
  echo "$QUIET_BUSY" >"$dir.busy"
  exit "$status"
fi

runs=5 epochs=4 presets="unshaped 10gbit 1gbit" parts="allreduce train"
BUILD="$ROOT/build/release"
while (($#)); do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --presets) presets=$2; shift 2 ;;
    --parts) parts=$2; shift 2 ;;
    --build-dir) BUILD=$(cd "$2" && pwd); shift 2 ;;
    --no-guard) export QUIET_GUARD=0; shift ;;
    -h|--help) sed -n '2,35p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
((epochs >= 2)) || { echo "bench.sh: --epochs must be >= 2 (epoch 1 is warm-up)" >&2; exit 2; }
SINAPSIS=$BUILD/launch/sinapsis
ALLREDUCE=$BUILD/experiments/bench_allreduce
for f in "$SINAPSIS" "$ALLREDUCE"; do
  [[ -x "$f" ]] || { echo "bench.sh: no $f; build first (launch/build.sh release)" >&2; exit 1; }
done
read -r -a preset_list <<<"$presets"

kernel=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$SINAPSIS" info --no-measure | sed -n 's/^BLAS kernel: //p')
unset OPENBLAS_L2_SIZE
export OPENBLAS_CORETYPE=$kernel OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
[[ $(id -u) == 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=$(mktemp -d /tmp/sinapsis_cluster_bench.XXXXXX)
cpu=$(lscpu | sed -n 's/^Model name:\s*//p')
echo "bench.sh: $cpu, OpenBLAS kernel $kernel, 1 thread per rank; $runs runs x $epochs epochs; output in $out" >&2

data=${SINAPSIS_CLUSTER_DATA:-/tmp/sinapsis_cluster_data}
if [[ ! -f "$data/synth.h5" ]]; then
  mkdir -p "$data"
  python3 - "$data/synth" <<'EOF'
# 8,192 synthetic 28x28 images of 10 classes, as IDX files (Fashion-MNIST's
# format): a random prototype per class, half prototype and half noise; one
# label in five replaced by a random class, so the loss stays well above 0.
import gzip, random, struct, sys
rows, side, classes = 8192, 28, 10
rng = random.Random(12)
protos = [bytes(rng.randrange(256) for _ in range(side * side)) for _ in range(classes)]
labels = [rng.randrange(classes) for _ in range(rows)]
noise = rng.randbytes(rows * side * side)
images = bytearray(rows * side * side)
for r in range(rows):
    p, o = protos[labels[r]], r * side * side
    images[o:o + side * side] = bytes((a >> 1) + (b >> 1) for a, b in zip(p, noise[o:o + side * side]))
labels = bytes(rng.randrange(classes) if rng.random() < 0.2 else c for c in labels)
with gzip.open(sys.argv[1] + "-images-idx3-ubyte.gz", "wb") as f:
    f.write(struct.pack(">IIII", 2051, rows, side, side) + bytes(images))
with gzip.open(sys.argv[1] + "-labels-idx1-ubyte.gz", "wb") as f:
    f.write(struct.pack(">II", 2049, rows) + labels)
EOF
  "$SINAPSIS" data import --format idx --images "$data/synth-images-idx3-ubyte.gz" \
    --labels "$data/synth-labels-idx1-ubyte.gz" --out "$data/synth.h5" --overwrite >/dev/null
fi

export BENCH_SELF="$here/bench.sh" BENCH_OUT=$out BENCH_SINAPSIS=$SINAPSIS
export BENCH_TRAIN="train --data $data/synth.h5 --activation relu --lr 0.05 --momentum 0.9 --threads 1 --epochs $epochs --quiet --overwrite"
XBLAS=(-x OPENBLAS_CORETYPE -x OPENBLAS_NUM_THREADS)

if [[ " $parts " == *" allreduce "* ]]; then
  sweep=("$ALLREDUCE" --sweep --rounds "$runs")
  guarded sweep_1host sh -c "mpirun -n 2 ${XBLAS[*]} ${sweep[*]} >$out/sweep_1host.txt 2>&1"
  guarded sweep_1host_yield sh -c "mpirun -n 2 --mca mpi_yield_when_idle 1 ${XBLAS[*]} ${sweep[*]} >$out/sweep_1host_yield.txt 2>&1"
  for p in "${preset_list[@]}"; do
    for y in 0 1; do
      label=sweep_2hosts_$p
      ((y)) && label+=_yield
      # shellcheck disable=SC2016  # CLUSTER_MPIRUN is expanded on hostA
      guarded "$label" "$here/run.sh" --preset "$p" --exec -- sh -c \
        "\$CLUSTER_MPIRUN --mca mpi_yield_when_idle $y ${XBLAS[*]} ${sweep[*]} >$out/$label.txt 2>&1"
    done
  done
fi

if [[ " $parts " == *" train "* ]]; then
  setups=(1host "${preset_list[@]}")
  for ((r = 1; r <= runs; ++r)); do
    n=${#setups[@]}
    for ((s = 0; s < n; ++s)); do
      setup=${setups[$(((s + r - 1) % n))]}
      echo "run $r/$runs: $setup ..." >&2
      if [[ "$setup" == 1host ]]; then
        for net in "${NETS[@]}"; do
          for batch in "${BATCHES[@]}"; do
            read -r -a train <<<"$BENCH_TRAIN"
            train=("$SINAPSIS" "${train[@]}" --hidden "${HIDDEN[$net]}")
            pre="$out/r${r}_${net}_${batch}"
            "$BENCH_SELF" --one "${pre}_1rank" "${train[@]}" --batch "$batch"
            "$BENCH_SELF" --one "${pre}_2ranks_1host" mpirun -n 2 "${XBLAS[@]}" "${train[@]}" --batch $((2 * batch))
            "$BENCH_SELF" --one "${pre}_2ranks_1host_yield" mpirun -n 2 --mca mpi_yield_when_idle 1 "${XBLAS[@]}" \
              "${train[@]}" --batch $((2 * batch))
          done
        done
      else
        "$here/run.sh" --preset "$setup" --exec -- "$BENCH_SELF" --on-cluster "$setup" "$r"
      fi
    done
  done
fi
if ((QUIET_GUARD)); then
  repeats=$(awk '{ n += $1 } END { print n + 0 }' "$out/repeats" 2>/dev/null || echo 0)
  echo "guard: $((QUIET_REPEATS + repeats)) run(s) repeated because another session was running" >&2
fi

python3 "$here/summarize.py" "$out" "$runs" "$epochs" "$cpu" "$kernel" | tee "$out/summary.txt"
