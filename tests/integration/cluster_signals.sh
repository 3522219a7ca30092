#!/usr/bin/env bash
# SIGUSR1 to ONE rank of an mpirun -np 2 run: both ranks agree at the next
# step boundary and exit 3 ("preempted: requeue me") at the same step.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../cluster/cluster_lib.sh"

write_cluster_config "$WORK/cfg.yaml" 30
start_check -c "$WORK/cfg.yaml" --steps 100000 --step-ms 100 --bytes 4096
wait_control
kill -USR1 "$(rank_pid 1)"
wait_exit 30
[ "$RC" -eq 3 ] || fail "exit $RC, expected 3: $(tail -5 "$WORK/ranks.err")"
steps=$(grep -o 'preempted at step [0-9]*' "$WORK/ranks.err" | sort | uniq -c)
[ "$(grep -c 'preempted at step' "$WORK/ranks.err")" -eq 2 ] || fail "expected both ranks to stop: $steps"
[ "$(echo "$steps" | wc -l)" -eq 1 ] || fail "ranks stopped at different steps: $steps"
pass "SIGUSR1 to rank 1 only -> both ranks exit 3 at the same step (${ELAPSED} s): $(echo $steps)"

# SIGTERM to rank 0 works the same way.
start_check -c "$WORK/cfg.yaml" --steps 100000 --step-ms 100 --bytes 4096
wait_control
kill -TERM "$(rank_pid 0)"
wait_exit 30
[ "$RC" -eq 3 ] || fail "SIGTERM: exit $RC, expected 3"
pass "SIGTERM to rank 0 -> exit 3 (${ELAPSED} s)"
