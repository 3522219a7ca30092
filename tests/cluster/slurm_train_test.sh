#!/usr/bin/env bash
# The real trainer under a private single-node SLURM (tests/cluster/slurm_lib.sh):
# launcher/slurm/train.sbatch with payload `train -c cfg.yaml`, 2 tasks, on the
# synthetic data with a tiny LLaMA. Preemption mid-run: once a checkpoint at
# step >= 2 exists, `scancel --signal=USR1 --batch` (what --signal=B:USR1@120
# does) -> the batch shell forwards USR1 to the step -> the ranks agree, rank 0
# checkpoints, both exit 3 -> the script requeues -> the requeued job
# (SLURM_RESTART_COUNT=1) runs `train ... --resume` and finishes. Its final
# parameters must equal, bitwise, those of an uninterrupted `mpirun -np 2` run
# of the same config (same world size, CPU: resume is exact).
# Env: LLMSREC (binary), LLMSREC_SOURCE_DIR. Exit 77 = skipped (SLURM not installed).
source "$(dirname "$0")/../integration/lib.sh"
require_cmd mpirun  # the uninterrupted reference run
source "$(dirname "$0")/slurm_lib.sh"
STEPS=30

t0=$(date +%s)
D="$T/data"
make_tiny_training_data "$D"
write_tiny_train_config "$T/ref.yaml" "$T/ref" "$D" $STEPS
write_tiny_train_config "$T/cfg.yaml" "$T/run" "$D" $STEPS
mpirun -np 2 --oversubscribe --allow-run-as-root "$LLMSREC" train -c "$T/ref.yaml" --set cluster.control_port=0 --json \
  >"$T/ref.json" 2>"$T/ref.log" || fail "uninterrupted mpirun run failed: $(tail -5 "$T/ref.log")"
[ "$(json_get "$(head -1 "$T/ref.json")" '["steps"]')" = $STEPS ] || fail "reference did not run $STEPS steps"
pass "data, tiny LLaMA and the uninterrupted 2-rank reference ($STEPS steps) in $(( $(date +%s) - t0 )) s"

start_slurm
t0=$(date +%s)
job=$(submit train -c "$T/cfg.yaml") || fail "sbatch failed"
log="$T/job-$job.log"
# Shell builtins only in this loop (no scontrol, no forks): it must see the first
# checkpoint at once, even on a loaded machine, so the signal lands mid-run.
ckpts=("$T"/run/ckpt-*.h5)
for i in $(seq 1 1800); do
  ckpts=("$T"/run/ckpt-*.h5)
  [ -e "${ckpts[0]}" ] && break
  if [ $((i % 50)) -eq 0 ] && grep -q "job step exited" "$log"; then fail "the job step ended before its first checkpoint"; fi
  sleep 0.05
done
[ "$(latest_step "$T/run")" -ge 2 ] || fail "no checkpoint after 90 s"
# Live metrics under SLURM: rank 0's control server (port in run/control.json).
port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$T/run/control.json")
metrics=$(curl -s --max-time 5 "http://127.0.0.1:$port/metrics") || fail "GET /metrics failed"
for series in 'llmsrec_step ' 'llmsrec_train_loss ' 'llmsrec_last_checkpoint_step ' 'llmsrec_eta_seconds ' \
              'llmsrec_heartbeat_age_seconds{rank="1"'; do
  grep -qF "$series" <<<"$metrics" || fail "/metrics lacks $series: $(head -c 600 <<<"$metrics")"
done
scancel --signal=USR1 --batch "$job"
echo "USR1 to the batch shell after checkpoint $(cat "$T/run/latest") (/metrics: $(awk '$1=="llmsrec_step"{print "step", $2}' <<<"$metrics"))"
deadline=$((SECONDS + 90))
while [ $SECONDS -lt $deadline ]; do
  [ "$(job_field "$job" Restarts)" = 1 ] && break
  grep -q "job step exited with [^3]" "$log" && fail "the preempted step did not exit 3: $(grep "job step exited" "$log")"
  sleep 0.25
done
[ "$(job_field "$job" Restarts)" = 1 ] || fail "job was not requeued (Restarts=$(job_field "$job" Restarts))"
wait_state "$job" COMPLETED 150   # requeued jobs wait cred_expire (10 s) before starting again

grep -q "batch shell got SIGUSR1" "$log" || fail "the batch shell did not trap USR1"
stopped=$(grep -o 'preempted at step [0-9]*' "$log" | sort -u)
[ "$(grep -c 'preempted at step' "$log")" -ge 2 ] || fail "both ranks should report 'preempted at step': $stopped"
[ "$(echo "$stopped" | wc -l)" -eq 1 ] || fail "ranks stopped at different steps: $stopped"
at=$(echo "$stopped" | grep -o '[0-9]*$')
[ "$at" -ge 2 ] && [ "$at" -lt $STEPS ] || fail "preempted at step $at: not mid-run (2 <= step < $STEPS)"
grep -q "job step exited with 3" "$log" || fail "the preempted step did not exit 3"
grep -q "requeueing job $job" "$log" || fail "the script did not requeue on exit 3"
grep -q "restart 1 " "$log" || fail "no second run (SLURM_RESTART_COUNT=1)"
grep -q "^srun .* train -c $T/cfg.yaml --resume$" "$log" || fail "the requeued run was not started with --resume"
resumed=$(grep -o "resumed from [^ ]* at epoch [0-9]* step [0-9]* (global step [0-9]*)" "$log" | head -1)
[ -n "$resumed" ] || fail "the requeued run did not resume from a checkpoint"
[ "$(sed -n '/restart 1 /q;p' "$log" | grep -c "resumed from")" -eq 0 ] || fail "the first run must start fresh"
grep -q "global step $at)" <<<"$resumed" || fail "resumed at another step than the preemption ($at): $resumed"
[ "$(grep -c "job step exited with 0" "$log")" -eq 1 ] || fail "the requeued run did not end with exit 0"
pass "USR1 mid-run -> exit 3 at step $at of $STEPS -> requeued (restart 1) -> $resumed -> completed; $(( $(date +%s) - t0 )) s"

final="$T/run/$(cat "$T/run/latest")"; ref="$T/ref/$(cat "$T/ref/latest")"
[ "$(basename "$final")" = "$(basename "$ref")" ] || fail "final checkpoints differ in step: $final vs $ref"
"$LLMSREC" inspect diff "$ref" "$final" --json >"$T/diff.json" 2>"$T/diff.log" || fail "inspect diff: $(cat "$T/diff.log")"
python3 - "$T/diff.json" <<'PY' || fail "preempted + requeued + resumed != uninterrupted"
import json, sys
d = json.load(open(sys.argv[1]))
tensors = [r for r in d["datasets"] if r["path"].startswith("/tensors/")]
bad = [r["path"] for r in tensors if r.get("max_abs", 1) != 0]
print(len(tensors), "tensors compared; differing:", bad[:5])
sys.exit(1 if bad or not tensors else 0)
PY
pass "final parameters, Adam state and best weights == uninterrupted run: max_abs 0 ($(basename "$final"))"
pass "SLURM train test total $(( $(date +%s) - t_start )) s"
