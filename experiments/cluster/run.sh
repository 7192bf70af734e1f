#!/bin/bash
# run.sh [options] -- MPIRUN_ARGS...       mpirun across N emulated hosts
# run.sh [options] --exec -- COMMAND...    COMMAND on hostA of N emulated hosts
#
# Makes N simulated hosts on this machine (network namespaces hostA, hostB, ...
# joined through a switch, links shaped with tc; tests/netns/hosts.sh), one
# core each, runs one thing, and tears everything down however it ends.
#
# Options:
#   --hosts N         hosts (default 2); host i is pinned to core i mod the
#                     number of cores, so more hosts than cores share cores
#   --preset P        unshaped (default): links as fast as veth goes;
#                     10gbit, 1gbit: every link shaped to that rate both ways
#                     (any other tc rate, e.g. 2500mbit, is taken as well)
#   --delay USEC      one-way latency per link (netem); fails with one line on
#                     kernels without netem, as this machine's
#   --cores "C0 C1"   the cores hosts are pinned to (default: every core this
#                     process may use)
#   --exec            run COMMAND on hostA instead of mpirun
#
# The default form runs, on hostA, as on a cluster's head node:
#   mpirun --hostfile HOSTFILE -n N --map-by node --bind-to none --mca btl tcp,self MPIRUN_ARGS...
# --bind-to none because each host's processes are already confined to its
# core (taskset): Open MPI's own binding would bind the first rank of EVERY
# host to core 0, as every host believes it owns all the cores.
#
# Either way the command sees CLUSTER_HOSTFILE (one line "hostX slots=1" per
# host), CLUSTER_HOSTS (N), CLUSTER_MPIRUN (the mpirun line above, without
# MPIRUN_ARGS) and OMPI_MCA_plm_rsh_agent (tests/netns/nsrsh, in place of
# ssh), so a script run with --exec can start several jobs on one set-up:
#   run.sh --preset 1gbit --exec -- sh -c '$CLUSTER_MPIRUN prog_a && $CLUSTER_MPIRUN prog_b'
# Before the command, one probe job checks that rank i runs on host i and
# only on that host's core (Cpus_allowed_list); the placement is printed on
# stderr and a wrong one stops the run (exit 1).
#
# Exits with the command's status; 77 when this machine cannot make network
# namespaces (not root), 2 for a bad option, 1 when the set-up fails.
set -u
here=$(cd "$(dirname "$0")" && pwd)
netns=$(cd "$here/../../tests/netns" && pwd)

usage() { sed -n '2,3p;9,21p' "$0" >&2; exit 2; }
hosts=2 preset=unshaped delay='' cores='' exec_mode=0
while (($#)); do
  case "$1" in
    --hosts) hosts=${2:-}; shift 2 || usage ;;
    --preset) preset=${2:-}; shift 2 || usage ;;
    --delay) delay=${2:-}; shift 2 || usage ;;
    --cores) cores=${2:-}; shift 2 || usage ;;
    --exec) exec_mode=1; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,36p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
(($#)) || { echo "run.sh: nothing to run: give '-- MPIRUN_ARGS...' or '--exec -- COMMAND...'" >&2; exit 2; }
setup_args=(--hosts "$hosts")
[[ "$preset" == unshaped ]] || setup_args+=(--rate "$preset")
[[ -z "$delay" ]] || setup_args+=(--delay "$delay")

# Every core this process may run on, e.g. "0-1,4" -> "0 1 4".
if [[ -z "$cores" ]]; then
  for part in $(sed -n 's/^Cpus_allowed_list:\s*//p' /proc/self/status | tr , ' '); do
    cores+=" $(seq -s ' ' "${part%-*}" "${part#*-}")"
  done
fi
read -r -a core_list <<<"$cores"
for c in "${core_list[@]}"; do
  [[ "$c" =~ ^[0-9]+$ ]] || { echo "run.sh: --cores must be core numbers, not '$cores'" >&2; exit 2; }
done

export SINAPSIS_NETNS_TAG=cl$$ SINAPSIS_NETNS_CORES="${core_list[*]}"
export OMPI_MCA_plm_rsh_agent=$netns/nsrsh
# As the README advises for a cluster: mpirun notices a host that drops off
# the network after ~11 s instead of ~8 minutes (unless the caller chose).
export OMPI_MCA_oob_tcp_keepalive_time=${OMPI_MCA_oob_tcp_keepalive_time:-5}
export OMPI_MCA_oob_tcp_keepalive_intvl=${OMPI_MCA_oob_tcp_keepalive_intvl:-2}
export OMPI_MCA_oob_tcp_keepalive_probes=${OMPI_MCA_oob_tcp_keepalive_probes:-3}
[[ $(id -u) == 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

work=''
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  "$netns/hosts.sh" teardown   # kills whatever is left on any host first
  [[ -n "$work" ]] && rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted" >&2; exit 130' INT TERM

"$netns/hosts.sh" setup "${setup_args[@]}"
case $? in
  0) ;;
  77) exit 77 ;;
  2) exit 2 ;;
  *) echo "run.sh: could not make the $hosts hosts" >&2; exit 1 ;;
esac
work=$(mktemp -d "${TMPDIR:-/tmp}/sinapsis_cluster.XXXXXX")
letters=ABCDEFGHIJKLMNOPQRSTUVWXYZ
for ((i = 0; i < hosts; ++i)); do echo "host${letters:i:1} slots=1"; done >"$work/hostfile"
export CLUSTER_HOSTFILE=$work/hostfile CLUSTER_HOSTS=$hosts
export CLUSTER_MPIRUN="mpirun --hostfile $CLUSTER_HOSTFILE -n $hosts --map-by node --bind-to none --mca btl tcp,self"

# The probe: rank i must be on host i, confined to that host's core.
# shellcheck disable=SC2016,SC2086  # expanded by each rank's shell; CLUSTER_MPIRUN is words
placement=$("$netns/nsexec" hostA timeout 60 $CLUSTER_MPIRUN sh -c \
  'echo "$OMPI_COMM_WORLD_RANK $(hostname) $(sed -n "s/^Cpus_allowed_list:\s*//p" /proc/self/status)"' 2>&1 | sort -n)
expected=$(for ((i = 0; i < hosts; ++i)); do echo "$i host${letters:i:1} ${core_list[i % ${#core_list[@]}]}"; done)
echo "cluster: $hosts hosts, preset $preset${delay:+, delay ${delay} us}; rank host core: $(paste -sd';' <<<"$placement")" >&2
[[ "$placement" == "$expected" ]] || { echo "run.sh: ranks are not one per host on its own core; expected: $(paste -sd';' <<<"$expected")" >&2; exit 1; }

if ((exec_mode)); then
  "$netns/nsexec" hostA "$@"
else
  # shellcheck disable=SC2086  # CLUSTER_MPIRUN is words
  "$netns/nsexec" hostA $CLUSTER_MPIRUN "$@"
fi
