#!/usr/bin/env bash
# llm.kernels: generic runs the device-independent ATen path of the frozen LLM
# (the path every GPU runs) and Adam's ATen form, on the CPU. It must give what
# the fast CPU kernels give: train (fp32, 6 SGD steps and 4 Adam steps), then
# eval and embed from the same checkpoint, compared to 1e-5 relative.
source "$(dirname "$0")/lib.sh"

D="$WORK/data"
make_tiny_training_data "$D"
pass "synthetic data, teacher and tiny LLaMA ready"

args() {  # RUN_DIR KERNELS OPTIMIZER STEPS [LR]
  echo --set run.dir="$1" --set llm.kernels="$2" --set train.optimizer="$3" --set train.max_steps="$4" \
    --set train.lr="${5:-0.01}" --set train.dataset="$D/dataset.h5" --set train.targets="$D/targets.h5" --set llm.path="$D/llm" \
    --set train.batch=4 --set train.valid_users=40 --set train.validations_per_epoch=4 --set teacher.hidden=16 \
    --set cluster.control_port=0 --set cluster.backend=local --set prompt.history_items=4 --set run.threads=1 \
    --set llm.dtype=fp32
}
for k in auto generic; do
  "$LLMSREC" train $(args "$WORK/sgd-$k" $k sgd 6) --json >"$WORK/sgd-$k.json" 2>"$WORK/sgd-$k.log" \
    || fail "train with llm.kernels=$k failed: $(tail -5 "$WORK/sgd-$k.log")"
  "$LLMSREC" train $(args "$WORK/adam-$k" $k adam 4 0.0001) --json >"$WORK/adam-$k.json" 2>"$WORK/adam-$k.log" \
    || fail "Adam train with llm.kernels=$k failed: $(tail -5 "$WORK/adam-$k.log")"
done
pass "trained with the fast and the generic kernels"

# The per-step losses of metrics.jsonl and the final parameters.
losses_within "$WORK/sgd-auto/metrics.jsonl" "$WORK/sgd-generic/metrics.jsonl" 6 1e-5 rec,distill,uniformity SGD \
  || fail "losses differ"
diff_checkpoints "$(ls "$WORK"/sgd-auto/ckpt-*.h5 | tail -1)" "$(ls "$WORK"/sgd-generic/ckpt-*.h5 | tail -1)" "$WORK/sgd-diff.json"
params_within "$WORK/sgd-diff.json" 1e-5 sgd || fail "SGD parameters differ between the fast and generic kernels"
# Adam (its ATen form under generic): parameters are not compared, since Adam
# turns float noise in gradient directions the loss is blind to (f_item's
# LayerNorm and the shift-invariant softmax) into +-lr steps, so a 1-ulp
# difference grows to ~lr; tests/unit/adam_test.cpp holds the two Adam forms
# equal on the same gradients. The losses must still agree.
losses_within "$WORK/adam-auto/metrics.jsonl" "$WORK/adam-generic/metrics.jsonl" 4 1e-4 loss Adam \
  || fail "Adam losses differ"
pass "train: SGD losses and parameters equal to 1e-5, Adam losses to 1e-4"

# eval and embed of ONE checkpoint with both kernels: the metrics and hidden states agree.
ck=$(ls "$WORK"/sgd-auto/ckpt-*.h5 | tail -1)
for k in auto generic; do
  "$LLMSREC" eval $(args "$WORK/sgd-auto" $k sgd 6) --checkpoint "$ck" --split test --users 120 --json \
    >"$WORK/eval-$k.json" 2>"$WORK/eval-$k.log" || fail "eval with llm.kernels=$k failed: $(tail -5 "$WORK/eval-$k.log")"
  "$LLMSREC" embed $(args "$WORK/sgd-auto" $k sgd 6) --checkpoint "$ck" --output "$WORK/hidden-$k.h5" --json \
    >/dev/null 2>"$WORK/embed-$k.log" || fail "embed with llm.kernels=$k failed: $(tail -5 "$WORK/embed-$k.log")"
done
python3 - "$WORK/eval-auto.json" "$WORK/eval-generic.json" <<'PY' || fail "eval metrics differ"
import json, sys
a, b = (json.loads(open(p).read().strip().splitlines()[-1]) for p in sys.argv[1:3])
def flat(d, pre=""):
    for k, v in d.items():
        if isinstance(v, dict): yield from flat(v, pre + k + ".")
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and ("ndcg" in k.lower() or "hr" in k.lower()):
            yield pre + k, v
fa, fb = dict(flat(a)), dict(flat(b))
assert fa and fa.keys() == fb.keys(), (sorted(fa), sorted(fb))
worst = max(abs(fa[k] - fb[k]) for k in fa)
print(len(fa), "metrics, worst absolute difference %.3e" % worst)
sys.exit(0 if worst <= 1e-5 else 1)
PY
"$LLMSREC" inspect diff "$WORK/hidden-auto.h5" "$WORK/hidden-generic.h5" --json >"$WORK/hidden-diff.json" 2>/dev/null \
  || fail "inspect diff of hidden.h5 failed"
python3 - "$WORK/hidden-diff.json" <<'PY' || fail "hidden states differ"
import json, sys
d = json.load(open(sys.argv[1]))
rows = [r for r in d["datasets"] if "max_abs" in r and ("/items/" in r["path"] or "/users/" in r["path"])]
assert rows, d["datasets"][:3]
worst = max(rows, key=lambda r: r["max_abs"] / max(r["scale"], 0.1))
rel = worst["max_abs"] / max(worst["scale"], 0.1)
print("worst hidden.h5 dataset:", worst["path"], "relative %.3e" % rel)
sys.exit(0 if rel <= 1e-5 else 1)
PY
pass "eval metrics and embed's hidden states equal to 1e-5"
