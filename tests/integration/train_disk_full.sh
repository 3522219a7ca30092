#!/usr/bin/env bash
# A full disk in the middle of a checkpoint, with real ranks and a real
# filesystem: run.dir on a tmpfs this test mounts, sized for two checkpoints of
# `mpirun -np 2 llmsrec train`. Rank 0's third checkpoint write fails; the job
# must end within seconds on every rank with exit 5 and the cause named
# (ENOSPC, the path, the bytes needed), no crash at exit, the previous
# checkpoint intact and still `latest`, no temp file left; after space is freed,
# --resume must end bitwise equal to an uninterrupted run.
source "$(dirname "$0")/lib.sh"
require_cmd mpirun
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

MNT="$WORK/small"
mkdir -p "$MNT"
mount -t tmpfs -o size=4m tmpfs "$MNT" 2>/dev/null || skip_test "cannot mount a tmpfs here (needs root)"
trap 'umount "$MNT" 2>/dev/null || true; [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT

D="$WORK/data"
make_tiny_training_data "$D"
STEPS=12
args() {  # RUN_DIR
  echo --set run.dir="$1" --set train.dataset="$D/dataset.h5" --set train.targets="$D/targets.h5" \
    --set llm.path="$D/llm" --set train.batch=3 --set train.max_steps=$STEPS --set train.checkpoint_every=2 \
    --set train.keep_checkpoints=3 --set train.valid_users=40 --set train.validations_per_epoch=2 \
    --set teacher.hidden=16 --set prompt.history_items=4 --set run.threads=1 \
    --set cluster.control_port=-1 --set cluster.heartbeat_interval_s=0.5 --set cluster.timeout_s=120
}
mpirun -np 2 "$LLMSREC" train $(args "$WORK/full") --json >"$WORK/full.json" 2>"$WORK/full.log" \
  || fail "uninterrupted run failed: $(tail -3 "$WORK/full.log")"
ckpt_bytes=$(stat -c %s "$(ls "$WORK"/full/ckpt-*.h5 | tail -1)")
# Room for two checkpoints and the small files (metrics.jsonl, latest, control.json), not three.
size=$(( (ckpt_bytes * 5 / 2 + 65536) / 4096 * 4096 ))
mount -o remount,size=$size "$MNT" || fail "cannot resize the tmpfs"
pass "a checkpoint is $ckpt_bytes bytes; run.dir on a $size-byte tmpfs"

start=$(date +%s.%N)
set +e
mpirun -np 2 "$LLMSREC" train $(args "$MNT/run") >"$WORK/fail.out" 2>"$WORK/fail.log"
rc=$?
set -e
end=$(date +%s.%N)
[ "$rc" -eq 5 ] || fail "mpirun exited $rc, expected 5 (I/O error). Log: $(tail -5 "$WORK/fail.log")"
grep -q "No space left on device (ENOSPC)" "$WORK/fail.log" || fail "ENOSPC not named: $(grep -i error "$WORK/fail.log" | head -3)"
grep -q "ckpt-0000000.\.h5" "$WORK/fail.log" || fail "the checkpoint path is not named"
grep -q "It needs about [0-9]* bytes" "$WORK/fail.log" || fail "the bytes needed are not named"
grep -q "rank 0 failed" "$WORK/fail.log" || fail "no 'rank 0 failed' line"
if grep -qiE "signal 11|segmentation|core dumped|timed out after" "$WORK/fail.log"; then
  fail "a rank crashed or waited for the collective timeout: $(grep -iE "signal|segment|timed out" "$WORK/fail.log" | head -2)"
fi
# From the failed write to the end of the job: seconds, not cluster.timeout_s.
ended_within "$WORK/fail.log" "not written" "$end" 15 || fail "the job did not end within 15 s of the failure"
pass "exit 5 within seconds, ENOSPC, path and bytes named (wall $(python3 -c "print('%.1f' % ($end - $start))") s)"

latest="$MNT/run/$(cat "$MNT/run/latest")"
"$LLMSREC" inspect "$latest" --json >/dev/null 2>&1 || fail "latest checkpoint $latest is not readable"
[ -z "$(ls "$MNT"/run/*.tmp 2>/dev/null)" ] || fail "temp files left behind: $(ls "$MNT"/run/*.tmp)"
grep -q "The previous checkpoint '$latest' is intact" "$WORK/fail.log" || fail "the message does not name the intact checkpoint"
pass "latest = $(basename "$latest"), readable; no temp file left"

mount -o remount,size=64m "$MNT" || fail "cannot grow the tmpfs"
mpirun -np 2 "$LLMSREC" train $(args "$MNT/run") --resume --json >"$WORK/resumed.json" 2>"$WORK/resumed.log" \
  || fail "resume after freeing space failed: $(tail -3 "$WORK/resumed.log")"
grep -q "resumed from $latest" "$WORK/resumed.log" || fail "did not resume from $latest"
diff_checkpoints "$(ls "$WORK"/full/ckpt-*.h5 | tail -1)" "$(ls "$MNT"/run/ckpt-*.h5 | tail -1)" "$WORK/diff.json"
tensors_identical "$WORK/diff.json" /tensors/ || fail "resumed after disk full != uninterrupted"
pass "--resume after freeing space == uninterrupted run, bitwise"
