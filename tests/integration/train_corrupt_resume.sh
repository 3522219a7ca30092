#!/usr/bin/env bash
# --resume with a damaged newest checkpoint, real ranks and real files: a run of
# `mpirun -np 2 llmsrec train` stops after 8 of 12 steps (checkpoints 4, 6, 8
# kept); then ckpt-8 is damaged three ways (bytes flipped inside a tensor,
# truncated, replaced by a foreign HDF5 file). Each --resume must exit 5 within
# seconds naming the file (and, for the flipped bytes, the tensor) and the
# readable previous checkpoint, leaving every file as it was; with
# train.on_corrupt_checkpoint=previous it must warn, resume from ckpt-6 and end
# bitwise equal to an uninterrupted 12-step run.
source "$(dirname "$0")/lib.sh"
require_cmd mpirun
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

D="$WORK/data"
make_tiny_training_data "$D"
write_tiny_train_config "$WORK/full.yaml" "$WORK/full" "$D" 12
write_tiny_train_config "$WORK/run.yaml" "$WORK/run" "$D" 12
mpirun -np 2 "$LLMSREC" train -c "$WORK/full.yaml" --json >"$WORK/full.json" 2>"$WORK/full.log" \
  || fail "uninterrupted run failed: $(tail -3 "$WORK/full.log")"
mpirun -np 2 "$LLMSREC" train -c "$WORK/run.yaml" --set train.max_steps=8 --json >"$WORK/first.json" 2>"$WORK/first.log" \
  || fail "first 8 steps failed: $(tail -3 "$WORK/first.log")"
NEWEST="$WORK/run/ckpt-00000008.h5"
PREVIOUS="$WORK/run/ckpt-00000006.h5"
[ "$(cat "$WORK/run/latest")" = "ckpt-00000008.h5" ] || fail "latest is $(cat "$WORK/run/latest"), expected ckpt-00000008.h5"
cp "$NEWEST" "$WORK/good.h5"

# The byte offset in FILE of a tensor's stored values (found by its bytes, as exported to .npy).
data_offset() {  # FILE DATASET
  "$LLMSREC" inspect export "$1" "$2" --npy "$WORK/t.npy" --json >/dev/null 2>&1 || fail "cannot export $2"
  python3 - "$1" "$WORK/t.npy" <<'PY'
import struct, sys
npy = open(sys.argv[2], "rb").read()
values = npy[10 + struct.unpack("<H", npy[8:10])[0]:]
at = open(sys.argv[1], "rb").read().find(values[:64])
assert at >= 0, "tensor bytes not found in the file"
print(at)
PY
}

expect_refused() {  # LABEL PATTERN
  local start end
  start=$(date +%s.%N)
  set +e
  mpirun -np 2 "$LLMSREC" train -c "$WORK/run.yaml" --resume >"$WORK/refused.out" 2>"$WORK/refused.log"
  local rc=$?
  set -e
  end=$(date +%s.%N)
  [ "$rc" -eq 5 ] || fail "$1: --resume exited $rc, expected 5. Log: $(tail -3 "$WORK/refused.log")"
  grep -q "newest checkpoint is unreadable: .*ckpt-00000008.h5.*$2" "$WORK/refused.log" \
    || fail "$1: the cause is not named: $(grep -i error "$WORK/refused.log" | head -2)"
  grep -q "The previous checkpoint '$PREVIOUS' is readable" "$WORK/refused.log" || fail "$1: the previous checkpoint is not offered"
  grep -qiE "signal 11|segmentation|core dumped" "$WORK/refused.log" && fail "$1: a rank crashed"
  python3 -c "import sys; sys.exit(0 if $end - $start < 15 else 1)" || fail "$1: took more than 15 s"
  [ "$(cat "$WORK/run/latest")" = "ckpt-00000008.h5" ] || fail "$1: latest changed"
  "$LLMSREC" inspect "$PREVIOUS" --json >/dev/null 2>&1 || fail "$1: the previous checkpoint is not readable"
  pass "$1: exit 5 in $(python3 -c "print('%.1f' % ($end - $start))") s, cause and previous checkpoint named"
}

TENSOR=/tensors/params/f_item/0.weight
offset=$(data_offset "$NEWEST" $TENSOR)
python3 - "$NEWEST" "$offset" <<'PY'
import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2]) + 40); b = f.read(1); f.seek(int(sys.argv[2]) + 40)
f.write(bytes([b[0] ^ 0x10])); f.close()
PY
expect_refused "one bit flipped in $TENSOR" "$TENSOR.*checksum"

cp "$WORK/good.h5" "$NEWEST"
truncate -s $(( $(stat -c %s "$NEWEST") / 2 )) "$NEWEST"
expect_refused "truncated to half" "truncated"

cp "$D/targets.h5" "$NEWEST"
expect_refused "a foreign HDF5 file" "not an llmsrec checkpoint"

cp "$WORK/good.h5" "$NEWEST"
python3 - "$NEWEST" "$offset" <<'PY'
import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2]) + 40); b = f.read(1); f.seek(int(sys.argv[2]) + 40)
f.write(bytes([b[0] ^ 0x10])); f.close()
PY
mpirun -np 2 "$LLMSREC" train -c "$WORK/run.yaml" --resume --set train.on_corrupt_checkpoint=previous --json \
  >"$WORK/resumed.json" 2>"$WORK/resumed.log" || fail "--resume with on_corrupt_checkpoint=previous failed: $(tail -3 "$WORK/resumed.log")"
grep -q "resuming from the previous one, '$PREVIOUS'" "$WORK/resumed.log" || fail "no warning about the fallback"
grep -q "resumed from $PREVIOUS" "$WORK/resumed.log" || fail "did not resume from $PREVIOUS"
diff_checkpoints "$(ls "$WORK"/full/ckpt-*.h5 | tail -1)" "$(ls "$WORK"/run/ckpt-*.h5 | tail -1)" "$WORK/diff.json"
tensors_identical "$WORK/diff.json" /tensors/ || fail "resumed from the previous checkpoint != uninterrupted"
pass "on_corrupt_checkpoint=previous: warned, resumed from ckpt-6, end == uninterrupted run, bitwise"
