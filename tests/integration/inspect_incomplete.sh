#!/usr/bin/env bash
# `llmsrec inspect` on files that are not (yet) whole, with real files:
#  1. a checkpoint while the trainer is writing it: `train` checkpoints every
#     step; as soon as a ckpt-*.h5.tmp appears the trainer is SIGSTOPped mid-write
#     and the temp file inspected: "incomplete" (locked: "being written by
#     another process", exit 5; closed but not yet renamed: the tree with a
#     warning, exit 0), never a crash or garbage; `latest` stays readable;
#  2. a real checkpoint truncated to half: "truncated or not an HDF5 file", exit 5
#     (also through `inspect diff` and --json);
#  3. a foreign HDF5 file (h5copy of one tensor, no llmsrec_schema): the tree
#     and "not an llmsrec file", exit 0;
#  4. a file that is not HDF5: "not an HDF5 file", exit 5.
source "$(dirname "$0")/lib.sh"

D="$WORK/data"
make_tiny_training_data "$D"
write_tiny_train_config "$WORK/cfg.yaml" "$WORK/run" "$D" 16
"$LLMSREC" train -c "$WORK/cfg.yaml" --set cluster.backend=local --set cluster.control_port=0 \
  --set train.checkpoint_every=1 --set train.keep_checkpoints=2 >"$WORK/train.out" 2>"$WORK/train.log" &
trainer=$!
trap 'kill -CONT $trainer 2>/dev/null || true; kill -9 $trainer 2>/dev/null || true; rm -rf "$WORK"' EXIT

# 1. Poll for a temp checkpoint; freeze the writer while it exists.
caught=0 locked=0 closed=0
while kill -0 "$trainer" 2>/dev/null && [ $caught -lt 2 ]; do
  tmp=""
  for f in "$WORK"/run/ckpt-*.h5.tmp; do [ -e "$f" ] && tmp=$f; done
  [ -n "$tmp" ] || continue
  kill -STOP "$trainer"
  if [ -e "$tmp" ]; then  # not renamed between the poll and the stop
    set +e; "$LLMSREC" inspect "$tmp" >"$WORK/tmp.out" 2>&1; rc=$?; set -e
    grep -q "incomplete" "$WORK/tmp.out" || fail "in-progress $(basename "$tmp") (exit $rc) not called incomplete: $(head -c 400 "$WORK/tmp.out")"
    if [ $rc -eq 5 ]; then
      # Locked by the writer, or (caught between the writer's steps) an uncommitted temp file.
      grep -qE "is incomplete: (being written by another process|a temp file of a write that has not been committed)" \
        "$WORK/tmp.out" || fail "exit 5 without the reason: $(cat "$WORK/tmp.out")"
      locked=$((locked + 1))
    elif [ $rc -eq 0 ]; then
      grep -q "warning: incomplete: a temp file" "$WORK/tmp.out" || fail "no warning: $(head -5 "$WORK/tmp.out")"
      closed=$((closed + 1))
    else
      fail "inspect of in-progress $(basename "$tmp") exited $rc: $(cat "$WORK/tmp.out")"
    fi
    caught=$((caught + 1))
    echo "caught $(basename "$tmp") mid-write: exit $rc, $(grep -m1 -o 'incomplete[^(;]*' "$WORK/tmp.out")"
    if [ -s "$WORK/run/latest" ]; then
      expect_exit 0 "$LLMSREC" inspect "$WORK/run/$(cat "$WORK/run/latest")" --json
      [ "$(json_get "$OUT" '["complete"]')" = True ] || fail "latest is not complete while the next one is written"
    fi
  fi
  kill -CONT "$trainer"
  while [ -e "$tmp" ] && kill -0 "$trainer" 2>/dev/null; do sleep 0.01; done  # let this write finish
done
[ $caught -ge 1 ] || fail "never caught a checkpoint mid-write in 16 steps"
wait "$trainer" || fail "training failed after being stopped and continued: $(tail -3 "$WORK/train.log")"
pass "$caught checkpoint(s) inspected mid-write: $locked locked by the writer (exit 5), $closed closed but not renamed (exit 0, warning)"

# 2. A real checkpoint cut to half.
ckpt="$WORK/run/$(cat "$WORK/run/latest")"
cp "$ckpt" "$WORK/half.h5"
truncate -s $(($(stat -c %s "$ckpt") / 2)) "$WORK/half.h5"
expect_exit 5 "$LLMSREC" inspect "$WORK/half.h5"
grep -q "half.h5' is truncated or not an HDF5 file: it has [0-9]* bytes, its HDF5 superblock says $(stat -c %s "$ckpt")" \
  <<<"$ERR" || fail "truncated: unclear message: $ERR"
expect_exit 5 "$LLMSREC" inspect "$WORK/half.h5" --json
[ "$(json_get "$OUT" '["exit_code"]')" = 5 ] && grep -q "truncated" <<<"$(json_get "$OUT" '["error"]')" \
  || fail "--json: $OUT"
expect_exit 5 "$LLMSREC" inspect diff "$ckpt" "$WORK/half.h5"
grep -q "truncated or not an HDF5 file" <<<"$ERR" || fail "inspect diff: unclear message: $ERR"
pass "truncated checkpoint: $(grep -o "is truncated.*" <<<"$ERR" | head -1)"

# 3. A foreign HDF5 file: one tensor copied out of the checkpoint, no root attributes.
tensor=$(h5ls -r "$ckpt" | awk '!found && $2=="Dataset" && $1 ~ /^\/tensors\/params\// {print $1; found=1}')  # no early exit: SIGPIPE + pipefail
[ -n "$tensor" ] || fail "no parameter tensor found in $ckpt"
h5copy -p -i "$ckpt" -o "$WORK/foreign.h5" -s "$tensor" -d /weights
expect_exit 0 "$LLMSREC" inspect "$WORK/foreign.h5" --stats
grep -q "note: not an llmsrec file" <<<"$OUT" || fail "foreign file not flagged: $OUT"
grep -q "^  /weights float32 " <<<"$OUT" || fail "foreign file tree not shown: $OUT"
grep -q "mean .* std .* nan 0 inf 0" <<<"$OUT" || fail "no statistics for the foreign tensor: $OUT"
pass "foreign HDF5 file: tree + stats shown, flagged 'not an llmsrec file'"

# 4. Not HDF5 at all.
printf 'user\titem\n1\t2\n' >"$WORK/interactions.h5"
expect_exit 5 "$LLMSREC" inspect "$WORK/interactions.h5"
grep -q "interactions.h5' is truncated or not an HDF5 file: no HDF5 signature" <<<"$ERR" || fail "non-HDF5: $ERR"
pass "non-HDF5 file: $(grep -o "is truncated.*" <<<"$ERR")"
