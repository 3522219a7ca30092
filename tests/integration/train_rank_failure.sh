#!/usr/bin/env bash
# One rank failing at step N with real ranks: rank 1 of `mpirun -np 2 llmsrec
# train` throws before step 7 (LLMSREC_FAIL_AT=1:7, the test hook of
# core/fault_injection.h, an I/O error as a failing disk or shard would give).
# The job must end within seconds with rank 1's exit code (5), rank 0 must log
# "rank 1 failed: <its message>" instead of a collective timeout, rank 1's error
# must be in run.dir/errors/rank-1.json, no rank may crash at exit, and the
# previous checkpoint must be intact, `latest`, and resume to the same end as an
# uninterrupted run, bitwise.
source "$(dirname "$0")/lib.sh"
require_cmd mpirun
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

D="$WORK/data"
make_tiny_training_data "$D"
STEPS=10
write_tiny_train_config "$WORK/full.yaml" "$WORK/full" "$D" $STEPS
write_tiny_train_config "$WORK/run.yaml" "$WORK/run" "$D" $STEPS
mpirun -np 2 "$LLMSREC" train -c "$WORK/full.yaml" --json >"$WORK/full.json" 2>"$WORK/full.log" \
  || fail "uninterrupted run failed: $(tail -3 "$WORK/full.log")"

start=$(date +%s.%N)
set +e
LLMSREC_FAIL_AT=1:7 mpirun -np 2 -x LLMSREC_FAIL_AT "$LLMSREC" train -c "$WORK/run.yaml" >"$WORK/fail.out" 2>"$WORK/fail.log"
rc=$?
set -e
end=$(date +%s.%N)
[ "$rc" -eq 5 ] || fail "mpirun exited $rc, expected rank 1's 5 (I/O error). Log: $(tail -5 "$WORK/fail.log")"
grep -q "rank 1 failed on host .* at step 7 .*: injected fault (LLMSREC_FAIL_AT=1:7) on rank 1 before step 7" "$WORK/fail.log" \
  || fail "rank 0 did not log 'rank 1 failed: <message>': $(grep -i fail "$WORK/fail.log" | head -3)"
if grep -qiE "signal 11|segmentation|core dumped|timed out after|stuck, dead" "$WORK/fail.log"; then
  fail "a rank crashed or blamed a timeout: $(grep -iE "signal|segment|timed out|stuck" "$WORK/fail.log" | head -2)"
fi
python3 - "$WORK/run/errors/rank-1.json" <<'PY' || fail "errors/rank-1.json is missing or wrong: $(cat "$WORK/run/errors/rank-1.json" 2>&1)"
import json, sys
e = json.load(open(sys.argv[1]))
assert e["rank"] == 1 and e["exit_code"] == 5 and "injected fault" in e["error"], e
PY
ended_within "$WORK/fail.log" "injected fault" "$end" 15 || fail "the job did not end within 15 s of rank 1's failure"
pass "exit 5, 'rank 1 failed: ...' on rank 0, errors/rank-1.json (wall $(python3 -c "print('%.1f' % ($end - $start))") s)"

[ "$(latest_step "$WORK/run")" -eq 6 ] || fail "latest is $(cat "$WORK/run/latest"), expected the step-6 checkpoint"
"$LLMSREC" inspect "$WORK/run/$(cat "$WORK/run/latest")" --json >/dev/null 2>&1 || fail "latest checkpoint is not readable"
pass "latest = $(cat "$WORK/run/latest"), readable"

mpirun -np 2 "$LLMSREC" train -c "$WORK/run.yaml" --resume --json >"$WORK/resumed.json" 2>"$WORK/resumed.log" \
  || fail "resume after the failure failed: $(tail -3 "$WORK/resumed.log")"
grep -q "resumed from .*ckpt-00000006.h5" "$WORK/resumed.log" || fail "did not resume from the step-6 checkpoint"
diff_checkpoints "$(ls "$WORK"/full/ckpt-*.h5 | tail -1)" "$(ls "$WORK"/run/ckpt-*.h5 | tail -1)" "$WORK/diff.json"
tensors_identical "$WORK/diff.json" /tensors/ || fail "failed + resumed != uninterrupted"
pass "--resume after rank 1's failure == uninterrupted run, bitwise"
