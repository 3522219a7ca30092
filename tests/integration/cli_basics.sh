#!/usr/bin/env bash
# The CLI contract: --version, --help, exit codes, --json, strict config errors.
source "$(dirname "$0")/lib.sh"

expect_exit 0 "$LLMSREC" --version
for lib in libtorch mpi hdf5 yaml-cpp git allocator; do
  grep -q "^$lib " <<<"$OUT" || fail "--version does not list $lib: $OUT"
done
# Built with jemalloc (scripts/install-deps.sh installs it), core/jemalloc_conf.c
# must have reached it: without it every fresh activation buffer page-faults.
if grep -q "^allocator *jemalloc" <<<"$OUT"; then
  grep -q "^allocator .*(dirty_decay_ms -1)" <<<"$OUT" || fail "jemalloc without the llmsrec settings: $OUT"
  OUT2=$(MALLOC_CONF=dirty_decay_ms:5000 "$LLMSREC" --version)
  grep -q "^allocator .*(dirty_decay_ms 5000)" <<<"$OUT2" || fail "MALLOC_CONF does not override: $OUT2"
fi
# Thread pools (core/omp_env.h): the re-executed process sees the quiet settings,
# a value the user set wins, and LLMSREC_THREAD_ENV=0 opts out.
quiet() { env -u OMP_WAIT_POLICY -u OPENBLAS_THREAD_TIMEOUT -u LLMSREC_THREAD_ENV "$@" "$LLMSREC" --version | grep "^threads "; }
T=$(quiet)
[[ "$T" == *"OMP_WAIT_POLICY=PASSIVE OPENBLAS_THREAD_TIMEOUT=4"* ]] || fail "thread pools not set: $T"
T=$(quiet OMP_WAIT_POLICY=ACTIVE)
[[ "$T" == *"OMP_WAIT_POLICY=ACTIVE OPENBLAS_THREAD_TIMEOUT=4"* ]] || fail "user's OMP_WAIT_POLICY overridden: $T"
T=$(quiet LLMSREC_THREAD_ENV=0)
[[ "$T" == *"OMP_WAIT_POLICY=(unset) OPENBLAS_THREAD_TIMEOUT=(unset)"* ]] || fail "LLMSREC_THREAD_ENV=0 ignored: $T"
pass "--version lists libraries, the allocator and the thread-pool settings"

expect_exit 0 "$LLMSREC" --help
grep -q "inspect" <<<"$OUT" || fail "--help does not list inspect"
grep -q "Exit codes" <<<"$OUT" || fail "--help does not document exit codes"
pass "--help"

expect_exit 2 "$LLMSREC" no-such-command
pass "unknown command exits 2"

cat >"$WORK/typo.yaml" <<'YAML'
run:
  seed: 3
data:
  kcore: 5
YAML
expect_exit 2 "$LLMSREC" config -c "$WORK/typo.yaml"
grep -q "typo.yaml:4" <<<"$ERR" || fail "config error does not name file:line: $ERR"
grep -q "data.kcore" <<<"$ERR" || fail "config error does not name the key: $ERR"
pass "unknown config key exits 2 naming file:line and key"

expect_exit 2 "$LLMSREC" config --json --set data.k_core=abc
[ "$(json_get "$OUT" '["exit_code"]')" = "2" ] || fail "--json error object lacks exit_code: $OUT"
pass "--json prints an error object on failure"

expect_exit 0 "$LLMSREC" config --json --set run.dir="$WORK/r" --set data.k_core=7
[ "$(json_get "$OUT" '["run_dir"]')" = "$WORK/r" ] || fail "run.dir override not applied: $OUT"
grep -q "k_core: 7" <<<"$(json_get "$OUT" '["config"]')" || fail "override missing from resolved config"
[ "$(printf '%s\n' "$OUT" | wc -l)" -eq 1 ] || fail "--json must print exactly one line/object"
pass "--json prints one object; --set reaches the resolved config"

echo "not hdf5" >"$WORK/foreign.h5"
expect_exit 5 "$LLMSREC" inspect "$WORK/foreign.h5"
grep -q "not an HDF5 file" <<<"$ERR" || fail "inspect on a foreign file: $ERR"
pass "inspect on a foreign file exits 5 with a clear message"

expect_exit 0 "$LLMSREC" prepare --set run.dir="$WORK/p" --set data.synthetic.users=200 --set data.synthetic.items=200 \
  --set data.eval_negatives=20 --json
expect_exit 0 "$LLMSREC" inspect "$WORK/p/dataset.h5" --json
[ "$(json_get "$OUT" '["dataset"]["users"]')" = 200 ] || fail "inspect dataset.h5 does not report 200 users"
[ -n "$(json_get "$OUT" '["dataset"]["examples"][0]["history"][0]["title"]')" ] || fail "inspect shows no titles"
expect_exit 0 "$LLMSREC" inspect "$WORK/p/dataset.h5"
grep -q "valid / " <<<"$OUT" || fail "human inspect lacks the counts line"
pass "inspect dataset.h5: counts and example users with titles"
