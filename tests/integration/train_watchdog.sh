#!/usr/bin/env bash
# Hung-rank watchdog around the real trainer: SIGSTOP rank 1 of `mpirun -np 2
# llmsrec train` once a checkpoint exists. The job must end with exit 4 within
# cluster.heartbeat_timeout_s (+ slack), run/errors/rank-1.json must name rank 1
# and a training phase, and what is on disk must be intact: `latest` points to a
# complete checkpoint that loads, every ckpt-*.h5 is whole, and a leftover
# NAME.tmp (if rank 0 died mid-write) is reported as incomplete, not as a file.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../cluster/cluster_lib.sh"
TIMEOUT_S=5

D="$WORK/data"
make_tiny_training_data "$D"
write_tiny_train_config "$WORK/cfg.yaml" "$WORK/run" "$D" 100000
start_ranks "$WORK/run" train -c "$WORK/cfg.yaml" --set cluster.heartbeat_timeout_s=$TIMEOUT_S
wait_control
for _ in $(seq 1 600); do
  [ "$(latest_step "$WORK/run")" -ge 2 ] && break
  kill -0 "$MPI_PID" 2>/dev/null || fail "training ended before its first checkpoint: $(tail -5 "$WORK/ranks.err")"
  sleep 0.1
done
[ "$(latest_step "$WORK/run")" -ge 2 ] || fail "no checkpoint after 60 s"
echo "latest checkpoint before the stop: $(cat "$WORK/run/latest")"
expect_hung_rank_abort $TIMEOUT_S 'epoch \d+ step \d+: (train|validation)$'

latest="$WORK/run/$(cat "$WORK/run/latest")"
[ -f "$latest" ] || fail "latest names $(cat "$WORK/run/latest"), which does not exist"
expect_exit 0 "$LLMSREC" inspect "$latest" --json
[ "$(json_get "$OUT" '["schema"]')" = llmsrec.checkpoint ] || fail "latest is not a checkpoint: ${OUT:0:300}"
[ "$(json_get "$OUT" '["complete"]')" = True ] || fail "latest is flagged incomplete"
for f in "$WORK"/run/ckpt-*.h5; do
  expect_exit 0 "$LLMSREC" inspect "$f" --stats --json
done
# The real loader accepts it: `--resume` on the same 2 ranks continues from it for one more step.
step=$(latest_step "$WORK/run")
mpirun -np 2 --oversubscribe --allow-run-as-root "$LLMSREC" train -c "$WORK/cfg.yaml" --resume --set cluster.control_port=0 \
  --set train.max_steps=$((step + 1)) --json >"$WORK/resume.json" 2>"$WORK/resume.log" \
  || fail "resume from $latest failed: $(tail -3 "$WORK/resume.log")"
grep -q "resumed from $latest at .*(global step $step)" "$WORK/resume.log" || fail "did not resume from $latest"
for tmp in "$WORK"/run/*.tmp; do
  [ -e "$tmp" ] || continue
  set +e; "$LLMSREC" inspect "$tmp" >"$WORK/tmp.out" 2>&1; set -e
  grep -q "incomplete" "$WORK/tmp.out" || fail "leftover $tmp not reported as incomplete: $(cat "$WORK/tmp.out")"
  echo "leftover $(basename "$tmp") is reported as incomplete"
done
pass "checkpoints intact: latest $(basename "$latest") loads and resumes; $(ls "$WORK"/run/ckpt-*.h5 | wc -l) ckpt files whole"
