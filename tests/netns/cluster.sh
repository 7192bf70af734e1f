#!/bin/bash
# cluster.sh SINAPSIS: the emulated cluster of experiments/cluster/run.sh, as
# the benchmarks use it. It checks, and exits 1 if any of these fails:
#   1. on 2 hosts with the 1gbit preset, each host's link is shaped (a tbf of
#      rate 1Gbit on hostA's end), and run.sh's own probe finds rank i on
#      host i, confined to its core;
#   2. training across those 2 hosts with --overlap on (the exchange in
#      buckets on a background thread, while backward runs) gives final
#      weights bit-identical to 2 ranks on one host (shared memory, where
#      auto keeps one fused sum): a sum of two has one order;
#   3. 3 hosts (more hosts than cores: they share cores) against 3 ranks on
#      one host with --overlap on: the same buckets give the same bits
#      whatever the transport and the timing;
#   4. the same as 2. with gradients sent as bf16 (--grad-precision bf16);
#   5. sinapsis made the ranks on several hosts yield instead of spinning
#      (sinapsis info says so), and says so nowhere on one host.
# Nothing is timed. Exits 77 (skipped) only when this machine cannot make
# network namespaces; run.sh removes everything it made however it ends.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cluster=$(cd "$here/../../experiments/cluster" && pwd)/run.sh
sinapsis=$(realpath "${1:?usage: cluster.sh PATH/TO/sinapsis}")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
job_cap=120   # a job still running after this is killed (a hang)
# shellcheck disable=SC2054  # 8,8 is one argument
train=(train --hidden 8,8 --batch 32 --threads 1 --seed 5 --epochs 4 --quiet)

work=$(mktemp -d "${TMPDIR:-/tmp}/sinapsis_cluster_test.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }
# The weights and biases of every layer, floats in hex (exact), without the file name.
layers() { local dump; dump=$(h5dump -m %a -g /layers "$1") && tail -n +2 <<<"$dump"; }

for tool in mpirun h5dump timeout tc; do
  command -v "$tool" >/dev/null || fail "'$tool' is not installed"
done
"$sinapsis" data make --dataset spiral --samples 300 --out spiral.h5 >/dev/null || fail "data make"

# same_weights HOSTS PRESET "HOST_OPTIONS" [LOCAL_OPTIONS...]: HOSTS emulated
# hosts (given --overlap on and HOST_OPTIONS) against HOSTS ranks on one host
# (given LOCAL_OPTIONS).
same_weights() {
  local hosts=$1 preset=$2 status
  local -a host_options
  read -r -a host_options <<<"$3"
  shift 3
  # shellcheck disable=SC2016  # CLUSTER_MPIRUN is expanded on hostA
  # TERM first, so that run.sh tears the hosts down.
  timeout -k 30 "$job_cap" "$cluster" --hosts "$hosts" --preset "$preset" --exec -- sh -c '
    if [ "$0" != unshaped ]; then
      tc qdisc show dev "${SINAPSIS_NETNS_TAG}a" | grep -qi "tbf .*rate $0" ||
        { echo "no tbf of rate $0 on hostA: $(tc qdisc show)"; exit 3; }
    fi
    $CLUSTER_MPIRUN "$1" info --no-measure >info.txt || exit 4
    exec $CLUSTER_MPIRUN "$@"' "$preset" "$sinapsis" "${train[@]}" --overlap on "${host_options[@]}" --data spiral.h5 --out "hosts$hosts" \
    >"hosts$hosts.log" 2>&1
  status=$?
  if ((status == 77)); then echo "SKIP: $(tail -1 "hosts$hosts.log")"; exit 77; fi
  ((status == 0)) || { cat "hosts$hosts.log"; fail "training on $hosts emulated hosts ($preset) exited $status"; }
  grep -q "^cluster: $hosts hosts, preset $preset; rank host core: " "hosts$hosts.log" ||
    { cat "hosts$hosts.log"; fail "run.sh printed no placement"; }
  pass "$(grep '^cluster: ' "hosts$hosts.log")"
  grep -q "^waiting: ranks yield the CPU (mpi_yield_when_idle 1, set by sinapsis)" info.txt ||
    { cat info.txt; fail "sinapsis info on $hosts hosts does not say that sinapsis made the ranks yield"; }
  grep -q "^lost host: the other ranks end by themselves after about 20 s (stall watchdog); mpirun notices it after about 11 s" info.txt ||
    { cat info.txt; fail "sinapsis info on $hosts hosts does not say how fast a lost host ends the job"; }
  if grep -q "^warning:" info.txt; then cat info.txt; fail "sinapsis info warns on the emulated cluster's settings"; fi
  grep -q '"overlap": true' "hosts$hosts/summary.json" ||
    { grep -A4 exchange "hosts$hosts/summary.json"; fail "--overlap on did not overlap on $hosts hosts"; }
  timeout -s KILL "$job_cap" mpirun -n "$hosts" --oversubscribe "$sinapsis" "${train[@]}" "$@" --data spiral.h5 \
    --out "local$hosts" >"local$hosts.log" 2>&1 || { cat "local$hosts.log"; fail "training with $hosts ranks on one host"; }
  timeout -s KILL "$job_cap" mpirun -n "$hosts" --oversubscribe "$sinapsis" info --no-measure >"local_info$hosts.txt" 2>&1 ||
    fail "sinapsis info with $hosts ranks on one host"
  if grep -q "^waiting:" "local_info$hosts.txt"; then cat "local_info$hosts.txt"; fail "one host: sinapsis should leave the wait alone"; fi
  layers "hosts$hosts/model.h5" >"hosts$hosts.layers" || fail "h5dump of hosts$hosts/model.h5"
  layers "local$hosts/model.h5" >"local$hosts.layers" || fail "h5dump of local$hosts/model.h5"
  local values; values=$(grep -c '0x' "local$hosts.layers")
  ((values == 114)) || fail "expected the 114 parameters of 2-8-8-2 in local$hosts/model.h5, found $values"
  diff "local$hosts.layers" "hosts$hosts.layers" >"layers$hosts.diff" ||
    { head -40 "layers$hosts.diff"; fail "weights on $hosts emulated hosts ($preset) differ from $hosts ranks on one host"; }
  pass "4 epochs on $hosts emulated hosts ($preset, btl tcp, overlapped ${host_options[*]}) == $hosts ranks on one host ($*): all $values parameters bit-identical"
  rm -rf "hosts$hosts" "local$hosts"
}
same_weights 2 1gbit "" --overlap auto
same_weights 3 unshaped "" --overlap on
# 4. bf16 on the wire: the same bits across the network as on one host.
same_weights 2 unshaped "--grad-precision bf16" --grad-precision bf16
echo "all checks passed"
