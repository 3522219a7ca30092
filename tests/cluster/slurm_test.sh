#!/usr/bin/env bash
# A real, private, single-node SLURM on this machine (tests/cluster/slurm_lib.sh)
# running the project's launcher/slurm/train.sbatch with `llmsrec cluster check`
# as the payload (2 tasks; slurm_train_test.sh runs the real trainer):
#  1. a normal run completes (exit 0, both ranks, rank table, bandwidth);
#  2. preemption: SIGUSR1 to the batch shell mid-run (what --signal=B:USR1@120
#     does) -> forwarded to the step -> both ranks exit 3 -> the script runs
#     `scontrol requeue` -> the job runs again (SLURM_RESTART_COUNT=1) and finishes.
# Env: LLMSREC (binary), LLMSREC_SOURCE_DIR. Exit 77 = skipped (SLURM not installed).
source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/slurm_lib.sh"
start_slurm

cat >"$T/cfg.yaml" <<YAML
run:
  dir: $T/run
cluster:
  timeout_s: 60
  heartbeat_interval_s: 0.5
  heartbeat_timeout_s: 20
  control_port: -1
YAML

# --- 1. a normal run ---
t0=$(date +%s)
job=$(submit cluster check -c "$T/cfg.yaml" --steps 10 --step-ms 50 --bytes 65536) || fail "sbatch failed"
wait_state "$job" COMPLETED 60
log="$T/job-$job.log"
grep -q "job step exited with 0" "$log" || fail "step did not exit 0"
grep -q "2 rank(s), backend mpi" "$log" || fail "no rank table for 2 ranks (srun --mpi=pmix direct launch)"
[ "$(grep -c '^steps: 10' "$log")" -eq 2 ] || fail "expected both ranks to finish 10 steps"
grep -q "^srun --mpi=pmi" "$log" || fail "llmsrec launch did not print its srun command"
pass "sbatch train.sbatch (cluster check, 2 tasks) completed in $(( $(date +%s) - t0 )) s: $(grep -m1 '^srun' "$log")"

# --- 2. preemption: USR1 to the batch shell mid-run, exit 3, requeue, finish ---
t0=$(date +%s)
job=$(submit cluster check -c "$T/cfg.yaml" --steps 40 --step-ms 250 --bytes 65536) || fail "sbatch failed"
log="$T/job-$job.log"
wait_state "$job" RUNNING 30
for _ in $(seq 1 120); do grep -q "step 4/40" "$log" 2>/dev/null && break; sleep 0.25; done
grep -q "step 4/40" "$log" || fail "the run never reached step 4"
scancel --signal=USR1 --batch "$job"
for _ in $(seq 1 240); do
  [ "$(job_field "$job" Restarts)" = 1 ] && break
  sleep 0.25
done
[ "$(job_field "$job" Restarts)" = 1 ] || fail "job was not requeued (Restarts=$(job_field "$job" Restarts))"
wait_state "$job" COMPLETED 100   # requeued jobs wait cred_expire (10 s) before starting again
grep -q "batch shell got SIGUSR1" "$log" || fail "the batch shell did not trap USR1"
[ "$(grep -c 'preempted at step' "$log")" -ge 2 ] || fail "both ranks should report 'preempted at step'"
grep -q "job step exited with 3" "$log" || fail "the preempted step did not exit 3"
grep -q "requeueing job $job" "$log" || fail "the script did not requeue on exit 3"
grep -q "restart 1 " "$log" || fail "no second run (SLURM_RESTART_COUNT=1)"
[ "$(grep -c '^steps: 40' "$log")" -eq 2 ] || fail "the requeued run did not finish 40 steps on both ranks"
pass "USR1 mid-run -> exit 3 at $(grep -o 'preempted at step [0-9]*' "$log" | head -1) -> requeued -> completed; $(( $(date +%s) - t0 )) s"
pass "SLURM test total $(( $(date +%s) - t_start )) s"
