#!/usr/bin/env bash
# Acceptance: `lm convert-llama2c` + `lm generate` on stories260K reproduce
# golden.json of karpathy/llama2.c run.c: prompt ids, the full greedy id
# sequence, and the top-5 logits at positions 0-2 within 1e-4.
# Env: LLMSREC (binary), LLMSREC_SHARED_DIR. Skipped (exit 77, CTest SKIP_RETURN_CODE) without the shared model.
set -euo pipefail
: "${LLMSREC:?set LLMSREC to the llmsrec binary}"
model_dir="${LLMSREC_SHARED_DIR:-}/models/stories260K"
if [ ! -f "$model_dir/golden.json" ] || [ ! -f "$model_dir/stories260K.bin" ]; then
  echo "SKIPPED: llama2c_golden: $model_dir (stories260K.bin, golden.json) not found"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$LLMSREC" lm convert-llama2c "$model_dir/stories260K.bin" "$model_dir/tok512.bin" "$work/hf" --json > "$work/convert.json"
golden="$model_dir/golden.json"
# Prompt: tokenized by our llama2.c tokenizer when available (--prompt), else golden's ids.
prompt_args=(--ids "$(python3 -c 'import json,sys; print(",".join(map(str, json.load(open(sys.argv[1]))["prompt_token_ids"])))' "$golden")")
if "$LLMSREC" lm generate --help 2>/dev/null | grep -q -- '--prompt'; then
  prompt_args=(--prompt "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["prompt"])' "$golden")")
fi
# run.c: -n 32 positions in total, stops when the argmax is BOS (1).
"$LLMSREC" lm generate "$work/hf" "${prompt_args[@]}" --steps 27 --stop-at 1 --json > "$work/gen.json"

python3 - "$golden" "$work/gen.json" <<'PY'
import json, sys
golden = json.load(open(sys.argv[1]))
got = json.load(open(sys.argv[2]))
fail = []
if got["prompt_ids"] != golden["prompt_token_ids"]:
    fail.append(f"prompt ids: expected {golden['prompt_token_ids']}, got {got['prompt_ids']}")
seq = got["prompt_ids"] + got["generated_ids"]
if seq != golden["token_ids"]:
    fail.append(f"token ids: expected {golden['token_ids']}, got {seq}")
for entry in golden["top5_logits_first_3_positions"]:
    p = entry["position"]
    mine = got["top5"][p]
    for j, (e, m) in enumerate(zip(entry["top5"], mine)):
        if e["id"] != m["id"] or abs(e["logit"] - m["logit"]) > 1e-4:
            fail.append(f"position {p} rank {j}: expected id {e['id']} logit {e['logit']}, got id {m['id']} logit {m['logit']:.6f}")
if fail:
    print("FAIL llama2c_golden:\n  " + "\n  ".join(fail))
    sys.exit(1)
print(f"PASS llama2c_golden: {len(seq)} ids and top-5 logits at positions 0-2 match run.c")
PY
