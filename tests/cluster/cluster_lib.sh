# Helpers for the cluster integration tests (sourced after lib.sh): start
# `llmsrec cluster check` or `train` under mpirun -np 2 in the background and
# find rank 0's control server and each rank's pid through /status.
command -v mpirun >/dev/null || skip_test "mpirun not found"
command -v curl >/dev/null || skip_test "curl not found (apt-get install curl)"

# write_cluster_config FILE HEARTBEAT_TIMEOUT_S
write_cluster_config() {
  cat >"$1" <<YAML
run:
  dir: $WORK/run
cluster:
  backend: mpi
  timeout_s: 120
  heartbeat_interval_s: 0.5
  heartbeat_timeout_s: $2
  control_port: -1        # any free port; rank 0 writes it to run/control.json
YAML
}

# start_ranks RUN_DIR ARGS... : `mpirun -np 2 llmsrec ARGS` in the background (stdout and
# stderr in $WORK/ranks.out and ranks.err); RUN_DIR is its run.dir. Sets MPI_PID.
start_ranks() {
  RUN_DIR=$1; shift
  rm -f "$RUN_DIR/control.json"
  mpirun -np 2 --oversubscribe --allow-run-as-root "$LLMSREC" "$@" >"$WORK/ranks.out" 2>"$WORK/ranks.err" &
  MPI_PID=$!
  # set -e holds inside the trap too: no cleanup step may fail.
  trap 'kill -CONT ${RANK_PIDS:-} 2>/dev/null || true; kill -9 $MPI_PID ${RANK_PIDS:-} 2>/dev/null || true; rm -rf "$WORK"' EXIT
}

# start_check ARGS... : start_ranks for `llmsrec cluster check ARGS` (config from write_cluster_config).
start_check() { start_ranks "$WORK/run" cluster check "$@"; }

# wait_control : waits for control.json and both ranks' heartbeats; sets PORT, RANK_PIDS, URL.
wait_control() {
  for _ in $(seq 1 600); do
    [ -s "$RUN_DIR/control.json" ] && break
    kill -0 "$MPI_PID" 2>/dev/null || fail "the run ended before its control server started: $(tail -20 "$WORK/ranks.err")"
    sleep 0.1
  done
  PORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$RUN_DIR/control.json")
  URL="http://127.0.0.1:$PORT"
  for _ in $(seq 1 100); do
    STATUS=$(curl -s --max-time 2 "$URL/status" || true)
    RANK_PIDS=$(python3 -c 'import json,sys
d=json.loads(sys.argv[1]); r=d["ranks"]
print(" ".join(str(x["pid"]) for x in r) if all(x["seen"] and x["step"] > 0 for x in r) else "")' "$STATUS" 2>/dev/null || true)
    [ -n "$RANK_PIDS" ] && return 0
    sleep 0.1
  done
  fail "both ranks never showed up in /status: $STATUS"
}

rank_pid() { echo "$RANK_PIDS" | cut -d' ' -f$(($1 + 1)); }

# wait_exit SECONDS : waits for mpirun; sets RC and ELAPSED (seconds, float).
wait_exit() {
  local t0=$(date +%s.%N)
  for _ in $(seq 1 $(($1 * 10))); do
    kill -0 "$MPI_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$MPI_PID" 2>/dev/null && fail "mpirun still running after $1 s: $(tail -5 "$WORK/ranks.err")"
  set +e; wait "$MPI_PID"; RC=$?; set -e
  ELAPSED=$(python3 -c "import time; print(f'{time.time() - $t0:.1f}')")
}

# expect_hung_rank_abort TIMEOUT_S PHASE_REGEX : SIGSTOPs rank 1 and checks the watchdog:
# the job ends with exit 4 within TIMEOUT_S + 10 s, rank 0 logs the hung rank, and
# RUN_DIR/errors/rank-1.json names rank 1, its pid and host, and a phase matching
# PHASE_REGEX (Python re). Sets VICTIM (the stopped pid) and ELAPSED.
expect_hung_rank_abort() {
  local timeout_s=$1 phase_re=$2 err="$RUN_DIR/errors/rank-1.json"
  VICTIM=$(rank_pid 1)
  kill -STOP "$VICTIM"
  echo "stopped rank 1 (pid $VICTIM)"
  wait_exit $((timeout_s + 25))
  [ "$RC" -eq 4 ] || fail "exit code $RC, expected 4. stderr: $(tail -20 "$WORK/ranks.err")"
  python3 -c "import sys; sys.exit(0 if float('$ELAPSED') < $timeout_s + 10 else 1)" ||
    fail "took ${ELAPSED} s after SIGSTOP (heartbeat_timeout_s = $timeout_s)"
  [ -s "$err" ] || fail "no $err"
  python3 - "$err" "$VICTIM" "$phase_re" <<'PY' || fail "bad $err: $(cat "$err")"
import json, re, sys
e = json.load(open(sys.argv[1]))
assert e["rank"] == 1 and e["pid"] == int(sys.argv[2]) and e["host"], e
assert re.match(sys.argv[3], e["phase"]), e
assert e["exit_code"] == 4 and "heartbeat" in e["reason"], e
PY
  grep -q "rank 1 on host .* is hung" "$WORK/ranks.err" || fail "rank 0 did not log the hung rank"
  pass "SIGSTOPped rank 1 -> exit 4 after ${ELAPSED} s (heartbeat_timeout_s = $timeout_s); errors/rank-1.json: $(
    python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); print(e["host"], "/", e["phase"])' "$err")"
}
