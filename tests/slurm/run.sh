#!/usr/bin/env bash
# System test: the project's own launch/slurm/train.sbatch, submitted with
# sbatch to a real one-node SLURM cluster started for the test (cluster.sh).
#
#   tests/slurm/run.sh SINAPSIS_BINARY
#
# 1. A job of 2 tasks trains to the end: state COMPLETED, no restart,
#    RUN_DIR/model.h5 and a metrics row per epoch.
# 2. A job gets USR1 in the middle of training (scancel --signal=USR1
#    --batch, as --signal=B:USR1@120 does before a time limit): the ranks
#    checkpoint and exit 75, the script requeues the job, the job resumes from
#    the checkpoint and completes, and its weights (h5dump of /layers) are
#    bit-identical to those of an uninterrupted `mpirun -n 2` of the same
#    options, its train_loss column too. The run has no end of its own: the
#    resumed start and the uninterrupted run go to 2 epochs past the stop.
# 2b. A job cancelled mid-training (scancel: TERM to every process) leaves a
#    checkpoint and stays CANCELLED: the script does not requeue it.
# 3. launch/slurm/sweep.sbatch as an array of 3 tasks, one slice of a small
#    sweep each: every task COMPLETED, the lowest one submitted the merge
#    job, which ran after the array; the merged trials.csv equals that of
#    the same sweep as one `mpirun -n 2` job (the seconds and ranks columns
#    aside), summary.json too (paths and run_dir aside: merged, it points at
#    each slice's own run), and its run_dir holds the model.
# 3b. An array task stopped by USR1 mid-slice checkpoints, requeues itself and
#    resumes its slice with `sinapsis sweep --resume`; the merge job waits for
#    it, and the merged trials.csv holds every trial, trained to the end (2
#    epochs past the stop: the trial has no end of its own either).
#
# Every run that a signal interrupts is endless by construction, and the test
# waits for what it can see (a progress line, a checkpoint, a log line, a job
# state), never for a fixed time: a fast or a loaded machine passes alike.
#
# Exit status: 0 pass, 1 fail, 77 skip (not root, or the SLURM packages
# cannot be installed or started; the reason is printed). Every daemon the
# test starts is stopped on every way out (cluster.sh stop, run from an EXIT
# trap and, should this script be killed, from cluster.sh's watchdog). Run as
# root; about a minute on 2 cores. The cluster's state is removed on success and kept
# for reading on failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
job_script=$repo/launch/slurm/train.sbatch
sweep_script=$repo/launch/slurm/sweep.sbatch

skip() {
  echo "SKIP: $*"
  exit 77
}
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

(($# == 1)) || { echo "usage: $0 SINAPSIS_BINARY" >&2; exit 2; }
sinapsis=$(realpath "$1")
[[ -x $sinapsis ]] || fail "not an executable: $1"
[[ -r $job_script ]] || fail "missing $job_script"
[[ -r $sweep_script ]] || fail "missing $sweep_script"

# ---- the cluster ------------------------------------------------------------------
[[ $(id -u) -eq 0 ]] || skip "the SLURM cluster needs root (munged, slurmd); run as root"
have_slurm() {
  local c
  for c in slurmctld slurmd sbatch squeue scontrol scancel munged mungekey; do
    command -v "$c" >/dev/null || [[ -x /usr/sbin/$c ]] || return 1
  done
}
if ! have_slurm; then
  echo "installing the SLURM packages (launch/deps.sh)"
  "$repo/launch/deps.sh" >&2 || skip "the SLURM packages could not be installed (launch/deps.sh failed)"
  have_slurm || skip "slurmctld, slurmd, sbatch or munged still missing after launch/deps.sh"
fi
command -v h5dump >/dev/null || fail "h5dump (hdf5-tools) is missing: run launch/deps.sh"
command -v mpirun >/dev/null || fail "mpirun (openmpi-bin) is missing: run launch/deps.sh"

W=$(mktemp -d /tmp/sinapsis-slurm-test.XXXXXX)
mkdir -p "$W/jobs"
reference_pid=""  # the mpirun of case 2, while it runs
cleanup() {
  local status=$?
  if [[ -n $reference_pid ]]; then kill "$reference_pid" 2>/dev/null || true; fi
  "$here/cluster.sh" stop "$W" || true
  if ((status == 0)); then
    rm -rf "$W"
  else
    echo "the cluster's configuration, logs and job outputs are in $W" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
"$here/cluster.sh" start "$W" $$ || skip "the one-node SLURM cluster did not start (logs above)"

export SLURM_CONF=$W/etc/slurm.conf
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_mpi_yield_when_idle=1

# ---- helpers --------------------------------------------------------------------
# The jobs that a signal interrupts run sinapsis through this wrapper (their
# SINAPSIS). The run they interrupt has no end of its own; its resumed start
# (--resume among the arguments) must end, at a point known only once the
# run stopped: it waits for the file RESUME_ARGS_FILE, which the test writes
# then, and appends the options in it (--epochs, --max-epochs).
resuming=$W/sinapsis-resuming
{
  printf '#!/bin/bash\n# written by %s\nsinapsis=%q\n' "$0" "$sinapsis"
  cat <<'WRAPPER'
if [[ -n ${RESUME_ARGS_FILE:-} && " $* " == *" --resume "* ]]; then
  deadline=$((SECONDS + 120))
  until [[ -s $RESUME_ARGS_FILE ]]; do
    ((SECONDS < deadline)) || { echo "sinapsis-resuming: no $RESUME_ARGS_FILE after 120 s" >&2; exit 3; }
    sleep 0.2
  done
  read -ra extra <"$RESUME_ARGS_FILE"
  exec "$sinapsis" "$@" "${extra[@]}"
fi
exec "$sinapsis" "$@"
WRAPPER
} >"$resuming"
chmod +x "$resuming"
# resume_with FILE OPTIONS...: what the resumed start appends (written whole).
resume_with() {
  local file=$1
  shift
  echo "$*" >"$file.tmp" && mv "$file.tmp" "$file"
}
endless=1000000000  # epochs: a run that only a signal ends

# submit NAME RUN_DIR TRAIN_ARGS [RESUME_ARGS_FILE]: the unedited job script,
# its variables set through the environment; prints the job id. With
# RESUME_ARGS_FILE, sinapsis runs through $resuming.
submit() {
  local executable=$sinapsis
  [[ -z ${4:-} ]] || executable=$resuming
  SINAPSIS=$executable RESUME_ARGS_FILE=${4:-} DATA=$W/spiral.h5 RUN_DIR=$2 TRAIN_ARGS=$3 \
    sbatch --parsable --export=ALL --job-name="$1" --output="$W/jobs/%x-%j.out" \
    --nodes=1 --ntasks=2 --ntasks-per-node=2 "$job_script"
}
job_field() { scontrol show job -o "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p"; }
show_job() {
  echo "---- job $1: $(scontrol show job -o "$1" 2>&1 | grep -oE '(JobState|Restarts|ExitCode)=[^ ]*' | tr '\n' ' ')" >&2
  cat "$W"/jobs/*-"$1".out >&2 2>/dev/null || true
  echo "---- slurmctld.log (tail)" >&2
  tail -n 15 "$W/log/slurmctld.log" >&2 || true
}
# wait_job ID SECONDS: until the job has ended for good (a requeued job passes
# through PENDING again); prints its final state.
wait_job() {
  local id=$1 deadline=$((SECONDS + $2)) state answered=$SECONDS
  while ((SECONDS < deadline)); do
    state=$(job_field "$id" JobState)
    if [[ -n $state ]]; then
      answered=$SECONDS
    elif ((SECONDS - answered > 10)); then
      fail "slurmctld has not answered about job $id for 10 s"
    fi
    case $state in
      COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | PREEMPTED | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE)
        echo "$state"
        return 0
        ;;
    esac
    sleep 0.3
  done
  show_job "$id"
  fail "job $id did not end within $2 s (state ${state:-unknown})"
}
# wait_training ID OUTPUT: until the job's ranks train (their first progress
# line names epoch 1). A signal sent before the batch script runs is lost.
wait_training() {
  local deadline=$((SECONDS + 90))
  until grep -qsE '\<epoch [0-9]+' "$2"; do
    ((SECONDS < deadline)) || { show_job "$1"; fail "job $1 did not start training within 90 s"; }
    case $(job_field "$1" JobState) in
      PENDING | CONFIGURING | RUNNING | "") ;;
      *) show_job "$1"; fail "job $1 ended before its output showed training" ;;
    esac
    sleep 0.2
  done
}
# wait_line FILE PATTERN SECONDS: until a line of FILE matches the extended regex.
wait_line() {
  local deadline=$((SECONDS + $3))
  until grep -qsE "$2" "$1"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}
# wait_left_running ID SECONDS: until the job is neither running nor
# completing (ended, or back in the queue); prints its state.
wait_left_running() {
  local id=$1 deadline=$((SECONDS + $2)) state
  while ((SECONDS < deadline)); do
    state=$(job_field "$id" JobState)
    case $state in
      RUNNING | COMPLETING | CONFIGURING | "") ;;
      *) echo "$state"; return 0 ;;
    esac
    sleep 0.3
  done
  show_job "$id"
  fail "job $id still ${state:-unknown} after $2 s"
}
# check WHAT CONDITION...: fails the test, with the job's output, unless CONDITION holds.
job_under_test=""
check() {
  local what=$1
  shift
  if ! "$@"; then
    [[ -z $job_under_test ]] || show_job "$job_under_test"
    fail "$what"
  fi
}
layers() { h5dump -g /layers "$1" | tail -n +2; }  # the first line names the file
epochs_done() { h5dump -a /checkpoint/epochs_done "$1" 2>/dev/null | sed -n 's/^ *(0): *\([0-9]*\).*/\1/p'; }
losses() { cut -d, -f1,2 "$1"; }                    # epoch,train_loss
rows() { tail -n +2 "$1" | wc -l; }

"$sinapsis" data make --dataset spiral --samples 2000 --noise 0.1 --seed 3 --out "$W/spiral.h5" >/dev/null
started=$SECONDS

# ---- 1. a job that trains to the end ------------------------------------------------
run1=$W/run1
epochs1=20
job=$(submit complete "$run1" "--hidden 8,8 --epochs $epochs1 --batch 10 --threads 1 --seed 1")
job_under_test=$job
state=$(wait_job "$job" 90)
check "job $job (2 tasks) ended $state, not COMPLETED" [ "$state" = COMPLETED ]
check "job $job: exit code $(job_field "$job" ExitCode), not 0:0" [ "$(job_field "$job" ExitCode)" = 0:0 ]
check "job $job was restarted, but nothing stopped it" [ "$(job_field "$job" Restarts)" = 0 ]
check "job $job left no $run1/model.h5" [ -s "$run1/model.h5" ]
check "job $job: $run1/metrics.csv has $(rows "$run1/metrics.csv") rows, not $epochs1" \
  [ "$(rows "$run1/metrics.csv")" = "$epochs1" ]
check "job $job: the output does not show 2 ranks" grep -q 'on 2 rank(s)' "$W/jobs/complete-$job.out"
echo "PASS 1: job $job of 2 tasks COMPLETED with $run1/model.h5 ($((SECONDS - started)) s)"

# ---- 2. USR1 mid-training: checkpoint, requeue, resume, same weights ---------------------
# The run has no end of its own: only the USR1 stops it, however fast the
# machine. It stops in (or at the end of) epoch E; the requeued start
# resumes it to E + 2 epochs (--epochs may change on resume), and an
# uninterrupted `mpirun -n 2` of the same options trains to E + 2 epochs.
run2=$W/run2
args2="--hidden 32,32 --batch 10 --momentum 0.9 --threads 1 --seed 2"
resume2=$W/resume2.args
t2=$SECONDS
job=$(submit resume "$run2" "$args2 --epochs $endless" "$resume2")
job_under_test=$job
out2=$W/jobs/resume-$job.out
wait_training "$job" "$out2"
scancel --signal=USR1 --batch "$job"
stop_line='^stopped by SIGUSR1 (in|at the end of) epoch [0-9]+'
check "job $job: the ranks did not stop on USR1 within 120 s (no 'stopped by SIGUSR1 ... epoch E' in its output)" \
  wait_line "$out2" "$stop_line" 120
stopped_epoch=$(grep -m 1 -oE "$stop_line" "$out2" | grep -oE '[0-9]+$')
epochs2=$((stopped_epoch + 2))
resume_with "$resume2" --epochs "$epochs2"
# The uninterrupted run, meanwhile: it fills the pause before the requeued
# job may start again.
reference=$W/reference
# shellcheck disable=SC2086  # args2 is a list of options
mpirun -n 2 "$sinapsis" train --data "$W/spiral.h5" --out "$reference" $args2 --epochs "$epochs2" --quiet \
  >"$W/jobs/reference.out" 2>&1 &
reference_pid=$!
state=$(wait_job "$job" 150)
check "job $job ended $state after USR1, not COMPLETED" [ "$state" = COMPLETED ]
check "job $job: exit code $(job_field "$job" ExitCode), not 0:0" [ "$(job_field "$job" ExitCode)" = 0:0 ]
check "job $job: the script did not requeue on status 75" grep -q 'requeueing the job' "$out2"
check "job $job: Restarts=$(job_field "$job" Restarts), not 1" [ "$(job_field "$job" Restarts)" = 1 ]
check "job $job: the second start did not resume from the checkpoint" \
  grep -q "start 1: .* train --resume $run2\$" "$out2"
check "job $job left no $run2/model.h5" [ -s "$run2/model.h5" ]
echo "job $job: USR1 in epoch $stopped_epoch, requeued, resumed to epoch $epochs2, COMPLETED ($((SECONDS - t2)) s)"

wait "$reference_pid" ||
  { cat "$W/jobs/reference.out" >&2; fail "the uninterrupted mpirun -n 2 reference run failed"; }
reference_pid=""
check "job $job: h5dump finds no /layers/0/weight in $run2/model.h5" grep -q 'DATASET "weight"' <(layers "$run2/model.h5")
check "job $job: the resumed weights differ from the uninterrupted run's (h5dump -g /layers)" \
  cmp -s <(layers "$run2/model.h5") <(layers "$reference/model.h5")
check "job $job: epoch,train_loss in metrics.csv differ from the uninterrupted run's" \
  cmp -s <(losses "$run2/metrics.csv") <(losses "$reference/metrics.csv")
check "job $job: $run2/metrics.csv has $(rows "$run2/metrics.csv") rows, not $epochs2" \
  [ "$(rows "$run2/metrics.csv")" = "$epochs2" ]
echo "PASS 2: job $job stopped by USR1 in epoch $stopped_epoch, resumed after a requeue to epoch $epochs2;" \
  "weights bit-identical to mpirun -n 2 ($((SECONDS - t2)) s)"

# ---- 2b. scancel mid-training: checkpoint, and the job stays cancelled ------------------
# SLURM sends TERM to every process of the job; the ranks checkpoint and exit
# 75, and the script must not requeue (that would undo the user's scancel).
run3=$W/run3
t3=$SECONDS
job=$(submit cancel "$run3" "--hidden 8,8 --epochs $endless --batch 10 --threads 1 --seed 3")
job_under_test=$job
out3=$W/jobs/cancel-$job.out
wait_training "$job" "$out3"
scancel "$job"
check "job $job: the batch script did not report how the ranks ended after scancel" \
  wait_line "$out3" '^train\.sbatch: .*(requeue|ended with status|finished)' 60
check "job $job: the ranks did not checkpoint on TERM (no 'stopped by SIGTERM')" grep -q '^stopped by SIGTERM' "$out3"
check "job $job: no $run3/checkpoint.h5 after TERM" [ -s "$run3/checkpoint.h5" ]
check "job $job: the script requeued a cancelled job" grep -q 'not requeueing after TERM' "$out3"
# Once no process of the job is left, a requeue would show: the job back in
# the queue (PENDING, Restarts=1) rather than CANCELLED.
state=$(wait_left_running "$job" 60)
check "job $job: state $state after scancel, not CANCELLED" [ "$state" = CANCELLED ]
check "job $job: Restarts=$(job_field "$job" Restarts) after scancel, not 0" [ "$(job_field "$job" Restarts)" = 0 ]
echo "PASS 2b: job $job checkpointed on scancel and stayed CANCELLED ($((SECONDS - t3)) s)"

# ---- 3. a sweep as a job array, merged by the job the array submits -----------------
# Three tasks each train a slice of the sweep; the lowest task submits the
# merge job (afterok on the array). The merged trials.csv must equal that of
# the same sweep run as one job under mpirun, apart from the columns seconds
# and ranks, and summary.json apart from the directory paths.
sweep_data=$W/sweep-spiral.h5
"$sinapsis" data make --dataset spiral --samples 300 --out "$sweep_data" >/dev/null
sweep_args="--depth 0:2 --width 2,4 --max-epochs 20 --test-split 0.5 --batch 10 --threads 1"
array_dir=$W/sweep-array
whole_dir=$W/sweep-whole
t4=$SECONDS
array=$(SINAPSIS=$sinapsis DATA=$sweep_data SWEEP_DIR=$array_dir SWEEP_ARGS=$sweep_args \
  sbatch --parsable --export=ALL --array=0-2 --job-name=sweep --output="$W/jobs/%x-%A_%a.out" \
  --nodes=1 --ntasks=1 --ntasks-per-node=1 "$sweep_script")
# shellcheck disable=SC2086  # sweep_args is a list of options
mpirun -n 2 "$sinapsis" sweep --data "$sweep_data" --out "$whole_dir" $sweep_args >"$W/jobs/sweep-whole.out" 2>&1 ||
  { cat "$W/jobs/sweep-whole.out" >&2; fail "the sweep as one mpirun -n 2 job failed"; }
for task in 0 1 2; do
  job_under_test=${array}_$task
  state=$(wait_job "$job_under_test" 90)
  check "array task $job_under_test ended $state, not COMPLETED" [ "$state" = COMPLETED ]
  check "array task $job_under_test: exit code $(job_field "$job_under_test" ExitCode), not 0:0" \
    [ "$(job_field "$job_under_test" ExitCode)" = 0:0 ]
done
job_under_test=${array}_0
check "array task $job_under_test did not submit the merge job" \
  grep -q 'merge job [0-9]* submitted' "$W/jobs/sweep-${array}_0.out"
merge=$(grep -m 1 -oE 'merge job [0-9]+ submitted' "$W/jobs/sweep-${array}_0.out" | cut -d ' ' -f 3)
check "the array submitted more than one merge job" \
  [ "$(cat "$W"/jobs/sweep-"$array"_*.out | grep -c 'merge job [0-9]* submitted')" = 1 ]
job_under_test=$merge
state=$(wait_job "$merge" 60)
check "merge job $merge ended $state, not COMPLETED (its output: $(cat "$array_dir/merge-$merge.out" 2>&1))" \
  [ "$state" = COMPLETED ]
not_before() { [[ ! $1 < $2 ]]; }  # ISO 8601 times compare as text
for task in 0 1 2; do
  check "merge job $merge started at $(job_field "$merge" StartTime), before task $task ended at $(job_field "${array}_$task" EndTime)" \
    not_before "$(job_field "$merge" StartTime)" "$(job_field "${array}_$task" EndTime)"
done
# A CSV file's columns by their header's names: all but those in $2 (drop), or those in $2 in that order (pick).
drop() { awk -F, -v OFS=, -v names="$2" 'NR == 1 { split(names, n, ","); for (k in n) gone[n[k]] = 1; for (i = 1; i <= NF; ++i) skip[i] = ($i in gone) }
  { line = ""; kept = 0; for (i = 1; i <= NF; ++i) if (!skip[i]) line = line (kept++ ? "," : "") $i; print line }' "$1"; }
pick() { awk -F, -v names="$2" 'NR == 1 { k = split(names, n, ","); for (i = 1; i <= NF; ++i) at[$i] = i }
  { line = ""; for (j = 1; j <= k; ++j) line = line (j > 1 ? "," : "") $(at[n[j]]); print line }' "$1"; }
columns() { drop "$1" seconds,ranks; }  # all but seconds and ranks
check "the merged trials.csv has $(rows "$array_dir/trials.csv") trials, not 5" [ "$(rows "$array_dir/trials.csv")" = 5 ]
check "the merged trials.csv differs from the one-job sweep's: $(diff <(columns "$array_dir/trials.csv") <(columns "$whole_dir/trials.csv") | head -n 4)" \
  cmp -s <(columns "$array_dir/trials.csv") <(columns "$whole_dir/trials.csv")
check "the merged summary.json differs from the one-job sweep's (paths aside)" \
  cmp -s <(grep -v '"run_dir"' "$array_dir/summary.json" | sed "s#$array_dir#SWEEP_DIR#g") \
         <(grep -v '"run_dir"' "$whole_dir/summary.json" | sed "s#$whole_dir#SWEEP_DIR#g")
best_run=$(sed -n 's/.*"run_dir": "\(.*\)".*/\1/p' "$array_dir/summary.json" | head -n 1)
check "the best trial's run_dir $best_run in the merged summary.json holds no model.h5" [ -s "$best_run/model.h5" ]
echo "PASS 3: array $array of 3 slices and merge job $merge: trials.csv and summary.json as one job's ($((SECONDS - t4)) s)"

# ---- 3b. USR1 to an array task mid-slice: requeued, resumed, merged ------------------
# A sweep of one trial in two slices (slice 1 is empty, so only one trial
# takes the cores), on two tasks of 2 ranks. The trial has no end of its
# own, and writes a checkpoint every epoch: once the first is there, task 0
# gets USR1, checkpoints the trial, requeues itself and resumes its slice to
# 2 epochs past the stop (--max-epochs may change on resume); the merge job
# waits for it. (Resumed trials equal uninterrupted ones: case 2 and the
# sweep's own tests check that; here the merged results must be complete.)
sweep_args="--depth 1 --width 16 --max-epochs $endless --checkpoint-every 1 --test-split 0.5 --batch 10 --threads 1"
array_dir=$W/sweep-requeued
trial_checkpoint=$array_dir/slices/0-of-2/trials/t0000/checkpoint.h5
resume5=$W/resume5.args
t5=$SECONDS
array=$(SINAPSIS=$resuming RESUME_ARGS_FILE=$resume5 DATA=$sweep_data SWEEP_DIR=$array_dir SWEEP_ARGS=$sweep_args \
  sbatch --parsable --export=ALL --array=0-1 --job-name=requeued --output="$W/jobs/%x-%A_%a.out" \
  --nodes=1 --ntasks=2 --ntasks-per-node=2 "$sweep_script")
job_under_test=${array}_0
out5=$W/jobs/requeued-${array}_0.out
deadline=$((SECONDS + 90))
until [[ -s $trial_checkpoint ]]; do
  ((SECONDS < deadline)) || { show_job "$job_under_test"; fail "array task $job_under_test: no $trial_checkpoint within 90 s"; }
  sleep 0.2
done
scancel --signal=USR1 --batch "$job_under_test"
check "array task $job_under_test: the ranks did not stop on USR1 within 120 s (no 'sweep stopped by a signal')" \
  wait_line "$out5" '^sweep stopped by a signal' 120
stopped_epochs=$(epochs_done "$trial_checkpoint")
check "array task $job_under_test: $trial_checkpoint holds no epochs_done after the stop" [ -n "$stopped_epochs" ]
max_epochs=$((stopped_epochs + 2))
resume_with "$resume5" --max-epochs "$max_epochs"
for task in 0 1; do
  job_under_test=${array}_$task
  state=$(wait_job "$job_under_test" 120)
  check "array task $job_under_test ended $state, not COMPLETED" [ "$state" = COMPLETED ]
done
job_under_test=${array}_0
check "array task $job_under_test: Restarts=$(job_field "$job_under_test" Restarts), not 1" \
  [ "$(job_field "$job_under_test" Restarts)" = 1 ]
check "array task $job_under_test: the second start did not resume the slice" \
  grep -qE "start 1: .* sweep --resume --out $array_dir/slices/0-of-2 --slice 0/2\$" "$out5"
check "array task ${array}_1 was restarted, but nothing stopped it" [ "$(job_field "${array}_1" Restarts)" = 0 ]
check "the requeued array did not submit exactly one merge job" \
  [ "$(cat "$W"/jobs/requeued-"$array"_*.out | grep -c 'merge job [0-9]* submitted')" = 1 ]
merge=$(grep -m 1 -oE 'merge job [0-9]+ submitted' "$out5" | cut -d ' ' -f 3)
job_under_test=$merge
state=$(wait_job "$merge" 60)
check "merge job $merge ended $state, not COMPLETED (its output: $(cat "$array_dir/merge-$merge.out" 2>&1))" \
  [ "$state" = COMPLETED ]
check "merge job $merge started at $(job_field "$merge" StartTime), before the requeued task ended at $(job_field "${array}_0" EndTime)" \
  not_before "$(job_field "$merge" StartTime)" "$(job_field "${array}_0" EndTime)"
# trial,epochs_run,status,stop_reason of each trial
check "the requeued sweep's trials.csv is not its trial done to $max_epochs epochs: $(pick "$array_dir/trials.csv" trial,epochs_run,status,stop_reason | tr '\n' ' ')" \
  cmp -s <(pick "$array_dir/trials.csv" trial,epochs_run,status,stop_reason) <(printf '%s\n' trial,epochs_run,status,stop_reason "0,$max_epochs,done,max_epochs")
check "the resumed trial's metrics.csv has $(rows "$array_dir/trials/t0000/metrics.csv") rows, not $max_epochs" \
  [ "$(rows "$array_dir/trials/t0000/metrics.csv")" = "$max_epochs" ]
echo "PASS 3b: array $array: task 0 stopped by USR1 mid-slice after $stopped_epochs epochs, requeued, resumed to $max_epochs;" \
  "merged, complete ($((SECONDS - t5)) s)"

echo "PASS: SLURM system test, $((SECONDS - started)) s after the cluster came up"
