// The GPU-free rules of the NCCL backend (cluster/nccl_rules.h): what happens
// to each kind of tensor, the stream-order strategy, the dtype and reduce-op
// tables, and the error wording. With LLMSREC_WITH_NCCL, the name tables are
// also checked against the real ncclResult_t / cudaError_t values.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "cluster/nccl_rules.h"

#ifdef LLMSREC_WITH_NCCL
#include <cuda_runtime.h>
#include <nccl.h>
#endif

using namespace llmsrec::cluster;
using nccl::Action;
using nccl::Place;

namespace {

nccl::TensorFacts facts(Place place, int device, std::string dtype, bool contiguous = true) {
  nccl::TensorFacts f;
  f.defined = true;
  f.place = place;
  f.device_index = device;
  f.dtype = std::move(dtype);
  f.contiguous = contiguous;
  return f;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(NcclRules, DeviceTensorOnTheCommDeviceIsReducedInPlaceAfterItsProducer) {
  const auto plan = nccl::plan_tensor(facts(Place::kCuda, 1, "Float"), ReduceOp::kSum, 1, "allreduce");
  EXPECT_EQ(plan.action, Action::kInPlace);
  EXPECT_EQ(plan.dtype, nccl::DType::kFloat32);
  EXPECT_TRUE(plan.wait_for_producer);
  EXPECT_TRUE(plan.reason.empty()) << plan.reason;
}

TEST(NcclRules, HostTensorIsStagedThroughTheDeviceWithoutWaitingOnAStream) {
  for (const char* dtype : {"Float", "Double", "Half", "BFloat16", "Int", "Long"}) {
    const auto plan = nccl::plan_tensor(facts(Place::kHost, -1, dtype), ReduceOp::kSum, 0, "allreduce");
    EXPECT_EQ(plan.action, Action::kStageThroughDevice) << dtype << ": " << plan.reason;
    EXPECT_FALSE(plan.wait_for_producer) << dtype;
  }
  // Broadcast and allgather (no reduction) stage the same way.
  EXPECT_EQ(nccl::plan_tensor(facts(Place::kHost, -1, "Long"), std::nullopt, 0, "broadcast").action,
            Action::kStageThroughDevice);
}

TEST(NcclRules, TensorOnAnotherCudaDeviceIsRejectedNamingBothDevices) {
  const auto plan = nccl::plan_tensor(facts(Place::kCuda, 0, "Float"), ReduceOp::kSum, 3, "allreduce");
  EXPECT_EQ(plan.action, Action::kReject);
  EXPECT_TRUE(has(plan.reason, "expected a tensor on cuda:3")) << plan.reason;
  EXPECT_TRUE(has(plan.reason, "got one on cuda:0")) << plan.reason;
  EXPECT_TRUE(has(plan.reason, "NCCL allreduce")) << plan.reason;
}

TEST(NcclRules, UnsupportedDtypeIsRejectedNamingItAndTheSupportedOnes) {
  for (Place place : {Place::kCuda, Place::kHost}) {
    const int device = place == Place::kCuda ? 0 : -1;
    for (const char* dtype : {"ComplexFloat", "Bool", "Byte", "Char", "Short", "Float8_e4m3fn"}) {
      const auto plan = nccl::plan_tensor(facts(place, device, dtype), ReduceOp::kSum, 0, "allreduce");
      EXPECT_EQ(plan.action, Action::kReject) << dtype;
      EXPECT_TRUE(has(plan.reason, std::string("unsupported dtype ") + dtype)) << plan.reason;
      EXPECT_TRUE(has(plan.reason, "bfloat16")) << plan.reason;
    }
  }
}

TEST(NcclRules, NonContiguousTensorIsRejectedOnDeviceAndHost) {
  for (Place place : {Place::kCuda, Place::kHost}) {
    const auto plan =
        nccl::plan_tensor(facts(place, place == Place::kCuda ? 0 : -1, "Float", false), std::nullopt, 0, "allgather");
    EXPECT_EQ(plan.action, Action::kReject);
    EXPECT_TRUE(has(plan.reason, "expected a contiguous tensor")) << plan.reason;
    EXPECT_TRUE(has(plan.reason, "NCCL allgather")) << plan.reason;
  }
}

TEST(NcclRules, UndefinedAndOtherDeviceTypesAreRejected) {
  nccl::TensorFacts undefined;
  EXPECT_EQ(nccl::plan_tensor(undefined, ReduceOp::kSum, 0, "allreduce").action, Action::kReject);
  EXPECT_TRUE(has(nccl::plan_tensor(undefined, ReduceOp::kSum, 0, "allreduce").reason, "undefined"));
  const auto other = nccl::plan_tensor(facts(Place::kOther, -1, "Float"), ReduceOp::kSum, 0, "allreduce");
  EXPECT_EQ(other.action, Action::kReject);
  EXPECT_TRUE(has(other.reason, "expected a CUDA or host (CPU) tensor")) << other.reason;
}

TEST(NcclRules, AverageOfIntegersIsRejectedLikeTheMpiBackend) {
  for (const char* dtype : {"Int", "Long"}) {
    const auto plan = nccl::plan_tensor(facts(Place::kCuda, 0, dtype), ReduceOp::kAverage, 0, "allreduce");
    EXPECT_EQ(plan.action, Action::kReject) << dtype;
    EXPECT_TRUE(has(plan.reason, "average needs a floating-point tensor")) << plan.reason;
    // Sum, max and min of integers are fine.
    for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kMax, ReduceOp::kMin}) {
      EXPECT_EQ(nccl::plan_tensor(facts(Place::kCuda, 0, dtype), op, 0, "allreduce").action, Action::kInPlace);
    }
  }
  EXPECT_EQ(nccl::plan_tensor(facts(Place::kHost, -1, "BFloat16"), ReduceOp::kAverage, 0, "allreduce").action,
            Action::kStageThroughDevice);
}

TEST(NcclRules, FactsOfRealTensorsGiveTheSamePlanAsTheirDescription) {
  const at::Tensor grads = at::ones({4, 3}, at::kFloat);
  const auto f = nccl::facts_of(grads);
  EXPECT_TRUE(f.defined);
  EXPECT_EQ(f.place, Place::kHost);
  EXPECT_EQ(f.device_index, -1);
  EXPECT_EQ(f.dtype, "Float");
  EXPECT_TRUE(f.contiguous);
  EXPECT_EQ(nccl::plan_tensor(f, ReduceOp::kAverage, 0, "allreduce").action, Action::kStageThroughDevice);

  EXPECT_EQ(nccl::facts_of(at::ones({2}, at::kBFloat16)).dtype, "BFloat16");
  EXPECT_EQ(nccl::facts_of(at::ones({2}, at::kHalf)).dtype, "Half");
  EXPECT_EQ(nccl::facts_of(at::ones({2}, at::kDouble)).dtype, "Double");
  EXPECT_EQ(nccl::facts_of(at::ones({2}, at::kInt)).dtype, "Int");
  EXPECT_EQ(nccl::facts_of(at::ones({2}, at::kLong)).dtype, "Long");
  EXPECT_FALSE(nccl::facts_of(grads.t()).contiguous);
  EXPECT_EQ(nccl::plan_tensor(nccl::facts_of(grads.t()), ReduceOp::kSum, 0, "allreduce").action, Action::kReject);
  EXPECT_EQ(nccl::plan_tensor(nccl::facts_of(at::ones({2}, at::kComplexFloat)), ReduceOp::kSum, 0, "allreduce").action,
            Action::kReject);
  EXPECT_FALSE(nccl::facts_of(at::Tensor()).defined);
}

TEST(NcclRules, DtypeTable) {
  EXPECT_EQ(nccl::nccl_dtype("Float"), nccl::DType::kFloat32);
  EXPECT_EQ(nccl::nccl_dtype("Double"), nccl::DType::kFloat64);
  EXPECT_EQ(nccl::nccl_dtype("Half"), nccl::DType::kFloat16);
  EXPECT_EQ(nccl::nccl_dtype("BFloat16"), nccl::DType::kBFloat16);
  EXPECT_EQ(nccl::nccl_dtype("Int"), nccl::DType::kInt32);
  EXPECT_EQ(nccl::nccl_dtype("Long"), nccl::DType::kInt64);
  EXPECT_EQ(nccl::nccl_dtype("float"), std::nullopt);  // c10::toString names only
  EXPECT_STREQ(nccl::nccl_dtype_name(nccl::DType::kFloat32), "ncclFloat32");
  EXPECT_STREQ(nccl::nccl_dtype_name(nccl::DType::kBFloat16), "ncclBfloat16");
  EXPECT_STREQ(nccl::nccl_dtype_name(nccl::DType::kInt64), "ncclInt64");
  EXPECT_TRUE(nccl::is_integer(nccl::DType::kInt32));
  EXPECT_FALSE(nccl::is_integer(nccl::DType::kFloat16));
}

TEST(NcclRules, ReduceOpTable) {
  EXPECT_EQ(nccl::nccl_red_op(ReduceOp::kSum), nccl::RedOp::kSum);
  EXPECT_EQ(nccl::nccl_red_op(ReduceOp::kAverage), nccl::RedOp::kAvg);  // NCCL averages itself (>= 2.10)
  EXPECT_EQ(nccl::nccl_red_op(ReduceOp::kMax), nccl::RedOp::kMax);
  EXPECT_EQ(nccl::nccl_red_op(ReduceOp::kMin), nccl::RedOp::kMin);
  EXPECT_STREQ(nccl::nccl_red_op_name(nccl::RedOp::kAvg), "ncclAvg");
  EXPECT_STREQ(nccl::nccl_red_op_name(nccl::RedOp::kMin), "ncclMin");
}

TEST(NcclRules, StreamOrderFollowsTorchOnlyWithACudaTorchBuild) {
  EXPECT_EQ(nccl::stream_order(true), nccl::StreamOrder::kTorchCurrentStreamEvent);
  EXPECT_EQ(nccl::stream_order(false), nccl::StreamOrder::kLegacyDefaultStreamEvent);
  EXPECT_TRUE(has(nccl::stream_order_name(nccl::StreamOrder::kLegacyDefaultStreamEvent), "legacy default"));
}

TEST(NcclRules, ResultNamesAreNamesNotNumbers) {
  EXPECT_EQ(nccl::nccl_result_name(0), "ncclSuccess");
  EXPECT_EQ(nccl::nccl_result_name(1), "ncclUnhandledCudaError");
  EXPECT_EQ(nccl::nccl_result_name(2), "ncclSystemError");
  EXPECT_EQ(nccl::nccl_result_name(3), "ncclInternalError");
  EXPECT_EQ(nccl::nccl_result_name(4), "ncclInvalidArgument");
  EXPECT_EQ(nccl::nccl_result_name(5), "ncclInvalidUsage");
  EXPECT_EQ(nccl::nccl_result_name(6), "ncclRemoteError");
  EXPECT_EQ(nccl::nccl_result_name(7), "ncclInProgress");
  EXPECT_EQ(nccl::nccl_result_name(42), "unknown ncclResult_t 42");
}

TEST(NcclRules, ErrorMessageNamesCallCodeDetailRankAndDevice) {
  const std::string m =
      nccl::format_error({"ncclAllReduce", "ncclUnhandledCudaError", "Cuda failure 'out of memory'", 3, 1});
  EXPECT_EQ(m, "rank 3 (cuda:1): ncclAllReduce failed with ncclUnhandledCudaError: Cuda failure 'out of memory'");
  EXPECT_EQ(nccl::format_error({"cudaSetDevice(2)", "cudaErrorInvalidDevice", "", 0, 2}),
            "rank 0 (cuda:2): cudaSetDevice(2) failed with cudaErrorInvalidDevice");
  const std::string p = nccl::format_poisoned(5, 1, m);
  EXPECT_TRUE(has(p, "rank 5 (cuda:1)")) << p;
  EXPECT_TRUE(has(p, "first failure: " + m)) << p;
}

#ifdef LLMSREC_WITH_NCCL
TEST(NcclRules, RealNcclResultCodesMapToTheirNames) {
  EXPECT_EQ(nccl::nccl_result_name(ncclSuccess), "ncclSuccess");
  EXPECT_EQ(nccl::nccl_result_name(ncclUnhandledCudaError), "ncclUnhandledCudaError");
  EXPECT_EQ(nccl::nccl_result_name(ncclSystemError), "ncclSystemError");
  EXPECT_EQ(nccl::nccl_result_name(ncclInternalError), "ncclInternalError");
  EXPECT_EQ(nccl::nccl_result_name(ncclInvalidArgument), "ncclInvalidArgument");
  EXPECT_EQ(nccl::nccl_result_name(ncclInvalidUsage), "ncclInvalidUsage");
  EXPECT_EQ(nccl::nccl_result_name(ncclRemoteError), "ncclRemoteError");
  EXPECT_EQ(nccl::nccl_result_name(ncclInProgress), "ncclInProgress");
  // A newer NCCL with more codes must extend the table (names, never numbers).
  EXPECT_EQ(static_cast<int>(ncclNumResults), 8) << "nccl.h has result codes this table does not name";
}

TEST(NcclRules, RealCudaErrorCodesMapToTheirNames) {
  // cudaGetErrorName needs no GPU; the backend uses it for every CUDA failure.
  EXPECT_EQ(nccl::cuda_error_name(cudaSuccess), "cudaSuccess");
  EXPECT_EQ(nccl::cuda_error_name(cudaErrorMemoryAllocation), "cudaErrorMemoryAllocation");
  EXPECT_EQ(nccl::cuda_error_name(cudaErrorInvalidDevice), "cudaErrorInvalidDevice");
  EXPECT_EQ(nccl::cuda_error_name(cudaErrorNoDevice), "cudaErrorNoDevice");
  EXPECT_EQ(nccl::cuda_error_name(cudaErrorIllegalAddress), "cudaErrorIllegalAddress");
  EXPECT_EQ(nccl::cuda_error_name(cudaErrorNotReady), "cudaErrorNotReady");
}
#endif
