# Helpers for integration tests (sourced). Each test gets $LLMSREC (the binary),
# $LLMSREC_SOURCE_DIR, $LLMSREC_SHARED_DIR from CTest, and a fresh $WORK dir.
set -euo pipefail
: "${LLMSREC:?set LLMSREC to the llmsrec binary}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/llmsrec-it.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

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
