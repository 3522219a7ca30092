#!/usr/bin/env bash
# Hung-rank watchdog with real ranks: SIGSTOP rank 1 of an mpirun -np 2 run;
# rank 0 must notice within cluster.heartbeat_timeout_s, write
# run/errors/rank-1.json (rank, host, last phase) and end the job with exit 4.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../cluster/cluster_lib.sh"
TIMEOUT_S=5

write_cluster_config "$WORK/cfg.yaml" $TIMEOUT_S
start_check -c "$WORK/cfg.yaml" --steps 100000 --step-ms 100 --bytes 4096
wait_control
victim=$(rank_pid 1)
kill -STOP "$victim"
echo "stopped rank 1 (pid $victim)"
wait_exit $((TIMEOUT_S + 25))
[ "$RC" -eq 4 ] || fail "exit code $RC, expected 4. stderr: $(tail -20 "$WORK/ranks.err")"
python3 -c "import sys; sys.exit(0 if float('$ELAPSED') < $TIMEOUT_S + 10 else 1)" ||
  fail "took ${ELAPSED} s after SIGSTOP (heartbeat_timeout_s = $TIMEOUT_S)"
pass "SIGSTOPped rank -> job ended with exit 4 after ${ELAPSED} s (heartbeat_timeout_s = $TIMEOUT_S)"

err="$WORK/run/errors/rank-1.json"
[ -s "$err" ] || fail "no $err"
python3 - "$err" "$victim" <<'PY' || fail "bad $err: $(cat "$err")"
import json, socket, sys
e = json.load(open(sys.argv[1]))
assert e["rank"] == 1, e
assert e["pid"] == int(sys.argv[2]), e
assert e["host"], e
assert e["phase"].startswith("cluster check step"), e
assert e["exit_code"] == 4 and "heartbeat" in e["reason"], e
PY
grep -q "rank 1 on host .* is hung" "$WORK/ranks.err" || fail "rank 0 did not log the hung rank"
pass "errors/rank-1.json names rank 1, its host, pid and last phase: $(python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); print(e["host"], "/", e["phase"])' "$err")"
