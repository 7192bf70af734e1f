#!/bin/bash
# run.sh SINAPSIS: `mpirun` across two simulated hosts (network namespaces
# joined through a switch, TCP between them; see hosts.sh), as an operator meets
# sinapsis on two machines. It checks, and exits 1 if any of these fails:
#   1. ranks 0 and 1 land on hostA and hostB;
#   2. training across the two hosts (TCP) gives final weights bit-identical to
#      the same training with 2 ranks on one host (shared memory);
#   3. killing every process of hostB mid-training ends the job by itself
#      (not by the $job_cap s cap: a hang) with a non-zero status, and the
#      last checkpoint resumes;
#   4. hostB vanishing from the network mid-training (its processes frozen,
#      then its link down: a power cut, as hostA sees it) does the same, given
#      the Open MPI keepalive options in $keepalive; sinapsis's own stall
#      watchdog would end that job too, so it is set past the cap here: only
#      the keepalive can end it;
#   5. the same with no options at all: mpirun alone would wait minutes for
#      hostB's daemon, but the rank on hostA ends by itself with one line
#      naming hostB's rank (sinapsis's watchdog: it answers nothing).
# How long a job takes to end is printed, not judged: a loaded machine is
# slow, not wrong. Nothing waits a fixed time for an event; every wait is for
# something seen (a checkpoint, a status file), bounded generously.
# Exits 77 (skipped) only when this machine cannot make network namespaces.
# Everything it makes (namespaces, switch, links, processes, files) goes on exit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
sinapsis=$(realpath "${1:?usage: run.sh PATH/TO/sinapsis}")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export SINAPSIS_NETNS_TAG=snp$$               # names of this run's namespaces, unique per run
export OMPI_MCA_plm_rsh_agent=$here/nsrsh     # how mpirun on hostA starts orted on hostB

job_cap=150             # a job still running after this is killed (a hang)
ready_limit=90          # seconds for a job to show a checkpoint past epoch 1
# A lost TCP peer that sends nothing (no FIN, no RST) is noticed only by these.
keepalive=(--mca oob_tcp_keepalive_time 2 --mca oob_tcp_keepalive_intvl 1 --mca oob_tcp_keepalive_probes 3)
# shellcheck disable=SC2054  # 8,8 is one argument
train=(train --hidden 8,8 --batch 32 --threads 1 --seed 3 --quiet)

work='' background=''
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  "$here/hosts.sh" teardown    # kills every process left on either host first
  if [[ -n "$background" ]]; then kill -9 "$background" 2>/dev/null; wait "$background" 2>/dev/null; fi
  [[ -n "$work" ]] && rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted"; exit 130' INT TERM

fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }
on() { local host=$1; shift; "$here/nsexec" "$host" "$@"; }
cross_mpirun() { on hostA timeout -s KILL "$job_cap" mpirun -H hostA,hostB -n 2 --mca btl tcp,self "$@"; }
# The weights and biases of every layer, floats in hex (exact), without the file name.
layers() { local dump; dump=$(h5dump -m %a -g /layers "$1") && tail -n +2 <<<"$dump"; }
epochs_done() { h5dump -a /checkpoint/epochs_done "$1" 2>/dev/null | sed -n 's/^ *(0): *\([0-9]*\).*/\1/p'; }
pids_of() { ip netns pids "${SINAPSIS_NETNS_TAG}$1" | paste -sd,; }
now() { date +%s.%N; }

for tool in mpirun h5dump timeout; do
  command -v "$tool" >/dev/null || fail "'$tool' is not installed (launch/deps.sh installs it)"
done
why=$("$here/hosts.sh" setup 2>&1)
case $? in
  0) pass "hosts made: hostA (10.10.0.1, netns ${SINAPSIS_NETNS_TAG}A) and hostB (10.10.0.2, netns ${SINAPSIS_NETNS_TAG}B)" ;;
  77) echo "SKIP: $why"; exit 77 ;;
  *) fail "could not make the two hosts: $why" ;;
esac
work=$(mktemp -d "${TMPDIR:-/tmp}/sinapsis_netns.XXXXXX")   # shared by both hosts: one filesystem
cd "$work" || fail "cannot enter $work"

# 1. Where the ranks run.
# shellcheck disable=SC2016  # expanded by each rank's shell
placement=$(cross_mpirun sh -c 'echo "$OMPI_COMM_WORLD_RANK $(hostname)"' 2>&1 | sort)
[[ "$placement" == $'0 hostA\n1 hostB' ]] || fail "ranks are not on hostA and hostB: ${placement:-<nothing>}"
pass "mpirun -H hostA,hostB -n 2 puts rank 0 on hostA and rank 1 on hostB"

# 2. Across hosts (TCP) and on one host (shared memory): the same weights, bit for bit.
"$sinapsis" data make --dataset spiral --samples 400 --out spiral.h5 >/dev/null || fail "data make"
cross_mpirun "$sinapsis" "${train[@]}" --data spiral.h5 --epochs 5 --out two_hosts >two_hosts.log 2>&1 ||
  { cat two_hosts.log; fail "training across two hosts"; }
timeout -s KILL "$job_cap" mpirun -n 2 --oversubscribe "$sinapsis" "${train[@]}" --data spiral.h5 --epochs 5 \
  --out one_host >one_host.log 2>&1 || { cat one_host.log; fail "training with 2 ranks on one host"; }
if ! layers two_hosts/model.h5 >two_hosts.layers || ! layers one_host/model.h5 >one_host.layers; then
  fail "h5dump of a model"
fi
values=$(grep -c '0x' one_host.layers)
(( values == 114 )) || fail "expected the 114 parameters of 2-8-8-2 in one_host/model.h5, found $values"
diff one_host.layers two_hosts.layers >layers.diff ||
  { head -40 layers.diff; fail "weights across two hosts differ from weights on one host"; }
pass "5 epochs across two hosts (btl tcp) == 2 ranks on one host (plain mpirun -n 2, shared memory): all $values parameters bit-identical"

# 3 and 4. Lose hostB mid-training; the job must end fast, and the checkpoint must resume.
# under_way WHAT [MPIRUN_OPTION...] [-- TRAIN_OPTION...]: starts an endless
# training job across both hosts into run_WHAT (in the background, status
# into run_WHAT.status) and returns once it is under way: a checkpoint past
# epoch 1 exists and hostB runs a rank.
under_way() {
  local what=$1 run=run_$1 mpirun_options=() train_options=(); shift
  while (( $# )); do
    if [[ $1 == -- ]]; then shift; train_options=("$@"); break; fi
    mpirun_options+=("$1"); shift
  done
  (cross_mpirun "${mpirun_options[@]}" "$sinapsis" "${train[@]}" "${train_options[@]}" --data spiral.h5 --epochs 1000000 \
     --checkpoint-every 1 --out "$run" >"$run.log" 2>&1; echo $? >"$run.status") &
  background=$!
  local deadline=$(( SECONDS + ready_limit )) epochs=0
  while (( SECONDS < deadline )); do
    epochs=$(epochs_done "$run/checkpoint.h5"); epochs=${epochs:-0}
    (( epochs >= 2 )) && ps -o comm= -p "$(pids_of B)" 2>/dev/null | grep -qx sinapsis && return 0
    [[ -e "$run.status" ]] && { cat "$run.log"; fail "$what: the job ended before hostB was lost"; }
    sleep 0.1
  done
  cat "$run.log"; fail "$what: within $ready_limit s, no checkpoint past epoch 1 (at $epochs) or no rank on hostB"
}
# lose_host_b WHAT ACTION [MPIRUN_OPTION...] [-- TRAIN_OPTION...]: ACTION is a
# command run when the job is under way.
lose_host_b() {
  local what=$1 action=$2 run=run_$1; shift 2
  under_way "$what" "$@"
  local start epochs; start=$(now)
  $action
  while [[ ! -s "$run.status" ]]; do sleep 0.05; done
  local seconds; seconds=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
  wait "$background"; background=
  local status; status=$(<"$run.status")
  (( status != 0 )) || fail "$what: mpirun exited 0 after losing a host"
  (( status != 137 )) || { cat "$run.log"; fail "$what: the job hung; killed $job_cap s after it started"; }
  pass "$what: the job ended by itself with status $status, $seconds s after hostB was lost"

  "$here/hosts.sh" kill B   # whatever is left on hostB (frozen processes)
  ip -n "${SINAPSIS_NETNS_TAG}B" link set "${SINAPSIS_NETNS_TAG}b" up || fail "$what: cannot bring hostB's link back up"
  epochs=$(epochs_done "$run/checkpoint.h5")
  (( ${epochs:-0} >= 2 )) || fail "$what: $run/checkpoint.h5 is unreadable or not past epoch 1 (epochs_done '${epochs}')"
  timeout -s KILL "$job_cap" "$sinapsis" train --resume "$run" --epochs 1 --checkpoint-every 0 >"$run.resume.log" 2>&1 ||
    { cat "$run.resume.log"; fail "$what: resuming $run on one host"; }
  [[ -s "$run/model.h5" ]] || fail "$what: resume exited 0 but wrote no $run/model.h5"
  layers "$run/model.h5" >/dev/null || fail "$what: $run/model.h5 is not readable"
  pass "$what: the last checkpoint (epoch $epochs) is intact; 'train --resume' on one host wrote $run/model.h5"
}
kill_host_b() { ip netns pids "${SINAPSIS_NETNS_TAG}B" | xargs -r kill -9; }
# Frozen first: with its link down first, a rank on hostB could see the dead
# link and exit, and hostA would meet the "killed" case again.
vanish_host_b() {
  ip netns pids "${SINAPSIS_NETNS_TAG}B" | xargs -r kill -STOP
  ip -n "${SINAPSIS_NETNS_TAG}B" link set "${SINAPSIS_NETNS_TAG}b" down
}
lose_host_b killed kill_host_b
lose_host_b vanished vanish_host_b "${keepalive[@]}" -- --stall-timeout $(( 10 * job_cap ))
# 5. Vanished, without the keepalive options: mpirun itself cannot see hostB
# go (it waits on hostB's daemon for minutes, README.md), but the ranks on
# hostA must end by themselves with one line naming rank 1: sinapsis's
# watchdog finds it answers nothing (dist/stall_watch.hpp, kSilenceSeconds).
run=run_vanished_defaults
under_way vanished_defaults
start=$(now)
vanish_host_b
rank_on_a() { ps -o comm= -p "$(pids_of A)" 2>/dev/null | grep -qx sinapsis; }
deadline=$(( SECONDS + job_cap ))
while rank_on_a && (( SECONDS < deadline )); do sleep 0.05; done
rank_on_a && { cat "$run.log"; fail "vanished_defaults: rank 0 on hostA still runs $job_cap s after hostB was lost"; }
seconds=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
kill -9 "$background" 2>/dev/null; ip netns pids "${SINAPSIS_NETNS_TAG}A" | xargs -r kill -9; wait "$background"; background=
grep -q 'error: stalled: rank 1 (pid [0-9]* on host hostB) does not respond' "$run.log" ||
  { cat "$run.log"; fail "vanished_defaults: rank 0 ended without a line naming rank 1 on hostB as not responding"; }
(( $(grep -c 'sinapsis train: error:' "$run.log") == 1 )) || { cat "$run.log"; fail "vanished_defaults: not one line"; }
pass "vanished_defaults: rank 0 on hostA ended by itself $seconds s after hostB was lost, naming it: $(grep -o 'stalled: rank 1 ([^)]*)' "$run.log")"
"$here/hosts.sh" kill B
epochs=$(epochs_done "$run/checkpoint.h5")
(( ${epochs:-0} >= 2 )) || fail "vanished_defaults: $run/checkpoint.h5 is unreadable or not past epoch 1"
pass "vanished_defaults: the last checkpoint (epoch $epochs) is intact"
echo "all checks passed"
