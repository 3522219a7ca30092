// NCCL backend: CUDA tensors on one device per rank. The unique id travels over
// the MPI bootstrap communicator; host-buffer collectives (metrics, hashes)
// are delegated to that communicator. NCCL runs non-blocking
// (config.blocking = 0) and every wait polls with a deadline, aborting the
// NCCL communicator on timeout so no rank hangs forever.
//
// Built only when CMake finds CUDA and NCCL (LLMSREC_WITH_NCCL); it compiles
// and links on machines without a GPU, where it cannot run.
#include <cuda_runtime.h>
#include <nccl.h>

#include <ATen/ATen.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "cluster/mpi_runtime.h"
#include "core/error.h"

namespace llmsrec::cluster {
namespace {

ncclDataType_t nccl_type(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return ncclFloat32;
    case at::kDouble: return ncclFloat64;
    case at::kHalf: return ncclFloat16;
    case at::kBFloat16: return ncclBfloat16;
    case at::kInt: return ncclInt32;
    case at::kLong: return ncclInt64;
    default: throw ShapeError(fmt::format("NCCL: unsupported tensor dtype {}", c10::toString(t)));
  }
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return ncclSum;
    case ReduceOp::kAverage: return ncclAvg;
    case ReduceOp::kMax: return ncclMax;
    case ReduceOp::kMin: return ncclMin;
  }
  return ncclSum;
}

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(Communicator& bootstrap, int device, double timeout_s)
      : bootstrap_(bootstrap), device_(device), timeout_s_(timeout_s) {
    cuda_check(cudaSetDevice(device_), "cudaSetDevice");
    ncclUniqueId id;
    if (bootstrap_.rank() == 0) nccl_check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    bootstrap_.broadcast_bytes(&id, sizeof(id), 0);
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    ncclResult_t rc = ncclCommInitRankConfig(&comm_, bootstrap_.size(), id, bootstrap_.rank(), &config);
    if (rc != ncclSuccess && rc != ncclInProgress) nccl_check(rc, "ncclCommInitRankConfig");
    wait_comm_ready("ncclCommInitRankConfig");
    cuda_check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  }

  ~NcclCommunicator() override {
    if (comm_) {
      if (poisoned_) ncclCommAbort(comm_);
      else ncclCommDestroy(comm_);
    }
    if (stream_) cudaStreamDestroy(stream_);
  }

  int rank() const override { return bootstrap_.rank(); }
  int size() const override { return bootstrap_.size(); }
  std::string backend() const override { return "nccl"; }

  void allreduce(at::Tensor& t, ReduceOp op) override {
    require_cuda(t, "allreduce");
    launch(ncclAllReduce(t.data_ptr(), t.data_ptr(), static_cast<size_t>(t.numel()), nccl_type(t.scalar_type()),
                         nccl_op(op), comm_, stream_),
           "ncclAllReduce");
  }

  void broadcast(at::Tensor& t, int root) override {
    require_cuda(t, "broadcast");
    launch(ncclBroadcast(t.data_ptr(), t.data_ptr(), static_cast<size_t>(t.numel()), nccl_type(t.scalar_type()), root,
                         comm_, stream_),
           "ncclBroadcast");
  }

  at::Tensor allgather(const at::Tensor& t) override {
    require_cuda(t, "allgather");
    std::vector<int64_t> shape = {size()};
    for (auto d : t.sizes()) shape.push_back(d);
    at::Tensor out = at::empty(shape, t.options());
    launch(ncclAllGather(t.data_ptr(), out.data_ptr(), static_cast<size_t>(t.numel()), nccl_type(t.scalar_type()),
                         comm_, stream_),
           "ncclAllGather");
    return out;
  }

  void barrier() override { bootstrap_.barrier(); }
  void allreduce(double* d, int64_t n, ReduceOp op) override { bootstrap_.allreduce(d, n, op); }
  void allreduce(int64_t* d, int64_t n, ReduceOp op) override { bootstrap_.allreduce(d, n, op); }
  void allgather_bytes(const void* d, int64_t b, void* out) override { bootstrap_.allgather_bytes(d, b, out); }
  void broadcast_bytes(void* d, int64_t b, int root) override { bootstrap_.broadcast_bytes(d, b, root); }

 private:
  void require_cuda(const at::Tensor& t, const char* op) const {
    if (poisoned_) throw CommError(fmt::format("rank {}: NCCL communicator unusable after: {}", rank(), poison_reason_));
    if (!t.is_cuda()) throw ShapeError(fmt::format("NCCL {}: tensor must be on a CUDA device", op));
    if (!t.is_contiguous()) throw ShapeError(fmt::format("NCCL {}: tensor must be contiguous", op));
  }

  std::string last_error(ncclResult_t rc) const {
    const char* detail = comm_ ? ncclGetLastError(comm_) : nullptr;
    return fmt::format("{}{}{}", ncclGetErrorString(rc), detail && *detail ? ": " : "", detail ? detail : "");
  }

  void nccl_check(ncclResult_t rc, const char* call) const {
    if (rc != ncclSuccess) throw CommError(fmt::format("rank {}: {} failed: {}", rank(), call, last_error(rc)));
  }

  void cuda_check(cudaError_t rc, const char* call) const {
    if (rc != cudaSuccess) {
      throw CommError(fmt::format("rank {}: {} failed: {} ({})", bootstrap_.rank(), call, cudaGetErrorString(rc),
                                  cudaGetErrorName(rc)));
    }
  }

  void timeout(const char* op) {
    poisoned_ = true;
    poison_reason_ = fmt::format("{} timed out after {:.0f} s", op, timeout_s_);
    ncclCommAbort(comm_);
    comm_ = nullptr;
    throw CommError(fmt::format("rank {}: NCCL {} did not complete within {:.0f} s (cluster.timeout_s); communicator "
                                "aborted",
                                rank(), op, timeout_s_));
  }

  void wait_comm_ready(const char* op) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s_);
    while (true) {
      ncclResult_t state = ncclSuccess;
      nccl_check(ncclCommGetAsyncError(comm_, &state), "ncclCommGetAsyncError");
      if (state == ncclSuccess) return;
      if (state != ncclInProgress) nccl_check(state, op);
      if (std::chrono::steady_clock::now() > deadline) timeout(op);
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

  // Enqueues a collective, then waits for the stream with a deadline.
  void launch(ncclResult_t rc, const char* op) {
    if (rc != ncclSuccess && rc != ncclInProgress) nccl_check(rc, op);
    wait_comm_ready(op);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s_);
    while (true) {
      cudaError_t q = cudaStreamQuery(stream_);
      if (q == cudaSuccess) return;
      if (q != cudaErrorNotReady) cuda_check(q, op);
      ncclResult_t state = ncclSuccess;
      nccl_check(ncclCommGetAsyncError(comm_, &state), "ncclCommGetAsyncError");
      if (state != ncclSuccess && state != ncclInProgress) nccl_check(state, op);
      if (std::chrono::steady_clock::now() > deadline) timeout(op);
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }

  Communicator& bootstrap_;
  int device_;
  double timeout_s_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  bool poisoned_ = false;
  std::string poison_reason_;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(Communicator& bootstrap, int device, double timeout_s) {
  return std::make_unique<NcclCommunicator>(bootstrap, device, timeout_s);
}

bool nccl_available() { return true; }

}  // namespace llmsrec::cluster
