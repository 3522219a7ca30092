#include "cluster/nccl_rules.h"

#include <ATen/ATen.h>

#include <fmt/format.h>

namespace llmsrec::cluster::nccl {
namespace {

// c10::toString names of the dtypes NCCL reduces, in the order of DType.
struct DTypeRow {
  const char* torch_name;
  DType type;
  const char* nccl_name;
};
constexpr DTypeRow kDTypes[] = {
    {"Float", DType::kFloat32, "ncclFloat32"}, {"Double", DType::kFloat64, "ncclFloat64"},
    {"Half", DType::kFloat16, "ncclFloat16"},  {"BFloat16", DType::kBFloat16, "ncclBfloat16"},
    {"Int", DType::kInt32, "ncclInt32"},       {"Long", DType::kInt64, "ncclInt64"},
};
constexpr const char* kSupported = "float32, float64, float16, bfloat16, int32, int64";

TensorPlan reject(std::string reason) {
  TensorPlan p;
  p.action = Action::kReject;
  p.reason = std::move(reason);
  return p;
}

}  // namespace

TensorFacts facts_of(const at::Tensor& t) {
  TensorFacts f;
  f.defined = t.defined();
  if (!f.defined) return f;
  f.place = t.is_cuda() ? Place::kCuda : (t.device().is_cpu() ? Place::kHost : Place::kOther);
  f.device_index = t.is_cuda() ? t.device().index() : -1;
  f.dtype = c10::toString(t.scalar_type());
  f.contiguous = t.is_contiguous();
  return f;
}

std::optional<DType> nccl_dtype(const std::string& torch_dtype) {
  for (const auto& row : kDTypes) {
    if (torch_dtype == row.torch_name) return row.type;
  }
  return std::nullopt;
}

const char* nccl_dtype_name(DType t) {
  for (const auto& row : kDTypes) {
    if (row.type == t) return row.nccl_name;
  }
  return "?";
}

bool is_integer(DType t) { return t == DType::kInt32 || t == DType::kInt64; }

RedOp nccl_red_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return RedOp::kSum;
    case ReduceOp::kAverage:
      return RedOp::kAvg;
    case ReduceOp::kMax:
      return RedOp::kMax;
    case ReduceOp::kMin:
      return RedOp::kMin;
  }
  return RedOp::kSum;
}

const char* nccl_red_op_name(RedOp op) {
  switch (op) {
    case RedOp::kSum:
      return "ncclSum";
    case RedOp::kAvg:
      return "ncclAvg";
    case RedOp::kMax:
      return "ncclMax";
    case RedOp::kMin:
      return "ncclMin";
  }
  return "?";
}

TensorPlan plan_tensor(const TensorFacts& f, std::optional<ReduceOp> op, int comm_device, const std::string& call) {
  const std::string where = fmt::format("NCCL {} (communicator on cuda:{})", call, comm_device);
  if (!f.defined) return reject(fmt::format("{}: expected a defined tensor, got an undefined one", where));
  if (f.place == Place::kOther) {
    return reject(fmt::format("{}: expected a CUDA or host (CPU) tensor, got one on another device type", where));
  }
  const std::optional<DType> dtype = nccl_dtype(f.dtype);
  if (!dtype) return reject(fmt::format("{}: unsupported dtype {} (supported: {})", where, f.dtype, kSupported));
  if (!f.contiguous) {
    return reject(
        fmt::format("{}: expected a contiguous tensor, got a non-contiguous one (call .contiguous())", where));
  }
  if (op == ReduceOp::kAverage && is_integer(*dtype)) {
    return reject(fmt::format("{}: average needs a floating-point tensor, got {}", where, f.dtype));
  }
  if (f.place == Place::kCuda && f.device_index != comm_device) {
    return reject(fmt::format("{}: expected a tensor on cuda:{} or on the host, got one on cuda:{}", where, comm_device,
                              f.device_index));
  }
  TensorPlan p;
  p.dtype = *dtype;
  if (f.place == Place::kCuda) {
    p.action = Action::kInPlace;
    p.wait_for_producer = true;
  } else {
    p.action = Action::kStageThroughDevice;
    p.wait_for_producer = false;
  }
  return p;
}

StreamOrder stream_order(bool torch_cuda_at_build) {
  return torch_cuda_at_build ? StreamOrder::kTorchCurrentStreamEvent : StreamOrder::kLegacyDefaultStreamEvent;
}

const char* stream_order_name(StreamOrder s) {
  switch (s) {
    case StreamOrder::kTorchCurrentStreamEvent:
      return "event on torch's current CUDA stream";
    case StreamOrder::kLegacyDefaultStreamEvent:
      return "event on the legacy default CUDA stream";
  }
  return "?";
}

std::string nccl_result_name(int code) {
  // Values of ncclResult_t in nccl.h (stable since NCCL 2.14; checked against
  // the real enum in nccl_rules_test when built with NCCL).
  switch (code) {
    case 0:
      return "ncclSuccess";
    case 1:
      return "ncclUnhandledCudaError";
    case 2:
      return "ncclSystemError";
    case 3:
      return "ncclInternalError";
    case 4:
      return "ncclInvalidArgument";
    case 5:
      return "ncclInvalidUsage";
    case 6:
      return "ncclRemoteError";
    case 7:
      return "ncclInProgress";
  }
  return fmt::format("unknown ncclResult_t {}", code);
}

std::string format_error(const ErrorContext& e) {
  return fmt::format("rank {} (cuda:{}): {} failed with {}{}{}", e.rank, e.device, e.call, e.code_name,
                     e.detail.empty() ? "" : ": ", e.detail);
}

std::string format_poisoned(int rank, int device, const std::string& first_failure) {
  return fmt::format("rank {} (cuda:{}): NCCL communicator was aborted and cannot be used; first failure: {}", rank,
                     device, first_failure);
}

}  // namespace llmsrec::cluster::nccl
