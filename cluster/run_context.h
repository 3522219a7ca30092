// The explicit run context of a stage (STYLE.md: no mutable globals): the
// device (cpu or cuda:<local rank>) and compute dtype every tensor of the run
// lives in, the communicators and process groups (data parallel x tensor
// parallel; today tp = 1), rank/size/local rank/host, the rank table, the
// control plane (rank 0's server, every rank's heartbeat client), the metrics
// sink and the preemption flag. The executable creates one and passes it to
// every stage; no stage picks a device or a communicator on its own.
//
//   auto ctx = cluster::RunContext::create(cfg.cluster, cfg.run, at::kFloat);   // Collective
//   at::Tensor w = at::zeros({4}, at::TensorOptions().device(ctx->device()));
//   for (int64_t step = 0; ...; ++step) {
//     ctx->set_phase(fmt::format("step {}: forward", step));
//     ctx->dp().allreduce(grads, cluster::ReduceOp::kAverage);   // Collective
//     if (ctx->preemption_agreed()) { ...checkpoint on rank 0...; throw cluster::Preempted(step); }
//   }
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include "cluster/communicator.h"
#include "cluster/live_metrics.h"
#include "cluster/signals.h"

namespace llmsrec::core {
struct RunSection;
}

namespace llmsrec::cluster {

class MpiRuntime;
struct ClusterConfig;
class ControlServer;
class HeartbeatClient;
struct HungRank;
struct HeartbeatRecord;

// One row of the start-up table, as every rank reports itself.
struct RankInfo {
  int rank = 0;
  std::string host;
  int local_rank = 0;
  std::string device;  // "cpu" or "cuda:N"
  int threads = 1;     // compute threads (ATen and OpenBLAS), core/thread_budget.h
  int64_t pid = 0;
  uint64_t config_hash = 0;
  std::vector<std::pair<std::string, std::string>> versions;  // core::version_table()
};

// Throws CommError naming the ranks and the component when loaded library
// versions differ from rank 0's, and ConfigError naming the ranks when the
// resolved config hashes differ. Pure: every rank runs it on the same table.
void check_rank_table(const std::vector<RankInfo>& ranks);
// The table rank 0 logs: rank, host, local rank, device, pid, then versions.
std::string format_rank_table(const std::vector<RankInfo>& ranks);

class RunContext {
 public:
  // Collective (all ranks of MPI_COMM_WORLD): initialises MPI (unless
  // cluster.backend is local), builds the world communicator, gathers the rank
  // table and checks it (versions, config hash), logs it on rank 0, starts the
  // control server on rank 0 and a heartbeat client on every rank, and installs
  // the SIGUSR1/SIGTERM handlers. argc/argv may be null.
  // The device comes from cluster.device (device_choice.h), the backend from
  // cluster.backend and the device; `compute_dtype` is the LLM's (llm.dtype).
  static std::unique_ptr<RunContext> create(const ClusterConfig& cluster, const core::RunSection& run,
                                            c10::ScalarType compute_dtype, int* argc = nullptr,
                                            char*** argv = nullptr);
  // Collective. The same on an MPI runtime the caller owns (MPI test binaries).
  static std::unique_ptr<RunContext> create(const ClusterConfig& cluster, const core::RunSection& run,
                                            c10::ScalarType compute_dtype, MpiRuntime& mpi);
  ~RunContext();  // stops heartbeats and the server, then finalizes MPI
  RunContext(const RunContext&) = delete;
  RunContext& operator=(const RunContext&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }
  const std::string& host() const { return host_; }
  // Where every tensor of the run lives: cpu or cuda:<index>.
  c10::Device device() const { return device_; }
  std::string device_name() const { return device_.str(); }
  bool on_cuda() const { return device_.is_cuda(); }
  c10::ScalarType compute_dtype() const { return compute_dtype_; }
  // Compute threads of this rank (ATen's pool and OpenBLAS), set at creation:
  // run.threads, else OMP_NUM_THREADS, else this rank's share of the node.
  int threads() const { return threads_; }
  const std::vector<RankInfo>& ranks() const { return ranks_; }

  // Tensor collectives over every rank (MPI on CPU or NCCL on CUDA, per
  // cluster.backend and the device). Tensors on the run's device; the NCCL
  // backend stages host tensors itself (communicator.h).
  Communicator& world() { return *world_; }
  // Process groups. dp: the ranks that hold the same model slices and differ
  // in users (the heads' gradients are all-reduced here); tp: the ranks that
  // share one copy of the frozen LLM. Without tensor parallelism dp is the
  // world and tp this rank alone.
  Communicator& dp() { return *world_; }
  Communicator& tp() { return *tp_; }
  int tp_size() const { return 1; }
  // Host-side collectives (flags, hashes, small metrics): MPI, or local.
  Communicator& host_comm() { return host_comm_ ? *host_comm_ : *world_; }

  LiveMetrics& metrics() { return metrics_; }
  PreemptionSignals& signals() { return signals_; }
  // The control server's port on every rank (0 = control plane off).
  int control_port() const { return control_port_; }
  ControlServer* control_server() { return server_.get(); }  // rank 0 only, else null

  // What the training thread is doing; goes into heartbeats and errors/rank-R.json.
  void set_phase(const std::string& phase);
  void set_step(int64_t step);

  // Collective: allreduce(max) of the preemption flag over host_comm().
  bool preemption_agreed();
  // Collective: compares `hash` (e.g. of the replicated parameters) across
  // ranks; a difference is a CommError naming the ranks, `what` and `step`.
  void check_replicas_identical(uint64_t hash, int64_t step, const std::string& what);

  // Ends every rank of the job with `code` (MPI_Abort; _Exit without MPI).
  [[noreturn]] void abort(int code) const;

  // Fail fast: an error on this rank ends the whole job within seconds with
  // this rank's cause and exit code, instead of leaving the other ranks in a
  // collective until cluster.timeout_s. Writes run.dir/errors/rank-R.json,
  // tells rank 0 over the control plane (rank 0 logs "rank R failed: ..." and
  // ends the job), then ends it itself should rank 0 not. Returns at once,
  // doing nothing, in a job of one rank (the caller's error path suffices).
  void fail_job(const std::string& message, int exit_code);

 private:
  RunContext() = default;
  void start_control_plane(const ClusterConfig& cluster, const core::RunSection& run);
  void on_hung(const HungRank& hung) const;
  void on_failed(const HeartbeatRecord& failed) const;
  void write_error_file(int rank, const nlohmann::json& error) const;

  void apply_thread_budget(int64_t configured, int local_ranks);
  void init(const ClusterConfig& cluster, const core::RunSection& run, c10::ScalarType compute_dtype);

  std::unique_ptr<MpiRuntime> owned_mpi_;
  MpiRuntime* mpi_ = nullptr;  // owned_mpi_ or the caller's; null for backend local
  std::unique_ptr<Communicator> host_comm_;
  std::unique_ptr<Communicator> world_;
  std::unique_ptr<Communicator> tp_;
  int rank_ = 0, size_ = 1, local_rank_ = 0;
  std::string host_;
  c10::Device device_ = c10::Device(c10::kCPU);
  c10::ScalarType compute_dtype_ = c10::kFloat;
  int threads_ = 1;
  std::string threads_source_;
  std::string run_dir_;
  std::string phase_ = "starting";
  int64_t step_ = 0;
  std::vector<RankInfo> ranks_;
  LiveMetrics metrics_;
  PreemptionSignals signals_;
  int control_port_ = 0;
  std::unique_ptr<ControlServer> server_;
  std::unique_ptr<HeartbeatClient> heartbeat_;
};

}  // namespace llmsrec::cluster
