# shellcheck shell=bash
# Sourced by the benchmark scripts (scaling.sh, experiments/cluster/bench.sh):
# run a measurement only while no other session uses the CPU.
#
# This machine is shared: two ranks on two cores collapse when anything else
# runs (MPI ranks busy-poll). `guarded LABEL COMMAND...` starts COMMAND only
# after 8 s in which no process of another session was running (at most 120 s
# of waiting), and runs it again (up to 5 times) if one ran meanwhile for more
# than about a second (QUIET_ATTEMPTS, default 6, bounds the runs). QUIET_REPEATS
# counts the repeats; QUIET_BUSY is the number of half-second samples in which
# another session ran during the last run; QUIET_GUARD=0 runs COMMAND once,
# unguarded. Another session is any process whose session id
# is not this shell's (every process a benchmark starts, also on the
# emulated hosts of experiments/cluster, keeps its session id).
QUIET_GUARD=${QUIET_GUARD:-1}
QUIET_ATTEMPTS=${QUIET_ATTEMPTS:-6}
QUIET_REPEATS=0
QUIET_BUSY=0
quiet_sid=$(ps -o sid= -p $$ | tr -d ' ')
# Processes of other sessions in state R.
others_running() {
  ps -eo sid=,stat=,comm= | awk -v me="$quiet_sid" '$1 != me && $1 != 0 && $2 ~ /^R/ && $3 != "ps"' | grep -q .
}
wait_quiet() {  # 16 consecutive quiet samples 0.5 s apart, at most 240 samples
  local quiet=0 tries=0
  while ((quiet < 16 && tries < 240)); do
    if others_running; then quiet=0; else quiet=$((quiet + 1)); fi
    tries=$((tries + 1))
    sleep 0.5
  done
}
guarded() {  # LABEL COMMAND...
  local label=$1; shift
  if ((!QUIET_GUARD)); then "$@"; return; fi
  local attempt busy monitor samples
  for ((attempt = 1; attempt <= QUIET_ATTEMPTS; ++attempt)); do
    wait_quiet
    samples=$(mktemp "${TMPDIR:-/tmp}/sinapsis_quiet.XXXXXX")
    (while true; do others_running && echo busy; sleep 0.5; done) >"$samples" &
    monitor=$!
    "$@" || { kill "$monitor"; wait "$monitor" 2>/dev/null; rm -f "$samples"; return 1; }
    kill "$monitor"
    wait "$monitor" 2>/dev/null || true
    busy=$(grep -c busy "$samples" || true)
    rm -f "$samples"
    # shellcheck disable=SC2034  # for the caller
    QUIET_BUSY=$busy
    ((busy <= 2)) && return 0
    ((attempt < QUIET_ATTEMPTS)) && { QUIET_REPEATS=$((QUIET_REPEATS + 1)); echo "  $label: another session ran ($busy samples); again" >&2; }
  done
}
