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
expect_hung_rank_abort $TIMEOUT_S "cluster check step"
