// The decisions of the NCCL backend that need no GPU, kept apart from the CUDA
// calls (cluster/communicator_nccl.cpp) so they compile everywhere and are unit
// tested on CPU machines: what to do with the tensor a caller hands over, how
// the NCCL stream is ordered after the stream that produced it, the dtype and
// reduce-op tables, and the wording of every error.
//
//   nccl::TensorPlan plan = nccl::plan_tensor(nccl::facts_of(grad), ReduceOp::kSum, /*comm_device=*/0, "allreduce");
//   if (plan.action == nccl::Action::kReject) throw ShapeError(plan.reason);
//   // plan.action == kStageThroughDevice: copy to the device, reduce, copy back
//
// Header without CUDA, NCCL or torch includes: tensors are described by plain
// facts (TensorFacts), codes by their integer values.
#pragma once

#include <optional>
#include <string>

#include "cluster/communicator.h"

namespace llmsrec::cluster::nccl {

// Where a tensor's memory lives, as far as NCCL cares.
enum class Place { kCuda, kHost, kOther };

// What the communicator is told about a tensor (from at::Tensor in the backend).
struct TensorFacts {
  bool defined = false;
  Place place = Place::kHost;
  int device_index = -1;  // CUDA ordinal when place == kCuda, else -1
  std::string dtype;      // c10::toString(scalar_type): "Float", "BFloat16", "Long", ...
  bool contiguous = true;
};
// The facts of a real tensor (reads only metadata; no device access).
TensorFacts facts_of(const at::Tensor& t);

enum class Action {
  kInPlace,             // CUDA tensor on the communicator's device: NCCL works on its memory
  kStageThroughDevice,  // host tensor: copy into a device buffer, collective, copy back
  kReject,              // ShapeError with `reason`
};

// The NCCL element types the backend uses (values are not NCCL's: see nccl_dtype_name).
enum class DType { kFloat32, kFloat64, kFloat16, kBFloat16, kInt32, kInt64 };
enum class RedOp { kSum, kAvg, kMax, kMin };

struct TensorPlan {
  Action action = Action::kReject;
  DType dtype = DType::kFloat32;  // meaningful unless rejected
  // True when NCCL must be ordered after the stream that produced the tensor
  // (device memory written by kernels); a host tensor is complete already.
  bool wait_for_producer = false;
  std::string reason;  // why rejected, naming what was expected and found
};

// The rule of the NCCL backend for tensor collectives (communicator.h):
//  - undefined tensor, dtype outside float32/float64/float16/bfloat16/int32/
//    int64, non-contiguous tensor, a device other than CUDA or host: rejected;
//  - CUDA tensor on another device than `comm_device`: rejected (a silent
//    cross-device copy would hide a wrong device assignment);
//  - kAverage of an integer dtype: rejected (same rule as the MPI backend);
//  - CUDA tensor on `comm_device`: in place, after the producing stream;
//  - host tensor: staged through `comm_device`.
// `op` is nullopt for collectives without a reduction (broadcast, allgather).
// `call` names the collective in messages ("allreduce").
TensorPlan plan_tensor(const TensorFacts& facts, std::optional<ReduceOp> op, int comm_device, const std::string& call);

// c10::toString name -> NCCL type; nullopt when NCCL has no such type here.
std::optional<DType> nccl_dtype(const std::string& torch_dtype);
const char* nccl_dtype_name(DType t);  // "ncclFloat32", ...
bool is_integer(DType t);
RedOp nccl_red_op(ReduceOp op);
const char* nccl_red_op_name(RedOp op);  // "ncclSum", ...

// How NCCL's private stream is ordered after the producer of a device tensor.
enum class StreamOrder {
  // Record an event on c10::cuda::getCurrentCUDAStream(device), the stream
  // torch enqueued the producing kernels on, and make the NCCL stream wait.
  kTorchCurrentStreamEvent,
  // No CUDA torch at build time: record an event on the legacy default stream
  // (where a torch without custom streams runs) and make the NCCL stream wait.
  kLegacyDefaultStreamEvent,
};
// `torch_cuda_at_build`: the CUDA stream headers of libtorch were included and
// libtorch links c10_cuda (LLMSREC_TORCH_CUDA).
StreamOrder stream_order(bool torch_cuda_at_build);
const char* stream_order_name(StreamOrder s);

// Name of an ncclResult_t value ("ncclUnhandledCudaError"); values unknown to
// this table (a newer NCCL) read "unknown ncclResult_t <n>".
std::string nccl_result_name(int code);

// Everything a CommError of the NCCL backend says.
struct ErrorContext {
  std::string call;       // "ncclAllReduce", "cudaStreamQuery"
  std::string code_name;  // "ncclUnhandledCudaError", "cudaErrorIllegalAddress"
  std::string detail;     // ncclGetLastError / cudaGetErrorString text; may be empty
  int rank = -1;
  int device = -1;
};
// "rank 3 (cuda:3): ncclAllReduce failed with ncclUnhandledCudaError: <detail>"
std::string format_error(const ErrorContext& e);
// Message of every call after the communicator was aborted.
std::string format_poisoned(int rank, int device, const std::string& first_failure);

#ifdef LLMSREC_WITH_NCCL
// Name the CUDA runtime gives a cudaError_t value (cudaGetErrorName). Defined in
// communicator_nccl.cpp because it needs libcudart; works without a GPU.
std::string cuda_error_name(int code);
#endif

}  // namespace llmsrec::cluster::nccl
