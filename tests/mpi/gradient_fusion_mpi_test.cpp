// Real ranks: one fused allreduce gives every rank the sum of all ranks'
// gradients, and replica checks catch diverged parameters.
#include <ATen/ATen.h>

#include "cluster/gradient_fusion.h"
#include "core/error.h"
#include "mpi_main.h"

namespace {

std::unique_ptr<llmsrec::cluster::Communicator> world() {
  return llmsrec::cluster::make_mpi_communicator(*llmsrec::testing::g_mpi, 60);
}

TEST(GradientFusion, SumsEveryGradientInOneBuffer) {
  auto comm = world();
  const float r = static_cast<float>(comm->rank());
  at::Tensor a = at::zeros({2, 3}).requires_grad_(true);
  at::Tensor b = at::zeros({4}).requires_grad_(true);
  at::Tensor unused = at::zeros({2}).requires_grad_(true);  // no grad on rank 0 this step
  a.mutable_grad() = at::full({2, 3}, r + 1);
  b.mutable_grad() = at::arange(4, at::kFloat) * (r + 1);
  if (comm->rank() == 1) unused.mutable_grad() = at::ones({2});
  llmsrec::cluster::GradientFusion fusion({a, b, unused});
  EXPECT_EQ(fusion.numel(), 12);
  fusion.allreduce(*comm, llmsrec::cluster::ReduceOp::kSum);
  EXPECT_TRUE(at::allclose(a.grad(), at::full({2, 3}, 3.0f)));
  EXPECT_TRUE(at::allclose(b.grad(), at::arange(4, at::kFloat) * 3));
  ASSERT_TRUE(unused.grad().defined());
  EXPECT_TRUE(at::allclose(unused.grad(), at::ones({2})));
}

TEST(GradientFusion, ReplicaCheckNamesTheDivergedRank) {
  auto comm = world();
  at::Tensor p = at::ones({8});
  llmsrec::cluster::require_identical_across_ranks(*comm, llmsrec::cluster::parameter_hash({p}), "parameters");
  if (comm->rank() == 1) p[3] = 1.0000001f;
  try {
    llmsrec::cluster::require_identical_across_ranks(*comm, llmsrec::cluster::parameter_hash({p}), "parameters");
    ADD_FAILURE() << "diverged replicas were not detected";
  } catch (const llmsrec::CommError& e) {
    EXPECT_NE(std::string(e.what()).find("rank(s) 1 disagree"), std::string::npos) << e.what();
  }
}

}  // namespace
