// One staging rule in one place: GradientFusion hands its host fusion buffer to
// an NCCL communicator unchanged (the communicator stages it, see
// communicator.h), and nccl_rules says that buffer is staged, not rejected.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cstring>

#include "cluster/gradient_fusion.h"
#include "cluster/nccl_rules.h"

using namespace llmsrec::cluster;

namespace {

// Looks like the NCCL backend to its callers; records what allreduce received
// and doubles it (a 2-rank sum of equal gradients).
class RecordingNcclComm final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  std::string backend() const override { return "nccl"; }
  void allreduce(at::Tensor& t, ReduceOp op) override {
    ++calls;
    device = t.device();
    numel = t.numel();
    plan = nccl::plan_tensor(nccl::facts_of(t), op, /*comm_device=*/0, "allreduce");
    t.mul_(2);
  }
  void broadcast(at::Tensor&, int) override {}
  at::Tensor allgather(const at::Tensor& t) override { return t.unsqueeze(0); }
  void barrier() override {}
  void allreduce(double*, int64_t, ReduceOp) override {}
  void allreduce(int64_t*, int64_t, ReduceOp) override {}
  void allgather_bytes(const void* d, int64_t b, void* out) override { std::memcpy(out, d, b); }
  void broadcast_bytes(void*, int64_t, int) override {}

  int calls = 0;
  c10::Device device = c10::Device(c10::kCPU);
  int64_t numel = 0;
  nccl::TensorPlan plan;
};

}  // namespace

TEST(NcclStaging, GradientFusionPassesItsHostBufferToTheNcclCommunicatorUnstaged) {
  at::Tensor w = at::ones({2, 3}, at::kFloat).requires_grad_(true);
  at::Tensor b = at::ones({4}, at::kFloat).requires_grad_(true);
  (w.sum() * 3 + b.sum()).backward();  // w.grad = 3, b.grad = 1
  GradientFusion fusion({w, b});
  RecordingNcclComm comm;
  fusion.allreduce(comm, ReduceOp::kSum);

  EXPECT_EQ(comm.calls, 1) << "one collective per step";
  EXPECT_TRUE(comm.device.is_cpu()) << "GradientFusion staged the buffer itself (to " << comm.device
                                    << "); staging belongs to the NCCL communicator";
  EXPECT_EQ(comm.numel, 10);
  EXPECT_EQ(comm.plan.action, nccl::Action::kStageThroughDevice) << comm.plan.reason;
  EXPECT_TRUE(at::equal(w.grad(), at::full({2, 3}, 6.0f))) << w.grad();
  EXPECT_TRUE(at::equal(b.grad(), at::full({4}, 2.0f))) << b.grad();
}
