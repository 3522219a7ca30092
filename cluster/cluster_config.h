// Config section `cluster`: communicator backend, deadlines, and the control
// plane (heartbeats, hung-rank watchdog, /metrics and /status over HTTP).
//
//   cluster:
//     device: auto           # cuda:<local rank> when CUDA is there, else cpu
//     backend: auto          # nccl when the device is CUDA and NCCL is built, else mpi
//     timeout_s: 300         # deadline of every collective and every step
//     heartbeat_timeout_s: 60
//     control_port: 29400    # 0 = control plane off; -1 = any free port
#pragma once

#include <cstdint>
#include <string>

#include "core/config.h"

namespace llmsrec::cluster {

struct ClusterConfig : core::ConfigSection {
  std::string device = "auto";            // auto | cpu | cuda (cuda:<local rank>)
  std::string backend = "auto";           // auto | mpi | nccl | local
  double timeout_s = 300;                 // deadline of every collective and step (seconds)
  double heartbeat_interval_s = 5;        // a rank heartbeats to rank 0 this often (seconds)
  double heartbeat_timeout_s = 60;        // a rank silent this long is declared hung (seconds)
  std::string control_address = "127.0.0.1";  // rank 0's control server binds here
  int64_t control_port = 29400;           // 0 = control plane off; -1 = any free port (see control.json)
  int64_t http_max_connections = 32;      // concurrent HTTP/unidentified connections; more are refused
  double http_read_timeout_s = 10;        // a client must send its request within this (seconds)
  int64_t param_check_every = 100;        // steps between parameter-hash comparisons; 0 = never

  void visit(core::ConfigVisitor& v) override {
    v.choice("device", device, {"auto", "cpu", "cuda"},
             "where the LLM, heads, loss and optimizer state live: auto (cuda:<local rank> when libtorch has CUDA and "
             "a GPU is visible, else cpu), cpu, cuda (one rank per GPU)");
    v.choice("backend", backend, {"auto", "mpi", "nccl", "local"},
             "communicator: auto (nccl when the device is CUDA and NCCL is built, else mpi), mpi, nccl, local (one "
             "process, no MPI)");
    v.field("timeout_s", timeout_s, "deadline of every collective and every step, seconds");
    v.field("heartbeat_interval_s", heartbeat_interval_s, "each rank heartbeats to rank 0 this often, seconds");
    v.field("heartbeat_timeout_s", heartbeat_timeout_s,
            "a rank silent this long is declared hung: rank 0 writes errors/rank-R.json and aborts the job (exit 4)");
    v.field("control_address", control_address,
            "address rank 0's control server (heartbeats, /metrics, /status) binds; 0.0.0.0 for multi-host jobs");
    v.field("control_port", control_port,
            "TCP port of the control server; 0 = off (no watchdog, no HTTP); -1 = any free port (written to control.json)");
    v.field("http_max_connections", http_max_connections, "concurrent HTTP connections; more are refused");
    v.field("http_read_timeout_s", http_read_timeout_s, "an HTTP client must send its whole request within this, seconds");
    v.field("param_check_every", param_check_every, "steps between cross-rank parameter-hash comparisons; 0 = never");
  }
  void validate(const std::string& path) const override;
};

}  // namespace llmsrec::cluster
