#!/usr/bin/env bash
# `llmsrec prepare` on every shared dataset with its config from configs/,
# checking the counts in the --json summary against the datasets' READMEs
# (and the split arithmetic). Env: LLMSREC, LLMSREC_SHARED_DIR, LLMSREC_SOURCE_DIR.
set -euo pipefail

: "${LLMSREC:?path of the llmsrec binary}" "${LLMSREC_SOURCE_DIR:?repo root}" "${LLMSREC_SHARED_DIR:?shared dir}"
if [[ ! -d "$LLMSREC_SHARED_DIR/data" ]]; then
  echo "SKIPPED: $LLMSREC_SHARED_DIR/data not found (shared datasets absent)"
  exit 77
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
checked=0

# name users items interactions time_kind
check() {
  local name=$1 users=$2 items=$3 inter=$4 kind=$5
  if [[ ! -d "$LLMSREC_SHARED_DIR/data/$name" ]]; then
    echo "SKIP: $name not in $LLMSREC_SHARED_DIR/data"
    return
  fi
  checked=$((checked + 1))
  # Configs hold repo-relative paths; point data.path at this machine's shared dir instead.
  local json
  json=$(cd "$LLMSREC_SOURCE_DIR" && "$LLMSREC" prepare -c "configs/$name.yaml" --set "run.dir=$TMP/$name" \
           --set "data.path=$LLMSREC_SHARED_DIR/data/$name" --json 2>"$TMP/$name.log") || {
    echo "FAIL: $name: prepare exited with $?"; cat "$TMP/$name.log"; fail=1; return; }
  # The summary is one flat JSON object: pull scalars out without python/jq.
  get() { grep -o "\"$1\":[^,}]*" <<<"$json" | head -1 | cut -d: -f2- | tr -d '"'; }
  local errors=()
  expect() { [[ "$(get "$1")" == "$2" ]] || errors+=("$1: expected $2, got $(get "$1")"); }
  expect users "$users"
  expect items "$items"
  expect interactions "$inter"
  expect time_kind "$kind"
  expect skipped_lines 0
  local v t
  v=$(get valid_users) t=$(get test_users)
  # leave-last-out: every eval user gives exactly one valid and one test interaction
  expect train_interactions $((inter - v - t))
  [[ "$v" == "$t" && "$v" -le "$users" ]] || errors+=("valid_users $v / test_users $t inconsistent with $users users")
  if ((${#errors[@]})); then
    echo "FAIL: $name: $json"; printf '    %s\n' "${errors[@]}"; fail=1
  else
    echo "ok: $name users=$users items=$items interactions=$inter train=$(get train_interactions) valid_users=$v" \
         "test_users=$t empty_titles=$(get empty_titles) time_kind=$kind"
  fi
  [[ -f "$TMP/$name/dataset.h5" ]] || { echo "FAIL: $name: no dataset.h5"; fail=1; }
}

check amazon2018_scientific 8317 4344 58492 order_index
check sasrec_video 31013 23715 287107 order_index
check lastfm_llara 1220 4606 52925 order_index
# None of the datasets there: nothing was tested (CTest SKIP_RETURN_CODE 77), not a pass.
[ "$fail" = 0 ] && [ "$checked" = 0 ] && { echo "SKIPPED: no shared dataset in $LLMSREC_SHARED_DIR/data"; exit 77; }
exit $fail
