#!/usr/bin/env bash
# /metrics and /status of rank 0's control server with a real HTTP client
# (curl) while an mpirun -np 2 run is stepping; 4xx for everything else; an
# idle connection blocks neither other requests nor the steps.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../cluster/cluster_lib.sh"

write_cluster_config "$WORK/cfg.yaml" 30
start_check -c "$WORK/cfg.yaml" --steps 100000 --step-ms 50 --bytes 4096
wait_control
t0=$(date +%s.%N)

code() { curl -s -o "$WORK/body" -w '%{http_code}' --max-time 3 "$@"; }
[ "$(code "$URL/metrics")" = 200 ] || fail "GET /metrics"
for series in 'llmsrec_step ' 'llmsrec_busbw_gbps ' 'llmsrec_eta_seconds ' 'llmsrec_heartbeat_age_seconds{rank="1"'; do
  grep -q "^$series" "$WORK/body" || fail "/metrics lacks $series: $(cat "$WORK/body")"
done
pass "GET /metrics (Prometheus text)"
[ "$(code "$URL/status")" = 200 ] || fail "GET /status"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["world_size"]==2 and len(d["ranks"])==2 and "step" in d["metrics"]' "$WORK/body" ||
  fail "/status JSON: $(cat "$WORK/body")"
pass "GET /status (JSON)"
[ "$(code "$URL/nope")" = 404 ] || fail "unknown path is not 404"
[ "$(code -X POST -d x=1 "$URL/metrics")" = 405 ] || fail "POST is not 405"
[ "$(code -X DELETE "$URL/status")" = 405 ] || fail "DELETE is not 405"
garbage=$(python3 - "$PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
s.sendall(b"\x16\x03\x01 hello there\r\n\r\n")
print(s.recv(100).split(b"\r\n")[0].decode())
PY
)
[ "$garbage" = "HTTP/1.1 400 Bad Request" ] || fail "garbage got '$garbage'"
pass "404 unknown path, 405 POST/DELETE, 400 garbage"

# An idle client (connects, sends nothing) and a slow one (half a request line).
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
exec 4<>"/dev/tcp/127.0.0.1/$PORT"
printf 'GET /met' >&4
step_before=$(curl -s --max-time 2 "$URL/metrics" | awk '$1=="llmsrec_step"{print $2}')
[ -n "$step_before" ] || fail "GET /metrics blocked by an idle connection"
sleep 1
step_after=$(curl -s --max-time 2 "$URL/metrics" | awk '$1=="llmsrec_step"{print $2}')
python3 -c "import sys; sys.exit(0 if float('$step_after') > float('$step_before') else 1)" ||
  fail "steps stalled while clients idled ($step_before -> $step_after)"
exec 3>&- 4>&-
pass "idle and slow clients block neither requests nor steps (step $step_before -> $step_after)"

kill -USR1 "$MPI_PID"   # mpirun forwards SIGUSR1 to both ranks
wait_exit 30
[ "$RC" -eq 3 ] || fail "SIGUSR1 to mpirun: exit $RC, expected 3"
pass "HTTP checks took $(python3 -c "import time; print(f'{time.time() - $t0:.1f}')") s; SIGUSR1 to mpirun -> exit 3"
