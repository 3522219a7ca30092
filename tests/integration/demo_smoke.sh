#!/usr/bin/env bash
# `llmsrec demo` end to end on a small synthetic set: every stage runs (training and
# evaluation under mpirun with 2 ranks) and the summary carries real metrics.
source "$(dirname "$0")/lib.sh"
require_cmd mpirun
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$LLMSREC" demo --dir "$WORK/demo" --set data.synthetic.users=300 --set teacher.epochs=10 --set train.max_steps=6 \
  --set train.valid_users=100 --json >"$WORK/demo.json" 2>"$WORK/demo.log" || fail "demo failed: $(tail -5 "$WORK/demo.log")"
S=$(cat "$WORK/demo.json")
[ "$(json_get "$S" '["train"]["ranks"]')" = 2 ] || fail "training did not run on 2 ranks"
[ "$(json_get "$S" '["train"]["steps"]')" = 6 ] || fail "training did not run 6 steps"
users=$(json_get "$S" '["eval"]["sampled"]["users"]')
[ "$users" -gt 200 ] || fail "evaluation scored only $users users"
python3 - "$WORK/demo.json" <<'PY' || fail "implausible metrics"
import json, sys
s = json.load(open(sys.argv[1]))
for part in ("teacher",):
    m = s[part]["test"]
    assert 0 < m["ndcg@10"] <= m["hr@10"] <= m["hr@20"] <= 1, m
for part in ("eval", "eval_shuffled"):
    m = s[part]["sampled"]
    assert 0 <= m["ndcg@10"] <= m["hr@10"] <= m["hr@20"] <= 1, m
# The teacher learns the synthetic data's order: far above the 10% of random ranking.
assert s["teacher"]["test"]["hr@10"] > 0.3, s["teacher"]["test"]
print("teacher HR@10", s["teacher"]["test"]["hr@10"], "LLM-SRec HR@10", s["eval"]["sampled"]["hr@10"])
PY
for f in dataset.h5 teacher.h5 targets.h5 latest metrics.jsonl hidden.h5 llm/config.json; do
  [ -e "$WORK/demo/$f" ] || fail "demo did not write $f"
done
pass "demo ran every stage in $(json_get "$S" '["seconds"]') s"
