// NCCL backend: tensors on one CUDA device per rank (the run context passes
// the device index). The unique id travels over the MPI bootstrap
// communicator; host-buffer collectives (metrics, hashes, bytes) are delegated
// to that communicator. What happens to each tensor (in place, staged through
// the device, rejected) is decided by cluster/nccl_rules.h; this file only
// makes the CUDA and NCCL calls.
//
// Why it is built this way:
//  1. NCCL runs non-blocking (config.blocking = 0) and every wait polls with a
//     deadline, so a rank whose peer died throws instead of hanging forever.
//  2. Any failure (an NCCL or CUDA error, a timeout) aborts the NCCL
//     communicator at once (ncclCommAbort) and poisons this object: after an
//     error the peers' state is unknown, and a later collective could only hang
//     or corrupt. Later calls throw CommError naming the first failure.
//  3. NCCL enqueues on a private stream ordered after the producer: an event
//     recorded on the stream the tensor was written on (torch's current stream
//     when libtorch is a CUDA build, else the legacy default stream) is waited
//     on by the NCCL stream. The call returns only after the NCCL stream is
//     idle, so every later reader (host or any stream) sees the result.
//  4. The device is set around every call (a guard restores the caller's), so
//     a thread that switched devices cannot send NCCL work to the wrong GPU.
//
// Built only when CMake finds CUDA and NCCL (LLMSREC_WITH_NCCL); it compiles
// and links on machines without a GPU, where it cannot run.
#include <cuda_runtime.h>
#include <nccl.h>

#include <ATen/ATen.h>

#if defined(LLMSREC_TORCH_CUDA) && __has_include(<c10/cuda/CUDAStream.h>) && \
    __has_include(<c10/cuda/impl/cuda_cmake_macros.h>)
#include <c10/cuda/CUDAStream.h>
#define LLMSREC_NCCL_TORCH_STREAM 1
#else
#define LLMSREC_NCCL_TORCH_STREAM 0
#endif

#include <chrono>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "cluster/mpi_runtime.h"
#include "cluster/nccl_rules.h"
#include "core/error.h"
#include "core/log.h"

namespace llmsrec::cluster {

std::string nccl::cuda_error_name(int code) { return cudaGetErrorName(static_cast<cudaError_t>(code)); }

namespace {

ncclDataType_t to_nccl(nccl::DType t) {
  switch (t) {
    case nccl::DType::kFloat32:
      return ncclFloat32;
    case nccl::DType::kFloat64:
      return ncclFloat64;
    case nccl::DType::kFloat16:
      return ncclFloat16;
    case nccl::DType::kBFloat16:
      return ncclBfloat16;
    case nccl::DType::kInt32:
      return ncclInt32;
    case nccl::DType::kInt64:
      return ncclInt64;
  }
  return ncclFloat32;
}

ncclRedOp_t to_nccl(nccl::RedOp op) {
  switch (op) {
    case nccl::RedOp::kSum:
      return ncclSum;
    case nccl::RedOp::kAvg:
      return ncclAvg;
    case nccl::RedOp::kMax:
      return ncclMax;
    case nccl::RedOp::kMin:
      return ncclMin;
  }
  return ncclSum;
}

// Move-only owner of a CUDA handle, released by `Destroy` (which never throws:
// a failed release during unwinding is not worth a second exception).
template <typename Handle, cudaError_t (*Destroy)(Handle)>
class CudaHandle {
 public:
  CudaHandle() = default;
  ~CudaHandle() { reset(); }
  CudaHandle(CudaHandle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  CudaHandle& operator=(CudaHandle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  Handle get() const { return h_; }
  Handle* out() {
    reset();
    return &h_;
  }
  void reset() {
    if (h_) Destroy(h_);
    h_ = nullptr;
  }

 private:
  Handle h_ = nullptr;
};
using CudaStreamHandle = CudaHandle<cudaStream_t, cudaStreamDestroy>;
using CudaEventHandle = CudaHandle<cudaEvent_t, cudaEventDestroy>;
using DeviceMemory = CudaHandle<void*, cudaFree>;

// The NCCL communicator: destroyed normally, aborted on the error path.
class NcclCommHandle {
 public:
  NcclCommHandle() = default;
  ~NcclCommHandle() { destroy(); }
  NcclCommHandle(const NcclCommHandle&) = delete;
  NcclCommHandle& operator=(const NcclCommHandle&) = delete;
  ncclComm_t get() const { return comm_; }
  ncclComm_t* out() { return &comm_; }
  void destroy() {
    if (comm_) ncclCommDestroy(comm_);
    comm_ = nullptr;
  }
  void abort() {
    if (comm_) ncclCommAbort(comm_);
    comm_ = nullptr;
  }

 private:
  ncclComm_t comm_ = nullptr;
};

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(Communicator& bootstrap, int device, double timeout_s)
      : bootstrap_(bootstrap), device_(device), timeout_s_(timeout_s) {
    if (device_ < 0) {
      throw CommError(fmt::format("rank {}: NCCL needs a CUDA device index >= 0, got {}", rank(), device_));
    }
    DeviceGuard guard(*this, "NcclCommunicator");
    ncclUniqueId id;
    if (bootstrap_.rank() == 0) nccl_check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    bootstrap_.broadcast_bytes(&id, sizeof(id), 0);  // Collective
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    nccl_check(ncclCommInitRankConfig(comm_.out(), bootstrap_.size(), id, bootstrap_.rank(), &config),
               "ncclCommInitRankConfig");
    wait_comm_ready("ncclCommInitRankConfig");
    cuda_check(cudaStreamCreateWithFlags(stream_.out(), cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    cuda_check(cudaEventCreateWithFlags(produced_.out(), cudaEventDisableTiming), "cudaEventCreateWithFlags");
    LOG_DEBUG("rank {}: NCCL communicator on cuda:{}, {} rank(s), ordered by {}", rank(), device_, size(),
              nccl::stream_order_name(nccl::stream_order(LLMSREC_NCCL_TORCH_STREAM)));
  }

  ~NcclCommunicator() override {
    // Release on this communicator's device; errors here cannot be reported.
    int previous = -1;
    const bool restore = cudaGetDevice(&previous) == cudaSuccess;
    cudaSetDevice(device_);
    staging_.reset();
    produced_.reset();
    stream_.reset();
    if (poisoned_) {
      comm_.abort();
    } else {
      comm_.destroy();
    }
    if (restore) cudaSetDevice(previous);
  }

  int rank() const override { return bootstrap_.rank(); }
  int size() const override { return bootstrap_.size(); }
  std::string backend() const override { return "nccl"; }

  void allreduce(at::Tensor& t, ReduceOp op) override {
    const nccl::TensorPlan plan = prepare(t, op, "allreduce");
    DeviceGuard guard(*this, "allreduce");
    const ncclRedOp_t red = to_nccl(nccl::nccl_red_op(op));
    run_in_place(t, plan, "ncclAllReduce", [&](void* buf, size_t count, ncclDataType_t type) {
      return ncclAllReduce(buf, buf, count, type, red, comm_.get(), stream_.get());
    });
  }

  void broadcast(at::Tensor& t, int root) override {
    const nccl::TensorPlan plan = prepare(t, std::nullopt, "broadcast");
    if (root < 0 || root >= size()) {
      throw ShapeError(fmt::format("NCCL broadcast: root must be in [0, {}), got {}", size(), root));
    }
    DeviceGuard guard(*this, "broadcast");
    run_in_place(t, plan, "ncclBroadcast", [&](void* buf, size_t count, ncclDataType_t type) {
      return ncclBroadcast(buf, buf, count, type, root, comm_.get(), stream_.get());
    });
  }

  at::Tensor allgather(const at::Tensor& t) override {
    const nccl::TensorPlan plan = prepare(t, std::nullopt, "allgather");
    DeviceGuard guard(*this, "allgather");
    std::vector<int64_t> shape = {size()};
    for (auto d : t.sizes()) shape.push_back(d);
    at::Tensor out = at::empty(shape, t.options());  // same place as the input: host in, host out
    const size_t count = static_cast<size_t>(t.numel());
    const size_t bytes = count * t.element_size();
    const ncclDataType_t type = to_nccl(plan.dtype);
    if (count == 0) return out;  // same shape on every rank: all skip together
    if (plan.action == nccl::Action::kInPlace) {
      order_after_producer();
      enqueue(ncclAllGather(t.data_ptr(), out.data_ptr(), count, type, comm_.get(), stream_.get()), "ncclAllGather");
      wait_stream("ncclAllGather");
      return out;
    }
    // Staged: [own block | size() gathered blocks] in one device buffer.
    char* dev = static_cast<char*>(staging(bytes * (1 + static_cast<size_t>(size()))));
    cuda_check(cudaMemcpyAsync(dev, t.data_ptr(), bytes, cudaMemcpyHostToDevice, stream_.get()), "cudaMemcpyAsync");
    enqueue(ncclAllGather(dev, dev + bytes, count, type, comm_.get(), stream_.get()), "ncclAllGather");
    copy_back(out.data_ptr(), dev + bytes, bytes * static_cast<size_t>(size()), "ncclAllGather");
    return out;
  }

  void barrier() override { bootstrap_.barrier(); }
  void allreduce(double* d, int64_t n, ReduceOp op) override { bootstrap_.allreduce(d, n, op); }
  void allreduce(int64_t* d, int64_t n, ReduceOp op) override { bootstrap_.allreduce(d, n, op); }
  void allgather_bytes(const void* d, int64_t b, void* out) override { bootstrap_.allgather_bytes(d, b, out); }
  void broadcast_bytes(void* d, int64_t b, int root) override { bootstrap_.broadcast_bytes(d, b, root); }

 private:
  // Sets this communicator's device for one call, restores the caller's after.
  class DeviceGuard {
   public:
    DeviceGuard(NcclCommunicator& c, const char* call) {
      c.cuda_check(cudaGetDevice(&previous_), fmt::format("cudaGetDevice for {}", call));
      if (previous_ != c.device_) {
        c.cuda_check(cudaSetDevice(c.device_), fmt::format("cudaSetDevice({}) for {}", c.device_, call));
      }
    }
    ~DeviceGuard() { cudaSetDevice(previous_); }
    DeviceGuard(const DeviceGuard&) = delete;
    DeviceGuard& operator=(const DeviceGuard&) = delete;

   private:
    int previous_ = 0;
  };

  // Throws on a poisoned communicator (CommError) or a tensor the rules reject
  // (ShapeError: the caller's mistake; the communicator stays usable).
  nccl::TensorPlan prepare(const at::Tensor& t, std::optional<ReduceOp> op, const char* call) const {
    if (poisoned_) throw CommError(nccl::format_poisoned(rank(), device_, first_failure_));
    nccl::TensorPlan plan = nccl::plan_tensor(nccl::facts_of(t), op, device_, call);
    if (plan.action == nccl::Action::kReject) throw ShapeError(plan.reason);
    return plan;
  }

  // In-place collectives (allreduce, broadcast) on a device tensor or a staged copy.
  template <typename Enqueue>
  void run_in_place(at::Tensor& t, const nccl::TensorPlan& plan, const char* call, Enqueue&& collective) {
    const size_t count = static_cast<size_t>(t.numel());
    const size_t bytes = count * t.element_size();
    const ncclDataType_t type = to_nccl(plan.dtype);
    if (count == 0) return;  // same shape on every rank: all skip together
    if (plan.action == nccl::Action::kInPlace) {
      order_after_producer();
      enqueue(collective(t.data_ptr(), count, type), call);
      wait_stream(call);
      return;
    }
    void* dev = staging(bytes);
    cuda_check(cudaMemcpyAsync(dev, t.data_ptr(), bytes, cudaMemcpyHostToDevice, stream_.get()), "cudaMemcpyAsync");
    enqueue(collective(dev, count, type), call);
    copy_back(t.data_ptr(), dev, bytes, call);
  }

  // The device buffer host tensors are staged through; grows, never shrinks
  // (the fusion buffer has the same size every step).
  void* staging(size_t bytes) {
    if (bytes > staging_bytes_) {
      staging_.reset();
      staging_bytes_ = 0;
      cuda_check(cudaMalloc(staging_.out(), bytes), fmt::format("cudaMalloc({} bytes for host staging)", bytes));
      staging_bytes_ = bytes;
    }
    return staging_.get();
  }

  // Waits for the collective with the deadline BEFORE copying back: a copy to
  // pageable host memory blocks without one, and would hang on a dead peer.
  void copy_back(void* host, const void* dev, size_t bytes, const char* call) {
    wait_stream(call);
    cuda_check(cudaMemcpyAsync(host, dev, bytes, cudaMemcpyDeviceToHost, stream_.get()), "cudaMemcpyAsync");
    wait_stream(call);
  }

  void order_after_producer() {
#if LLMSREC_NCCL_TORCH_STREAM
    cudaStream_t producer = c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device_)).stream();
#else
    cudaStream_t producer = cudaStreamLegacy;
#endif
    cuda_check(cudaEventRecord(produced_.get(), producer), "cudaEventRecord");
    cuda_check(cudaStreamWaitEvent(stream_.get(), produced_.get(), 0), "cudaStreamWaitEvent");
  }

  // Error path of every call: abort first (peers blocked in this collective
  // are released by their own deadline), then throw.
  [[noreturn]] void fail(const std::string& message) {
    if (!poisoned_) {
      poisoned_ = true;
      first_failure_ = message;
    }
    comm_.abort();
    throw CommError(message + "; NCCL communicator aborted");
  }

  void nccl_check(ncclResult_t rc, const std::string& call) {
    if (rc == ncclSuccess || rc == ncclInProgress) return;
    const char* last = comm_.get() ? ncclGetLastError(comm_.get()) : ncclGetLastError(nullptr);
    std::string detail = last && *last ? last : ncclGetErrorString(rc);
    fail(nccl::format_error({call, nccl::nccl_result_name(rc), detail, rank(), device_}));
  }

  void cuda_check(cudaError_t rc, const std::string& call) {
    if (rc == cudaSuccess) return;
    fail(nccl::format_error({call, nccl::cuda_error_name(rc), cudaGetErrorString(rc), rank(), device_}));
  }

  void timeout(const char* call) {
    fail(
        fmt::format("rank {} (cuda:{}): NCCL {} did not complete within {:.0f} s (cluster.timeout_s): a peer rank "
                    "is gone or stuck",
                    rank(), device_, call, timeout_s_));
  }

  // Non-blocking NCCL: a call may return ncclInProgress; the communicator is
  // usable for the next call only once its async state leaves that.
  void wait_comm_ready(const char* call) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s_);
    while (true) {
      ncclResult_t state = ncclSuccess;
      nccl_check(ncclCommGetAsyncError(comm_.get(), &state), "ncclCommGetAsyncError");
      if (state == ncclSuccess) return;
      if (state != ncclInProgress) nccl_check(state, call);
      if (std::chrono::steady_clock::now() > deadline) timeout(call);
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

  void enqueue(ncclResult_t rc, const char* call) {
    nccl_check(rc, call);
    wait_comm_ready(call);
  }

  // Polls the NCCL stream to idle, watching NCCL's async error, with the deadline.
  void wait_stream(const char* call) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s_);
    while (true) {
      const cudaError_t q = cudaStreamQuery(stream_.get());
      if (q == cudaSuccess) return;
      if (q != cudaErrorNotReady) cuda_check(q, fmt::format("cudaStreamQuery after {}", call));
      ncclResult_t state = ncclSuccess;
      nccl_check(ncclCommGetAsyncError(comm_.get(), &state), "ncclCommGetAsyncError");
      if (state != ncclSuccess && state != ncclInProgress) nccl_check(state, call);
      if (std::chrono::steady_clock::now() > deadline) timeout(call);
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }

  Communicator& bootstrap_;
  const int device_;
  const double timeout_s_;
  // Declared before the CUDA handles so it is destroyed after them.
  NcclCommHandle comm_;
  CudaStreamHandle stream_;
  CudaEventHandle produced_;
  DeviceMemory staging_;
  size_t staging_bytes_ = 0;
  bool poisoned_ = false;
  std::string first_failure_;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(Communicator& bootstrap, int device, double timeout_s) {
  return std::make_unique<NcclCommunicator>(bootstrap, device, timeout_s);
}

bool nccl_available() { return true; }

}  // namespace llmsrec::cluster
