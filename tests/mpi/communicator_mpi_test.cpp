// Real ranks (mpirun -n 2): every collective of the MPI backend, and the
// deadline that turns a missing rank into CommError instead of a hang.
#include <ATen/ATen.h>

#include <chrono>
#include <thread>

#include "core/error.h"
#include "mpi_main.h"

using llmsrec::cluster::ReduceOp;

namespace {

std::unique_ptr<llmsrec::cluster::Communicator> world(double timeout_s = 60) {
  return llmsrec::cluster::make_mpi_communicator(*llmsrec::testing::g_mpi, timeout_s);
}

TEST(MpiCommunicator, RankAndSizeMatchTheLaunch) {
  auto comm = world();
  EXPECT_EQ(comm->size(), 2);
  EXPECT_EQ(comm->rank(), llmsrec::testing::g_mpi->world_rank());
  EXPECT_EQ(llmsrec::testing::g_mpi->local_size(), 2);  // both ranks on this node
  EXPECT_EQ(comm->backend(), "mpi");
}

TEST(MpiCommunicator, AllreduceSumAverageMax) {
  auto comm = world();
  const float r = static_cast<float>(comm->rank());
  at::Tensor t = at::tensor({1.0f + r, 10.0f * (r + 1), -r});
  comm->allreduce(t, ReduceOp::kSum);
  EXPECT_FLOAT_EQ(t[0].item<float>(), 3.0f);
  EXPECT_FLOAT_EQ(t[1].item<float>(), 30.0f);
  EXPECT_FLOAT_EQ(t[2].item<float>(), -1.0f);

  at::Tensor a = at::full({4}, r + 1.0, at::kDouble);
  comm->allreduce(a, ReduceOp::kAverage);
  EXPECT_DOUBLE_EQ(a[3].item<double>(), 1.5);

  at::Tensor m = at::tensor({static_cast<int64_t>(comm->rank() * 7)});
  comm->allreduce(m, ReduceOp::kMax);
  EXPECT_EQ(m.item<int64_t>(), 7);
}

TEST(MpiCommunicator, HostBuffers) {
  auto comm = world();
  double d[2] = {1.0, static_cast<double>(comm->rank())};
  comm->allreduce(d, 2, ReduceOp::kSum);
  EXPECT_DOUBLE_EQ(d[0], 2.0);
  EXPECT_DOUBLE_EQ(d[1], 1.0);
  int64_t i[1] = {comm->rank() == 0 ? 5 : 3};
  comm->allreduce(i, 1, ReduceOp::kMin);
  EXPECT_EQ(i[0], 3);
  uint64_t mine = 0xabc0 + comm->rank(), all[2] = {0, 0};
  comm->allgather_bytes(&mine, sizeof(mine), all);
  EXPECT_EQ(all[0], 0xabc0u);
  EXPECT_EQ(all[1], 0xabc1u);
  char text[6] = {0};
  if (comm->rank() == 1) std::snprintf(text, sizeof(text), "hello");
  comm->broadcast_bytes(text, sizeof(text), 1);
  EXPECT_STREQ(text, "hello");
}

TEST(MpiCommunicator, BroadcastAndAllgatherTensors) {
  auto comm = world();
  at::Tensor b = comm->rank() == 1 ? at::arange(6, at::kFloat).reshape({2, 3}) : at::zeros({2, 3}, at::kFloat);
  comm->broadcast(b, 1);
  EXPECT_FLOAT_EQ(b[1][2].item<float>(), 5.0f);

  at::Tensor g = at::full({3}, static_cast<float>(comm->rank() + 1));
  at::Tensor all = comm->allgather(g);
  ASSERT_EQ(all.sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_FLOAT_EQ(all[0][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(all[1][2].item<float>(), 2.0f);
}

TEST(MpiCommunicator, RejectsUnsupportedInput) {
  auto comm = world();
  at::Tensor h = at::zeros({2}, at::kHalf);
  EXPECT_THROW(comm->allreduce(h, ReduceOp::kSum), llmsrec::ShapeError);
  at::Tensor nc = at::zeros({4, 4}).t();
  EXPECT_THROW(comm->allreduce(nc, ReduceOp::kSum), llmsrec::ShapeError);
  comm->barrier();
}

TEST(MpiCommunicator, MissingRankTimesOutInsteadOfHanging) {
  auto comm = world(/*timeout_s=*/1.0);
  if (comm->rank() == 0) {
    auto start = std::chrono::steady_clock::now();
    try {
      comm->barrier();
      ADD_FAILURE() << "barrier completed although rank 1 had not joined";
    } catch (const llmsrec::CommError& e) {
      double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      EXPECT_GE(waited, 0.9);
      EXPECT_LT(waited, 2.5);
      EXPECT_NE(std::string(e.what()).find("barrier did not complete within 1 s"), std::string::npos) << e.what();
    }
    // The communicator is poisoned: no silent reuse after a timeout.
    EXPECT_THROW(comm->barrier(), llmsrec::CommError);
  } else {
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    comm->barrier();  // joins late; completes against rank 0's abandoned request
  }
  // Both ranks meet again on a fresh communicator.
  world()->barrier();
}

}  // namespace
