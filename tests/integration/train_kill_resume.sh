#!/usr/bin/env bash
# Fault injection with real ranks: kill -9 rank 1 of an `mpirun -np 2` training
# run mid-epoch. The last checkpoint must be complete (no half-written file
# under a real name), and `--resume` must end with bitwise the same parameters
# as an uninterrupted 2-rank run.
source "$(dirname "$0")/lib.sh"
require_cmd mpirun
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

D="$WORK/data"
make_tiny_training_data "$D"
# Long enough that the kill (after the checkpoint of step 4) lands mid-run.
STEPS=40

args() {  # RUN_DIR
  echo --set run.dir="$1" --set train.dataset="$D/dataset.h5" --set train.targets="$D/targets.h5" \
    --set llm.path="$D/llm" --set train.batch=3 --set train.max_steps=$STEPS --set train.checkpoint_every=2 \
    --set train.valid_users=40 --set train.validations_per_epoch=4 --set teacher.hidden=16 --set cluster.control_port=0 \
    --set prompt.history_items=4 --set run.threads=1
}
mpirun -np 2 "$LLMSREC" train $(args "$WORK/full") --json >"$WORK/full.json" 2>"$WORK/full.log" \
  || fail "uninterrupted run failed: $(tail -3 "$WORK/full.log")"

# Start the run to be killed, wait until it has written a checkpoint past step 4, kill -9 rank 1.
mpirun -np 2 "$LLMSREC" train $(args "$WORK/killed") >"$WORK/killed.out" 2>"$WORK/killed.log" &
launcher=$!
for _ in $(seq 1 600); do
  n=$({ find "$WORK/killed" -maxdepth 1 -name "ckpt-*.h5" 2>/dev/null || true; } | wc -l)
  [ "$n" -ge 2 ] && break
  sleep 0.2
done
# mpirun starts rank 0 then rank 1: the higher pid is rank 1.
pids=$(pgrep -f "^$LLMSREC train.*$WORK/killed" | sort -n)
[ "$(echo "$pids" | wc -w)" -eq 2 ] || fail "expected 2 ranks of the run to kill, found: $pids"
victim=$(echo "$pids" | tail -1)
kill -9 "$victim"
set +e
wait "$launcher"
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "mpirun exited 0 although rank 1 was killed"
pass "rank 1 killed with SIGKILL; mpirun exited $rc"

latest="$WORK/killed/$(cat "$WORK/killed/latest")"
"$LLMSREC" inspect "$latest" --json >/dev/null 2>&1 || fail "latest checkpoint $latest is not readable"
for f in "$WORK"/killed/ckpt-*.h5; do
  "$LLMSREC" inspect "$f" --json >/dev/null 2>&1 || fail "checkpoint $f is corrupt"
done
pass "every checkpoint under its real name is complete ($(ls "$WORK"/killed/ckpt-*.h5 | wc -l) files, latest $(basename "$latest"))"

mpirun -np 2 "$LLMSREC" train $(args "$WORK/killed") --resume --json >"$WORK/resumed.json" 2>"$WORK/resumed.log" \
  || fail "resume failed: $(tail -3 "$WORK/resumed.log")"
grep -q "resumed from" "$WORK/resumed.log" || fail "the run did not resume from a checkpoint"
diff_checkpoints "$(ls "$WORK"/full/ckpt-*.h5 | tail -1)" "$(ls "$WORK"/killed/ckpt-*.h5 | tail -1)" "$WORK/diff.json"
tensors_identical "$WORK/diff.json" /tensors/params/ || fail "killed + resumed != uninterrupted"
pass "killed at step >= 4 and resumed == uninterrupted, bitwise"

# A resume of a run that already reached train.max_steps runs no further step
# (the kill above can land after the last checkpoint, when only this holds).
before=$(ls "$WORK"/full/ckpt-*.h5 | tail -1)
mpirun -np 2 "$LLMSREC" train $(args "$WORK/full") --resume --json >"$WORK/again.json" 2>"$WORK/again.log" \
  || fail "resume of a finished run failed: $(tail -3 "$WORK/again.log")"
after=$(ls "$WORK"/full/ckpt-*.h5 | tail -1)
[ "$before" = "$after" ] || fail "resume of a finished run trained on: $(basename "$before") -> $(basename "$after")"
[ "$(json_get "$(tail -1 "$WORK/again.json")" '["steps"]')" = "$STEPS" ] || fail "resume of a finished run: $(cat "$WORK/again.json")"
pass "resume of a run at train.max_steps runs no further step"
