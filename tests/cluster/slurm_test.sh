#!/usr/bin/env bash
# A real, private, single-node SLURM on this machine (tests/cluster/slurm_lib.sh)
# running the project's launcher/slurm/train.sbatch with `llmsrec cluster check`
# as the payload (2 tasks; slurm_train_test.sh runs the real trainer):
# a normal run completes (exit 0, both ranks, rank table, bandwidth, the srun
# command `llmsrec launch --slurm` printed). Preemption (USR1 to the batch
# shell -> exit 3 -> requeue -> resume) is tested with the real trainer in
# slurm_train_test.sh.
# Env: LLMSREC (binary), LLMSREC_SOURCE_DIR. Exit 77 = skipped (SLURM not installed).
source "$(dirname "$0")/../integration/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"
source "$(dirname "$0")/slurm_lib.sh"
start_slurm
write_cluster_config "$T/cfg.yaml" 20

t0=$(date +%s)
job=$(submit cluster check -c "$T/cfg.yaml" --steps 10 --step-ms 50 --bytes 65536) || fail "sbatch failed"
wait_state "$job" COMPLETED 60
log="$T/job-$job.log"
grep -q "job step exited with 0" "$log" || fail "step did not exit 0"
grep -q "2 rank(s), backend mpi" "$log" || fail "no rank table for 2 ranks (srun --mpi=pmix direct launch)"
[ "$(grep -c '^steps: 10' "$log")" -eq 2 ] || fail "expected both ranks to finish 10 steps"
grep -q "^srun --mpi=pmi" "$log" || fail "llmsrec launch did not print its srun command"
pass "sbatch train.sbatch (cluster check, 2 tasks) completed in $(( $(date +%s) - t0 )) s: $(grep -m1 '^srun' "$log")"

pass "SLURM test total $(( $(date +%s) - t_start )) s"
