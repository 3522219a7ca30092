// World size 1: collectives are identities, so single-process runs share every
// code path with distributed ones.
#include <ATen/ATen.h>

#include <cstring>

#include "cluster/communicator.h"

namespace llmsrec::cluster {
namespace {

class LocalCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "local"; }
  void allreduce(at::Tensor&, ReduceOp) override {}
  void broadcast(at::Tensor&, int) override {}
  at::Tensor allgather(const at::Tensor& t) override { return t.unsqueeze(0).clone(); }
  void barrier() override {}
  void allreduce(double*, int64_t, ReduceOp) override {}
  void allreduce(int64_t*, int64_t, ReduceOp) override {}
  void allgather_bytes(const void* data, int64_t bytes, void* out) override {
    std::memcpy(out, data, static_cast<size_t>(bytes));
  }
  void broadcast_bytes(void*, int64_t, int) override {}
};

}  // namespace

std::unique_ptr<Communicator> make_local_communicator() { return std::make_unique<LocalCommunicator>(); }

}  // namespace llmsrec::cluster
