#!/usr/bin/env bash
# A throwaway one-node SLURM cluster (munge, slurmctld, slurmd) for the
# system test, with all its configuration, state and logs under one directory.
#
#   cluster.sh start DIR [OWNER_PID]   start it; DIR/etc/slurm.conf is the SLURM_CONF to use
#   cluster.sh stop DIR                cancel its jobs, stop every daemon it started
#
# Nothing under /etc/slurm changes: every daemon and client reads SLURM_CONF.
# The ports are picked free at start, so a second cluster on the same machine
# (another checkout, a developer's own) does not collide with this one.
# munged is the cluster's own: a private key and socket under DIR (SLURM's
# AuthInfo=socket=...), so two clusters on one machine (two checkouts, two CI
# jobs) never share or stop each other's munged. With OWNER_PID, a watchdog stops
# the cluster when that process ends, even by SIGKILL (a ctest timeout).
# Adapted from a recipe checked on Debian 12 (SLURM 22.05, Open MPI 4.1).
# Run as root. Exit status of start: 0 up, 1 not up (the logs are printed).
set -euo pipefail

usage() { echo "usage: $0 start DIR [OWNER_PID] | stop DIR" >&2; exit 2; }
(($# >= 2)) || usage
action=$1
W=$(realpath -m "$2")
owner=${3:-}
export SLURM_CONF=$W/etc/slurm.conf

alive() { [[ -r /proc/$1/status ]] && ! grep -qs '^State:[[:space:]]*Z' "/proc/$1/status"; }  # zombies are dead
pid_alive() { [[ -s $1 ]] && alive "$(cat "$1")"; }
M=$W/munge                      # the private munged's key, socket, pid, log
munge_works() { munge --socket="$M/socket" -n 2>/dev/null | unmunge --socket="$M/socket" >/dev/null 2>&1; }
port_free() { ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }

start_munge() {
  chmod 755 "$W"  # the munge user must reach $M
  install -d -o munge -g munge -m 755 "$M"
  mungekey -c -f -k "$M/key"
  chown munge:munge "$M/key"
  chmod 400 "$M/key"
  setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged -F --socket="$M/socket" --key-file="$M/key" \
    --pid-file="$M/pid" --log-file="$M/log" --seed-file="$M/seed" </dev/null >"$W/log/munged.out" 2>&1 &
  echo $! >"$W/state/munged.pid"
  for _ in $(seq 50); do munge_works && return 0; sleep 0.1; done
  echo "cluster.sh: munged did not start" >&2
  return 1
}

# Two consecutive free TCP ports in 20000-29999 (slurmctld, slurmd).
pick_ports() {
  local base
  for _ in $(seq 50); do
    base=$((20000 + (RANDOM % 5000) * 2))
    if port_free "$base" && port_free $((base + 1)); then
      echo "$base"
      return 0
    fi
  done
  echo "cluster.sh: no free port pair in 20000-29999" >&2
  return 1
}

write_conf() {
  local host ports cpus
  host=$(hostname -s)
  ports=$(pick_ports)
  # At least 4 CPUs advertised (config_overrides), so jobs of a few tasks run
  # on a 2-core machine.
  cpus=$(nproc)
  ((cpus >= 4)) || cpus=4
  # A requeued job waits cred_expire (120 s by default) before it may start
  # again, and the scheduler looks at pending jobs every sched_interval (60 s):
  # short values make a requeue take seconds, not minutes. TmpFS holds the
  # pmix plugin's per-job directories, named by job ids that restart at 1 in
  # every cluster. KillWait: seconds between SIGTERM and SIGKILL (30 by default).
  cat >"$SLURM_CONF" <<CONF
ClusterName=sinapsis-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ports
SlurmdPort=$((ports + 1))
SlurmUser=root
AuthType=auth/munge
AuthInfo=cred_expire=5,socket=$M/socket
MailProg=/bin/true
StateSaveLocation=$W/state/ctld
SlurmdSpoolDir=$W/state/d
SlurmctldPidFile=$W/state/slurmctld.pid
SlurmdPidFile=$W/state/slurmd.pid
SlurmctldLogFile=$W/log/slurmctld.log
SlurmdLogFile=$W/log/slurmd.log
TmpFS=$W/tmp
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmdParameters=config_overrides
KillWait=10
SchedulerParameters=sched_interval=1,bf_interval=1
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
}

start_watchdog() {
  [[ -n $owner ]] || return 0
  # setsid: outside the owner's process group, so it outlives a kill of that group.
  setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; exec "$2" stop "$3"' \
    watchdog "$owner" "$(realpath "$0")" "$W" </dev/null >>"$W/log/watchdog.out" 2>&1 &
  echo $! >"$W/state/watchdog.pid"
}

start() {
  mkdir -p "$W"/{etc,state/ctld,state/d,log,tmp}
  start_watchdog
  start_munge
  write_conf
  # The pid files are written by the wrapper, not the daemons, so stop finds
  # them even if a daemon dies before writing its own.
  /usr/sbin/slurmctld -D -c </dev/null >"$W/log/slurmctld.out" 2>&1 &
  echo $! >"$W/state/slurmctld.pid.launch"
  /usr/sbin/slurmd -D </dev/null >"$W/log/slurmd.out" 2>&1 &
  echo $! >"$W/state/slurmd.pid.launch"
  local deadline=$((SECONDS + 30)) problem="the node did not become idle in 30 s"
  while ((SECONDS < deadline)); do
    if timeout 5 sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|alloc)'; then return 0; fi
    if ! pid_alive "$W/state/slurmctld.pid.launch"; then problem="slurmctld exited"; break; fi
    if ! pid_alive "$W/state/slurmd.pid.launch"; then problem="slurmd exited"; break; fi
    sleep 0.2
  done
  echo "cluster.sh: SLURM did not come up: $problem; sinfo says: $(timeout 5 sinfo -h -o %T 2>&1)" >&2
  tail -n 15 "$W"/log/*.log "$W"/log/*.out >&2 2>/dev/null || true
  return 1
}

stop_pid_file() {
  local file=$1 pid
  [[ -s $file ]] || return 0
  pid=$(cat "$file")
  if alive "$pid"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$file"
}

stop() {
  [[ -d $W/state ]] || return 0
  # Jobs first, while slurmd still runs to end their processes (slurmstepd
  # tracks each job's process tree).
  if pid_alive "$W/state/slurmctld.pid.launch" && timeout 5 squeue -h >/dev/null 2>&1; then
    timeout 10 scancel --user "$(id -un)" 2>/dev/null || true
    local deadline=$((SECONDS + 20))
    while ((SECONDS < deadline)); do
      timeout 5 squeue -h -t RUNNING,COMPLETING,SUSPENDED 2>/dev/null | grep -q . || break
      sleep 0.2
    done
  fi
  stop_pid_file "$W/state/slurmd.pid.launch"
  stop_pid_file "$W/state/slurmctld.pid.launch"
  stop_pid_file "$W/state/munged.pid"
  # Whatever outlived them (only if the jobs did not end in time): each
  # slurmstepd inherited SLURM_CONF from this slurmd, each job process got it
  # with SLURM_JOB_ID through sbatch --export.
  local proc ancestors=" " pid=$$
  while ((pid > 1)); do  # never this process or its callers (run.sh may itself run in a job)
    ancestors+="$pid "
    pid=$(ps -o ppid= -p "$pid" | tr -d ' ') || break
  done
  for proc in /proc/[0-9]*; do
    [[ $ancestors != *" ${proc#/proc/} "* ]] || continue
    grep -qszxF "SLURM_CONF=$SLURM_CONF" "$proc/environ" || continue
    if [[ $(cat "$proc/comm" 2>/dev/null) == slurmstepd ]] || grep -qsz '^SLURM_JOB_ID=' "$proc/environ"; then
      kill -KILL "${proc#/proc/}" 2>/dev/null || true
    fi
  done
  if [[ -s $W/state/watchdog.pid && $(cat "$W/state/watchdog.pid") != "$$" && $PPID != $(cat "$W/state/watchdog.pid") ]]; then
    stop_pid_file "$W/state/watchdog.pid"
  fi
}

case $action in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
