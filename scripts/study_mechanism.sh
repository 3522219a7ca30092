#!/usr/bin/env bash
# The paper's mechanism on a tiny random LLaMA: full LLM-SRec vs the same
# without distillation and uniformity (loss.distill_weight = 0,
# loss.uniformity_weight = 0), over several training seeds, and the NDCG@10
# drop when test histories are shuffled (eval --shuffle-history).
#
#   bash scripts/study_mechanism.sh OUT_DIR CONFIG [SEEDS] [-- extra --set args]
#   bash scripts/study_mechanism.sh /tmp/study-demo configs/demo.yaml "1 2 3"
#
# Data, teacher and LLM are made once (run.seed of the config); only the
# LLM-SRec training seed varies. Prints a table and writes OUT_DIR/results.jsonl.
# Env: LLMSREC (default build/llmsrec), RANKS (default 2), EVAL_USERS (score a fixed subset of
# this many test users, the same for every seed; default all).
set -euo pipefail
OUT=${1:?usage: study_mechanism.sh OUT_DIR CONFIG [SEEDS] [-- --set k=v ...]}
CONFIG=${2:?config}
SEEDS=${3:-1 2 3}
shift $(( $# < 3 ? $# : 3 ))
[ "${1:-}" = "--" ] && shift
EXTRA=()
for a in "$@"; do EXTRA+=("$a"); done
LLMSREC=${LLMSREC:-$(cd "$(dirname "$0")/.." && pwd)/build/llmsrec}
RANKS=${RANKS:-2}
EVAL_USERS=${EVAL_USERS:-0}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
base=(-c "$CONFIG" --set "run.dir=$OUT/base" --set "llm.path=$OUT/llm" "${EXTRA[@]}")
shared=(--set "train.dataset=$OUT/base/dataset.h5" --set "train.targets=$OUT/base/targets.h5")

step() { echo "== $*" >&2; }
if [ ! -f "$OUT/base/targets.h5" ]; then
  step "prepare, teacher, export"
  "$LLMSREC" prepare "${base[@]}" >/dev/null
  "$LLMSREC" teacher train "${base[@]}" >/dev/null
  "$LLMSREC" teacher export "${base[@]}" >/dev/null
fi
if [ ! -f "$OUT/llm/config.json" ]; then
  step "tiny LLaMA"
  "$LLMSREC" lm make-tiny "$OUT/llm" --seed 1 --vocab 1024 --max-pos 1024 --corpus-from "$OUT/base/dataset.h5" >/dev/null
fi

mpi() { mpirun -np "$RANKS" --oversubscribe --bind-to none "$LLMSREC" "$@"; }
: >"$OUT/results.jsonl"
for variant in full no_distill_no_uniformity; do
  vset=()
  [ "$variant" = no_distill_no_uniformity ] && vset=(--set train.loss.distill_weight=0 --set train.loss.uniformity_weight=0)
  for seed in $SEEDS; do
    dir="$OUT/$variant-seed$seed"
    run=("${base[@]}" "${shared[@]}" --set "run.dir=$dir" --set "run.seed=$seed" "${vset[@]}")
    step "$variant seed $seed: train"
    mpi train "${run[@]}" --json >"$dir.train.json" 2>"$dir.train.log"
    step "$variant seed $seed: eval (ordered, shuffled)"
    mpi eval "${run[@]}" --split test --no-full-ranking --users "$EVAL_USERS" --json >"$dir.eval.json" 2>"$dir.eval.log"
    mpi eval "${run[@]}" --split test --no-full-ranking --users "$EVAL_USERS" --shuffle-history --json >"$dir.shuf.json" 2>"$dir.shuf.log"
    python3 - "$variant" "$seed" "$dir" >>"$OUT/results.jsonl" <<'PY'
import json, sys
variant, seed, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
last = lambda p: json.loads(open(p).read().strip().splitlines()[-1])
t, e, s = last(d + ".train.json"), last(d + ".eval.json"), last(d + ".shuf.json")
print(json.dumps({"variant": variant, "seed": seed, "steps": t["steps"], "train_seconds": t["seconds"],
                  "ndcg10": e["sampled"]["ndcg@10"], "hr10": e["sampled"]["hr@10"],
                  "ndcg10_shuffled": s["sampled"]["ndcg@10"], "hr10_shuffled": s["sampled"]["hr@10"],
                  "users": e["sampled"]["users"]}))
PY
  done
done
python3 - "$OUT/results.jsonl" <<'PY'
import json, statistics as st, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def ms(xs): return "%.4f +- %.4f" % (st.mean(xs), st.stdev(xs) if len(xs) > 1 else 0.0)
print("%-26s %-18s %-18s %-18s %s" % ("variant", "NDCG@10", "HR@10", "NDCG@10 shuffled", "drop (ordered - shuffled)"))
for v in ("full", "no_distill_no_uniformity"):
    r = [x for x in rows if x["variant"] == v]
    if not r: continue
    print("%-26s %-18s %-18s %-18s %s" % (v, ms([x["ndcg10"] for x in r]), ms([x["hr10"] for x in r]),
          ms([x["ndcg10_shuffled"] for x in r]), ms([x["ndcg10"] - x["ndcg10_shuffled"] for x in r])))
print("seeds:", sorted({x["seed"] for x in rows}), " test users:", rows[0]["users"])
PY
