# Helpers for integration tests (sourced). Each test gets $LLMSREC (the binary),
# $LLMSREC_SOURCE_DIR, $LLMSREC_SHARED_DIR from CTest, and a fresh $WORK dir.
set -euo pipefail
: "${LLMSREC:?set LLMSREC to the llmsrec binary}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/llmsrec-it.XXXXXX")
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# expect_exit CODE CMD... : runs CMD, stores stdout/stderr in $OUT/$ERR, checks the exit code.
expect_exit() {
  local want=$1; shift
  set +e
  "$@" >"$WORK/stdout" 2>"$WORK/stderr"
  local got=$?
  set -e
  OUT=$(cat "$WORK/stdout"); ERR=$(cat "$WORK/stderr")
  [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want. stderr: $ERR"
}

# json_get JSON EXPR : evaluates a jq-like path with python3 (no jq needed).
json_get() {
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval("d"+sys.argv[2]))' "$1" "$2"
}

# skip_test MESSAGE : CTest treats exit code 77 as skipped (SKIP_RETURN_CODE).
skip_test() { echo "SKIPPED: $*"; exit 77; }

# require_cmd CMD... : skip_test unless every CMD is on PATH (e.g. mpirun for the multi-rank tests).
require_cmd() {
  local c
  for c in "$@"; do command -v "$c" >/dev/null || skip_test "$c not found on PATH"; done
}

# make_tiny_training_data DIR : the inputs of a real `llmsrec train` run that takes seconds:
# synthetic DIR/dataset.h5 (240 users, 200 items), a small teacher + DIR/targets.h5, and a
# tiny random LLaMA in DIR/llm. Settings that `train` must repeat: teacher.hidden=16.
make_tiny_training_data() {
  local d=$1
  local common=(--set run.dir="$d" --set data.synthetic.users=240 --set data.synthetic.items=200
                --set data.synthetic.topics=10 --set data.eval_negatives=49 --set teacher.epochs=2
                --set teacher.maxlen=16 --set teacher.hidden=16 --set cluster.control_port=0)
  local stage
  for stage in prepare "teacher train" "teacher export"; do
    # shellcheck disable=SC2086  # "teacher train" is two words on purpose
    "$LLMSREC" $stage "${common[@]}" --json >/dev/null 2>"$WORK/tiny-data.log" \
      || fail "$stage: $(tail -3 "$WORK/tiny-data.log")"
  done
  "$LLMSREC" lm make-tiny "$d/llm" --seed 3 --dim 32 --layers 2 --heads 4 --kv-heads 2 --hidden-dim 64 --vocab 600 \
    --max-pos 1024 --corpus-from "$d/dataset.h5" --json >/dev/null 2>"$WORK/tiny-data.log" \
    || fail "make-tiny: $(tail -3 "$WORK/tiny-data.log")"
}

# write_tiny_train_config FILE RUN_DIR DATA_DIR MAX_STEPS : a `train -c FILE` config on the
# make_tiny_training_data inputs; a checkpoint every 2 steps, no early stop, control server
# on any free port (run.dir/control.json), heartbeats every 0.5 s.
write_tiny_train_config() {
  cat >"$1" <<YAML
run:
  dir: $2
  threads: 1
teacher:
  hidden: 16
llm:
  path: $3/llm
prompt:
  history_items: 4
train:
  dataset: $3/dataset.h5
  targets: $3/targets.h5
  batch: 3
  max_steps: $4
  checkpoint_every: 2
  keep_checkpoints: 3
  patience: 1000
  valid_users: 40
  validations_per_epoch: 4
cluster:
  timeout_s: 60
  heartbeat_interval_s: 0.5
  heartbeat_timeout_s: 20
  control_port: -1
YAML
}

# latest_step RUN_DIR : the step of the checkpoint RUN_DIR/latest names (ckpt-00000012.h5 -> 12), or 0.
latest_step() {
  local name
  name=$(cat "$1/latest" 2>/dev/null || true)
  [[ "$name" =~ ckpt-([0-9]+)\.h5 ]] && echo $((10#${BASH_REMATCH[1]})) || echo 0
}

# Checkpoint and loss comparisons shared by the training tests.
# diff_checkpoints A B OUT_JSON : `inspect diff --json` of two checkpoint files into OUT_JSON.
diff_checkpoints() {
  "$LLMSREC" inspect diff "$1" "$2" --json >"$3" 2>/dev/null || fail "inspect diff $1 $2 failed"
}

# params_within DIFF_JSON TOL LABEL : every /tensors/params/ tensor of an `inspect diff --json`
# within TOL relative, |a - b| <= TOL * max(max|a|, 0.1) (LayerNorm biases start at 0, hence
# the 0.1 floor). Prints the worst tensor; returns 1 past TOL or on a shape/dtype mismatch.
params_within() {
  python3 - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); tol = float(sys.argv[2]); label = sys.argv[3]
worst = None
for r in d["datasets"]:
    if not r["path"].startswith("/tensors/params/"):
        continue
    if "max_abs" not in r:
        print("mismatch:", r); sys.exit(1)
    r["rel"] = r["max_abs"] / max(r["scale"], 0.1)
    if worst is None or r["rel"] > worst["rel"]:
        worst = r
print(label, "worst parameter:", worst["path"], "max_abs %.3e" % worst["max_abs"], "relative %.3e" % worst["rel"])
sys.exit(0 if worst["rel"] <= tol else 1)
PY
}

# tensors_identical DIFF_JSON PREFIX : every tensor under PREFIX (e.g. /tensors/ or
# /tensors/params/) of an `inspect diff --json` is bitwise equal; prints those that differ.
tensors_identical() {
  python3 - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
bad = [r["path"] for r in d["datasets"] if r["path"].startswith(sys.argv[2]) and r.get("max_abs", 1) != 0]
print("tensors differing:", bad[:5])
sys.exit(1 if bad else 0)
PY
}

# losses_within METRICS_A METRICS_B STEPS TOL KEYS LABEL : the per-step lines of two
# metrics.jsonl files agree on KEYS (comma-separated, e.g. rec,distill,uniformity) to TOL
# relative (|a - b| / max(|a|, 1e-3)); both must hold STEPS step lines.
losses_within() {
  python3 - "$@" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1]) if '"loss"' in l]
b = [json.loads(l) for l in open(sys.argv[2]) if '"loss"' in l]
steps, tol, keys, label = int(sys.argv[3]), float(sys.argv[4]), sys.argv[5].split(","), sys.argv[6]
assert len(a) == len(b) == steps, (len(a), len(b))
worst = max(abs(x[k] - y[k]) / max(abs(x[k]), 1e-3) for x, y in zip(a, b) for k in keys)
print("%s: worst relative loss difference over %d steps: %.3e" % (label, steps, worst))
sys.exit(0 if worst <= tol else 1)
PY
}

# ended_within LOG PATTERN END_UNIX_S SECONDS : the job ended (at END_UNIX_S) within SECONDS
# of the first LOG line matching PATTERN (its spdlog "[YYYY-MM-DD HH:MM:SS.fff]" time).
ended_within() {
  python3 - "$@" <<'PY'
import re, sys, datetime
line = next(l for l in open(sys.argv[1]) if sys.argv[2] in l)
t = datetime.datetime.strptime(re.search(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\]", line).group(1), "%Y-%m-%d %H:%M:%S.%f")
lag = float(sys.argv[3]) - t.timestamp()
print("job ended %.1f s after the line with '%s'" % (lag, sys.argv[2]))
sys.exit(0 if lag < float(sys.argv[4]) else 1)
PY
}
