#!/usr/bin/env bash
# The SASRec teacher end to end through the CLI on real data
# (../shared/data/lastfm_llara): train -> the --json summary; same seed ->
# identical metrics; stop after 10 epochs + --resume to 30 == 30 uninterrupted
# epochs (teacher.h5 bitwise); eval (fixed, full, SASRec protocol); export ->
# targets.h5 whose shapes match the dataset; bad input -> clear errors.
source "$(dirname "$0")/lib.sh"
: "${LLMSREC_SHARED_DIR:?}" "${LLMSREC_SOURCE_DIR:?}"
DATA="$LLMSREC_SHARED_DIR/data/lastfm_llara"
[ -d "$DATA" ] || skip_test "$DATA not found"
cd "$LLMSREC_SOURCE_DIR"
# Small and quick: 4 epochs, maxlen 20, 2 threads.
common=(-c configs/lastfm_llara.yaml --set "data.path=$DATA" --set teacher.maxlen=20 --set teacher.hidden=32
        --set teacher.epochs=30 --set teacher.eval_every=10 --set teacher.threads=2 --set teacher.dropout=0.2)
run_dir() { echo "--set" "run.dir=$WORK/$1"; }

expect_exit 0 "$LLMSREC" prepare "${common[@]}" $(run_dir a) --json
for d in b c; do mkdir -p "$WORK/$d"; cp "$WORK/a/dataset.h5" "$WORK/$d/"; done
users=$(json_get "$OUT" '["users"]'); items=$(json_get "$OUT" '["items"]')

expect_exit 0 "$LLMSREC" teacher train "${common[@]}" $(run_dir a) --json
A="$OUT"
python3 - "$A" <<'PY' || fail "bad teacher train summary: $A"
import json, sys
s = json.loads(sys.argv[1])
assert s["epochs"] == 30, s
assert s["seconds_per_epoch"] > 0, s
for split in ("valid", "test"):
    m = s[split]
    for k in ("ndcg@10", "hr@10", "ndcg@20", "hr@20"):
        assert 0 <= m[k] <= 1, (split, k, m)
    # 1 target + 99 negatives: a random scorer has HR@10 ~ 0.10; 30 epochs must beat it clearly.
    assert m["hr@10"] > 0.15, (split, m)  # > 5 standard deviations above random for 1220 users
    assert m["ndcg@10"] <= m["hr@10"], m
PY
pass "teacher train: 30 epochs, test HR@10 $(json_get "$A" '["test"]["hr@10"]'), NDCG@10 $(json_get "$A" '["test"]["ndcg@10"]')"

expect_exit 0 "$LLMSREC" teacher train "${common[@]}" $(run_dir b) --json
python3 - "$A" "$OUT" <<'PY' || fail "same seed gave different metrics"
import json, sys
a, b = (json.loads(x) for x in sys.argv[1:])
assert a["valid"] == b["valid"] and a["test"] == b["test"], (a, b)
PY
expect_exit 0 "$LLMSREC" inspect diff "$WORK/a/teacher.h5" "$WORK/b/teacher.h5" --json
[ "$(json_get "$OUT" '["max_abs"]')" = "0.0" ] || fail "same seed, different weights: $OUT"
pass "same seed and threads -> identical metrics and weights"

expect_exit 0 "$LLMSREC" teacher train "${common[@]}" $(run_dir c) --set teacher.epochs=10
expect_exit 0 "$LLMSREC" teacher train "${common[@]}" $(run_dir c) --resume --json
[ "$(json_get "$OUT" '["epochs"]')" = "30" ] || fail "resume ended at epoch $(json_get "$OUT" '["epochs"]')"
expect_exit 0 "$LLMSREC" inspect diff "$WORK/a/teacher.h5" "$WORK/c/teacher.h5" --json
[ "$(json_get "$OUT" '["max_abs"]')" = "0.0" ] || fail "10 epochs + --resume to 30 differs from 30 epochs: $OUT"
pass "10 epochs + --resume to 30 == 30 uninterrupted epochs (bitwise)"

expect_exit 0 "$LLMSREC" teacher eval "${common[@]}" $(run_dir a) --split both --sasrec --json
python3 - "$OUT" "$A" <<'PY' || fail "bad teacher eval output: $OUT"
import json, sys
e, t = (json.loads(x) for x in sys.argv[1:])
flat = json.dumps(e)
for key in ("full", "sasrec"):
    assert key in flat, (key, e)
# The fixed-negative test metrics of eval equal what train reported for the best weights.
def find(d, path):
    for p in path: d = d[p]
    return d
assert abs(find(e, ["test", "fixed", "ndcg@10"]) - t["test"]["ndcg@10"]) < 1e-12, (e["test"], t["test"])
PY
pass "teacher eval: fixed, full ranking and SASRec protocol; fixed == train's test metrics"

expect_exit 0 "$LLMSREC" teacher export "${common[@]}" $(run_dir a) --json
expect_exit 0 "$LLMSREC" inspect "$WORK/a/targets.h5" --json
python3 - "$OUT" "$users" "$items" <<'PY' || fail "bad targets.h5: $OUT"
import json, sys
d, users, items = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
assert d["schema"] == "llmsrec.targets", d["schema"]
shapes = {o["path"]: o["shape"] for o in d["objects"] if o["kind"] == "dataset"}
assert shapes["/items/embedding"] == [items + 1, 32], shapes
for name in ("o_train_minus_last", "o_train", "o_train_valid"):
    assert shapes["/users/" + name] == [users, 32], (name, shapes)
PY
pass "teacher export: targets.h5 has the [I+1, d] item table and [U, d] user representations"

expect_exit 5 "$LLMSREC" teacher eval "${common[@]}" --set "run.dir=$WORK/none"
grep -q "dataset.h5\|teacher.h5" <<<"$ERR" || fail "missing files: error does not name the file: $ERR"
expect_exit 2 "$LLMSREC" teacher train "${common[@]}" $(run_dir a) --set teacher.hiden=3
grep -q "hiden" <<<"$ERR" || fail "unknown key not named: $ERR"
pass "missing files and unknown keys: clear errors (exit 5, exit 2)"
