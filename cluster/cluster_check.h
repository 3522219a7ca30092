// `llmsrec cluster check`: exercises the cluster pieces without a model, so it
// can be the payload of the watchdog, signal and SLURM tests, and a first
// thing to run on a new cluster. Each "step" allreduces a float buffer
// (reporting algbw/busbw like nccl-tests), pads the step to step_ms
// (standing in for compute), updates heartbeats and /metrics, compares a hash
// of the replicated buffer every cluster.param_check_every steps, and stops
// at the next step boundary after SIGUSR1/SIGTERM by throwing Preempted.
//
//   auto ctx = cluster::RunContext::create(cfg.cluster, cfg.run, at::kFloat);
//   nlohmann::json summary = cluster::run_cluster_check(*ctx, cfg.cluster, {.steps = 20});
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

namespace llmsrec::cluster {

class RunContext;
struct ClusterConfig;

struct ClusterCheckOptions {
  int64_t steps = 20;             // allreduce steps
  int64_t step_ms = 0;            // pad each step to at least this long (simulated compute)
  int64_t bytes = 8 << 20;        // allreduce buffer size (float32)
};

// Collective: every rank. Returns the summary (rank table, bandwidth, steps).
// Throws Preempted (exit 3) when the ranks agreed on a preemption signal.
nlohmann::json run_cluster_check(RunContext& ctx, const ClusterConfig& config, const ClusterCheckOptions& options);

}  // namespace llmsrec::cluster
