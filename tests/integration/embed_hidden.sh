#!/usr/bin/env bash
# `llmsrec embed` -> hidden.h5 with real ranks, and `inspect neighbors` / `inspect export` on it:
#  - mpirun -np 2 and one rank write the same arrays, bitwise (see the tolerance note below);
#    another --batch changes them only by float noise;
#  - items/vector = f_item(items/hidden) and users/vector = f_user(users/hidden) with the
#    checkpoint's weights (numpy), and `eval` gets the metrics numpy computes from hidden.h5;
#  - neighbors: k rows with the dataset's titles, cosines sorted in [-1, 1], the same as numpy's;
#    an exact copy of an item's direction planted with h5py comes out first with cosine 1;
#  - export: numpy loads the .npy with the HDF5 dataset's dtype, shape and values; clear errors;
#  - kill -9 of rank 1 mid-embed leaves the previous hidden.h5 byte for byte, and no other file
#    that claims to be a hidden.h5.
source "$(dirname "$0")/lib.sh"
require_cmd mpirun
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
# One BLAS thread everywhere: OpenBLAS's own thread pool (not run.threads) picks other kernels
# for small matrices with more threads, which moves results by float noise on its own.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

PY=""
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import h5py, numpy' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || skip_test "needs python3 with numpy and h5py (Debian: python3-numpy python3-h5py, see scripts/install-deps.sh)"

D="$WORK/data"
common=(--set run.dir="$D" --set data.synthetic.users=240 --set data.synthetic.items=200 --set data.synthetic.topics=10
        --set data.eval_negatives=49 --set teacher.epochs=2 --set teacher.maxlen=16 --set teacher.hidden=16
        --set cluster.control_port=0)
"$LLMSREC" prepare "${common[@]}" >/dev/null 2>"$WORK/log" || fail "prepare: $(tail -3 "$WORK/log")"
"$LLMSREC" teacher train "${common[@]}" >/dev/null 2>"$WORK/log" || fail "teacher train: $(tail -3 "$WORK/log")"
"$LLMSREC" teacher export "${common[@]}" >/dev/null 2>"$WORK/log" || fail "teacher export: $(tail -3 "$WORK/log")"
"$LLMSREC" lm make-tiny "$D/llm" --seed 3 --dim 32 --layers 2 --heads 4 --kv-heads 2 --hidden-dim 64 --vocab 600 \
  --max-pos 1024 --corpus-from "$D/dataset.h5" >/dev/null 2>"$WORK/log" || fail "make-tiny: $(tail -3 "$WORK/log")"
R="$WORK/run"
args=(--set run.dir="$R" --set train.dataset="$D/dataset.h5" --set train.targets="$D/targets.h5" --set llm.path="$D/llm"
      --set train.batch=4 --set train.max_steps=3 --set train.valid_users=40 --set train.validations_per_epoch=4
      --set teacher.hidden=16 --set cluster.control_port=0 --set prompt.history_items=4 --set run.threads=1)
"$LLMSREC" train "${args[@]}" --set cluster.backend=local >/dev/null 2>"$WORK/log" || fail "train: $(tail -3 "$WORK/log")"
pass "synthetic data, teacher, tiny LLaMA and 3 training steps ready"

# --batch 10 deals 15 item and 24 user batches: rank 1 gets fewer batches than rank 0.
mpirun -np 2 "$LLMSREC" embed "${args[@]}" --batch 10 --json >"$WORK/np2.json" 2>"$WORK/np2.log" \
  || fail "embed on 2 ranks failed: $(tail -5 "$WORK/np2.log")"
S=$(head -1 "$WORK/np2.json")
[ "$(json_get "$S" '["world_size"]')" = 2 ] || fail "embed did not run on 2 ranks: $S"
[ "$(json_get "$S" '["output"]')" = "$R/hidden.h5" ] || fail "default output is not run.dir/hidden.h5: $S"
[ -f "$R/hidden.h5" ] || fail "no $R/hidden.h5"
ls "$R" | grep -q "part\|\.tmp" && fail "part or temp files left behind: $(ls "$R")"
grep -q "embed:.*row/s" "$WORK/np2.log" || fail "no progress (rows/s) on rank 0's log"
"$LLMSREC" embed "${args[@]}" --batch 10 --set cluster.backend=local --output "$WORK/np1.h5" --json >"$WORK/np1.json" \
  2>"$WORK/np1.log" || fail "embed on 1 rank failed: $(tail -5 "$WORK/np1.log")"
"$LLMSREC" embed "${args[@]}" --batch 32 --set cluster.backend=local --output "$WORK/b32.h5" --json >/dev/null \
  2>>"$WORK/np1.log" || fail "embed with --batch 32 failed"
pass "embedded $(json_get "$S" '["rows"]') rows on 2 ranks at $(json_get "$S" '["rows_per_s"]') rows/s"

# Tolerance. Rows are dealt to ranks in whole batches, so np 2 and np 1 run the very same LLM
# forwards: at equal BLAS thread counts the arrays must be bitwise equal (0 tolerance). Another
# batch size packs other prompts into each forward; the float32 sums then come out in another
# order: |a - b| <= 1e-5 * max|a| (float32 eps 1.2e-7 times the depth of the sums; ~1e-6 seen).
"$PY" - "$R/hidden.h5" "$WORK/np1.h5" "$WORK/b32.h5" "$D/dataset.h5" <<'PY' || fail "hidden.h5 contents"
import sys, h5py, numpy as np
a, b, c = (h5py.File(p, "r") for p in sys.argv[1:4])
ds = h5py.File(sys.argv[4], "r")
I = len(ds["items/titles"]) - 1; U = len(ds["sequences/offsets"]) - 1
text = lambda v: v.decode() if isinstance(v, bytes) else v  # fixed-length string attributes read as bytes
assert text(a.attrs["llmsrec_schema"]) == "llmsrec.hidden", dict(a.attrs)
assert a.attrs["world_size"] == 2 and b.attrs["world_size"] == 1
assert text(a.attrs["dataset"]) == sys.argv[4], a.attrs["dataset"]
assert text(a.attrs["checkpoint"]).endswith(".h5") and "config" in a.attrs and "versions" in a.attrs
shapes = {"items/hidden": (I + 1, 32), "items/vector": (I + 1, 128), "users/hidden": (U, 32), "users/vector": (U, 128)}
for k, shape in shapes.items():
    x, y, z = a[k][:], b[k][:], c[k][:]
    assert x.shape == shape and x.dtype == np.float32, (k, x.shape, x.dtype)
    assert a[k].chunks is not None, k + " is not chunked"
    assert np.isfinite(x).all(), k
    if k.startswith("items"):
        assert not x[0].any(), k + " row 0 (padding) is not zero"
        x1 = x[1:]
    else:
        x1 = x
    assert (np.linalg.norm(x1, axis=1) > 0).all(), k + " has all-zero rows"
    assert len(np.unique(x1.round(4), axis=0)) > 0.9 * len(x1), k + " rows are not distinct"
    if not np.array_equal(x, y):
        bad = np.argwhere(x != y)[0]
        sys.exit(f"{k}: np 2 != np 1 at {tuple(bad)}: {x[tuple(bad)]!r} vs {y[tuple(bad)]!r}")
    tol = 1e-5 * np.abs(x).max()
    diff = np.abs(x - z).max()
    print(f"{k} {shape}: np2 == np1 bitwise; batch 10 vs 32 max_abs {diff:.2e} (tolerance {tol:.2e})")
    assert diff <= tol, (k, diff, tol)
PY
pass "np 2 == np 1 bitwise; another batch size within 1e-5 relative"

# The vectors are the heads applied to the hidden states, with the checkpoint's weights.
ckpt=$(json_get "$S" '["checkpoint"]')
"$PY" - "$R/hidden.h5" "$ckpt" <<'PY' || fail "vectors != heads(hidden)"
import sys, h5py, numpy as np
h, ck = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
prefix = "tensors/" + h.attrs["weights"].decode().replace("last", "params") + "/"
def head(name, x):
    p = lambda n: ck[prefix + name + "/" + n][:].astype(np.float64)
    y = x.astype(np.float64) @ p("0.weight").T + p("0.bias")
    y = (y - y.mean(1, keepdims=True)) / np.sqrt(y.var(1, keepdims=True) + 1e-5) * p("1.weight") + p("1.bias")
    y = np.where(y > 0, y, 0.01 * y)
    return y @ p("3.weight").T + p("3.bias")
for side, f in (("items", "f_item"), ("users", "f_user")):
    hid, vec = h[side + "/hidden"][:], h[side + "/vector"][:]
    rows = slice(1, None) if side == "items" else slice(None)
    want = head(f, hid[rows])
    err = np.abs(want - vec[rows]).max() / np.abs(want).max()
    print(f"{side}/vector vs {f}(hidden) in float64: max relative {err:.2e}")
    assert err < 1e-5, err
PY
pass "items/vector = f_item(items/hidden), users/vector = f_user(users/hidden)"

# `eval` scores with its own forwards; its metrics must be what hidden.h5's vectors give.
"$LLMSREC" eval "${args[@]}" --set cluster.backend=local --split test --json >"$WORK/eval.json" 2>"$WORK/eval.log" \
  || fail "eval failed: $(tail -3 "$WORK/eval.log")"
"$PY" - "$R/hidden.h5" "$D/dataset.h5" "$WORK/eval.json" <<'PY' || fail "eval's metrics differ from hidden.h5's"
import sys, json, h5py, numpy as np
h, ds = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
ev = json.load(open(sys.argv[3]))["sampled"]
users, targets, negs = ds["eval/test/users"][:], ds["eval/test/targets"][:], ds["eval/test/negatives"][:]
uv, iv = h["users/vector"][:].astype(np.float64), h["items/vector"][:].astype(np.float64)
s = np.einsum("nd,nkd->nk", uv[users], iv[np.concatenate([targets[:, None], negs], 1)])
rank = (s[:, 1:] >= s[:, :1]).sum(1)  # negatives scoring at least the target (eval's rule)
hr10, ndcg10 = (rank < 10).mean(), np.where(rank < 10, 1 / np.log2(rank + 2), 0).mean()
print(f"eval HR@10 {ev['hr@10']:.4f} NDCG@10 {ev['ndcg@10']:.4f}; from hidden.h5 HR@10 {hr10:.4f} NDCG@10 {ndcg10:.4f}")
# Float noise between eval's forwards and embed's may flip a near-tie: allow one user.
assert ev["users"] == len(users) and abs(ev["hr@10"] - hr10) <= 1.0 / len(users) + 1e-9, (ev, hr10)
assert abs(ev["ndcg@10"] - ndcg10) <= 1.0 / len(users) + 1e-9, (ev, ndcg10)
PY
pass "eval's test metrics = the metrics of hidden.h5's users/vector . items/vector"

# inspect neighbors: the table, --json, and numpy's own top 10.
"$LLMSREC" inspect neighbors "$R/hidden.h5" --item 5 -k 10 >"$WORK/nb.txt" 2>"$WORK/nb.log" || fail "neighbors: $(cat "$WORK/nb.log")"
[ "$(grep -cE '^ +[0-9]+ +[0-9]+ +-?[0-9.]+  ' "$WORK/nb.txt")" = 10 ] || fail "expected 10 table rows: $(cat "$WORK/nb.txt")"
for space in vector hidden; do
  "$LLMSREC" inspect neighbors "$R/hidden.h5" --item 5 -k 10 --space $space --json >"$WORK/nb-$space.json" 2>"$WORK/nb.log" \
    || fail "neighbors --space $space: $(cat "$WORK/nb.log")"
done
"$PY" - "$R/hidden.h5" "$D/dataset.h5" "$WORK/nb-vector.json" "$WORK/nb-hidden.json" <<'PY' || fail "neighbors"
import sys, json, h5py, numpy as np
h, ds = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
titles = ds["items/titles"].asstr()[:]
for path in sys.argv[3:]:
    r = json.load(open(path))
    n = r["neighbors"]
    x = h["items/" + r["space"]][:].astype(np.float64)
    cos = x @ x[5] / (np.linalg.norm(x, axis=1).clip(1e-30) * np.linalg.norm(x[5]))
    cos[0] = cos[5] = -np.inf
    top = np.argsort(-cos, kind="stable")[:10]
    got = [e["item"] for e in n]
    assert len(n) == 10 and 5 not in got and 0 not in got, got
    assert r["title"] == titles[5] and all(e["title"] == titles[e["item"]] and e["title"] for e in n)
    c = [e["cosine"] for e in n]
    assert all(-1 <= v <= 1 for v in c) and c == sorted(c, reverse=True), c
    assert np.allclose(c, cos[top], atol=1e-6), (c, cos[top])
    assert set(got) == set(top.tolist()) or np.isclose(c[-1], cos[top[-1]]), (got, top)
    print(r["space"], "top 3:", [(e["item"], round(e["cosine"], 4), e["title"][:30]) for e in n[:3]])
PY
cp "$R/hidden.h5" "$WORK/planted.h5"
"$PY" - "$WORK/planted.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    v = f["items/vector"]
    v[17] = 3.0 * v[5]  # the exact direction of item 5, another length
PY
"$LLMSREC" inspect neighbors "$WORK/planted.h5" --item 5 -k 3 --json >"$WORK/planted.json" 2>/dev/null || fail "neighbors on planted"
top=$(json_get "$(cat "$WORK/planted.json")" '["neighbors"][0]["item"]')
cos=$(json_get "$(cat "$WORK/planted.json")" '["neighbors"][0]["cosine"]')
[ "$top" = 17 ] || fail "the planted copy of item 5's direction is not its top neighbour: $(cat "$WORK/planted.json")"
"$PY" -c "import sys; assert abs(float(sys.argv[1]) - 1) < 1e-6, sys.argv[1]" "$cos" || fail "planted cosine $cos != 1"
expect_exit 2 "$LLMSREC" inspect neighbors "$R/hidden.h5" --item 100000
echo "$ERR" | grep -q "out of range" || fail "item out of range not explained: $ERR"
expect_exit 5 "$LLMSREC" inspect neighbors "$D/dataset.h5" --item 1
echo "$ERR" | grep -q "not a hidden.h5" || fail "foreign file not explained: $ERR"
pass "neighbors: 10 titled rows, sorted cosines = numpy's; a planted duplicate direction comes first with cosine 1"

# inspect export: float, int and error cases.
"$LLMSREC" inspect export "$R/hidden.h5" items/vector --npy "$WORK/iv.npy" --json >"$WORK/ex.json" 2>"$WORK/ex.log" \
  || fail "export: $(cat "$WORK/ex.log")"
"$LLMSREC" inspect export "$D/dataset.h5" /sequences/items --npy "$WORK/seq.npy" >/dev/null 2>"$WORK/ex.log" \
  || fail "export int32: $(cat "$WORK/ex.log")"
"$LLMSREC" inspect export "$D/dataset.h5" split/train_end --npy "$WORK/te.npy" >/dev/null 2>"$WORK/ex.log" \
  || fail "export int64: $(cat "$WORK/ex.log")"
"$PY" - "$R/hidden.h5" "$D/dataset.h5" "$WORK" <<'PY' || fail "exported .npy != HDF5 dataset"
import sys, h5py, numpy as np
h, ds, w = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r"), sys.argv[3]
for npy, src in (("iv.npy", h["items/vector"]), ("seq.npy", ds["sequences/items"]), ("te.npy", ds["split/train_end"])):
    a = np.load(f"{w}/{npy}")
    with open(f"{w}/{npy}", "rb") as f:
        assert f.read(8) == b"\x93NUMPY\x01\x00", npy
    assert a.dtype == src.dtype and a.shape == src.shape and a.flags.c_contiguous, (npy, a.dtype, src.dtype, a.shape)
    assert np.array_equal(a, src[:]), npy
    print(npy, a.dtype, a.shape, "== HDF5")
PY
expect_exit 5 "$LLMSREC" inspect export "$R/hidden.h5" items/nope --npy "$WORK/x.npy"
echo "$ERR" | grep -q "/items/vector (float32" || fail "missing dataset: no list of what exists: $ERR"
expect_exit 5 "$LLMSREC" inspect export "$D/dataset.h5" items/titles --npy "$WORK/x.npy"
echo "$ERR" | grep -q "string dataset" || fail "string dataset not explained: $ERR"
[ ! -e "$WORK/x.npy" ] || fail "a failed export left $WORK/x.npy"
pass "export: float32/int32/int64 .npy load in numpy equal to HDF5; clear errors"

# kill -9 of rank 1 mid-embed: the previous hidden.h5 stays byte for byte, nothing else looks whole.
# A bigger dataset (same item count, teacher width and LLM, so the trained heads fit) keeps the
# ranks busy for seconds (--batch 32 is the slow setting on CPU): rank 1 is killed as soon as
# its part file exists.
B="$WORK/big"
bigset=(--set run.dir="$B" --set data.synthetic.users=2000 --set data.synthetic.items=200 --set data.synthetic.topics=10
        --set data.eval_negatives=49 --set teacher.epochs=1 --set teacher.maxlen=16 --set teacher.hidden=16)
"$LLMSREC" prepare "${bigset[@]}" >/dev/null 2>"$WORK/log" || fail "prepare (big): $(tail -3 "$WORK/log")"
"$LLMSREC" teacher train "${bigset[@]}" >/dev/null 2>"$WORK/log" || fail "teacher train (big): $(tail -3 "$WORK/log")"
"$LLMSREC" teacher export "${bigset[@]}" >/dev/null 2>"$WORK/log" || fail "teacher export (big): $(tail -3 "$WORK/log")"
before=$(md5sum <"$R/hidden.h5")
mpirun -np 2 "$LLMSREC" embed "${args[@]}" --set train.dataset="$B/dataset.h5" --set train.targets="$B/targets.h5" \
  --batch 32 >"$WORK/killed.out" 2>"$WORK/killed.log" &
launcher=$!
for _ in $(seq 1 600); do
  [ -e "$R/hidden.h5.part-1-of-2" ] && break
  sleep 0.1
done
pids=$(pgrep -f "^$LLMSREC embed.*$B" | sort -n)
[ "$(echo "$pids" | wc -w)" -eq 2 ] || fail "expected 2 ranks to kill, found: $pids"
kill -9 "$(echo "$pids" | tail -1)"
set +e
wait "$launcher"
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "embed finished before the kill (mpirun exited 0): make it slower"
grep -q "embed: wrote" "$WORK/killed.log" && fail "embed finished before the kill: make it slower"
[ "$(md5sum <"$R/hidden.h5")" = "$before" ] || fail "the previous hidden.h5 changed"
for f in "$R"/hidden.h5?*; do
  [ -e "$f" ] || continue
  case "$f" in *.tmp | *.part-*) ;; *) fail "unexpected file $f" ;; esac
  if "$LLMSREC" inspect "$f" --json >"$WORK/left.json" 2>/dev/null; then
    grep -q '"schema":"llmsrec.hidden"' "$WORK/left.json" && fail "$f claims to be a complete hidden.h5"
  fi
done
pass "kill -9 mid-embed (mpirun exit $rc): previous hidden.h5 intact; leftovers: $(cd "$R" && ls | grep -c 'part\|tmp') part/tmp file(s)"
