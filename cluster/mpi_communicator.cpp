// MPI backend: CPU tensors and host buffers, over a duplicate of MPI_COMM_WORLD.
// Collectives are non-blocking MPI calls completed by a polling wait with a
// deadline, so a rank that never joins yields CommError instead of a hang.
#include <mpi.h>

#include <ATen/ATen.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "cluster/mpi_runtime.h"
#include "core/error.h"

namespace llmsrec::cluster {
namespace {

MPI_Datatype mpi_type(at::ScalarType t, const char* op) {
  switch (t) {
    case at::kFloat: return MPI_FLOAT;
    case at::kDouble: return MPI_DOUBLE;
    case at::kInt: return MPI_INT32_T;
    case at::kLong: return MPI_INT64_T;
    default:
      throw ShapeError(fmt::format("MPI {}: unsupported tensor dtype {} (use float32/float64/int32/int64)", op,
                                   c10::toString(t)));
  }
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
    case ReduceOp::kAverage: return MPI_SUM;  // average = sum / size, applied after
    case ReduceOp::kMax: return MPI_MAX;
    case ReduceOp::kMin: return MPI_MIN;
  }
  return MPI_SUM;
}

std::string mpi_error_string(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  return std::string(text, static_cast<size_t>(len));
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(double timeout_s) : timeout_s_(timeout_s) {
    check(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  ~MpiCommunicator() override {
    // Freeing a communicator with a collective still pending is erroneous;
    // a poisoned communicator is left to MPI_Abort / process exit.
    if (!poisoned_) MPI_Comm_free(&comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }

  // Device tensors (cluster.backend: mpi on a CUDA run) are staged through
  // host memory: MPI here is not CUDA-aware.
  void allreduce(at::Tensor& t, ReduceOp op) override {
    if (!t.device().is_cpu()) {
      at::Tensor host = t.cpu().contiguous();
      allreduce(host, op);
      t.copy_(host);
      return;
    }
    require_cpu_contiguous(t, "allreduce");
    if (op == ReduceOp::kAverage && !at::isFloatingType(t.scalar_type())) {
      throw ShapeError("MPI allreduce: average needs a floating-point tensor");
    }
    MPI_Request req;
    check(MPI_Iallreduce(MPI_IN_PLACE, t.data_ptr(), static_cast<int>(t.numel()), mpi_type(t.scalar_type(), "allreduce"),
                         mpi_op(op), comm_, &req),
          "MPI_Iallreduce");
    wait(req, "allreduce");
    if (op == ReduceOp::kAverage) t.div_(size_);
  }

  void broadcast(at::Tensor& t, int root) override {
    if (!t.device().is_cpu()) {
      at::Tensor host = t.cpu().contiguous();
      broadcast(host, root);
      t.copy_(host);
      return;
    }
    require_cpu_contiguous(t, "broadcast");
    MPI_Request req;
    check(MPI_Ibcast(t.data_ptr(), static_cast<int>(t.numel()), mpi_type(t.scalar_type(), "broadcast"), root, comm_,
                     &req),
          "MPI_Ibcast");
    wait(req, "broadcast");
  }

  at::Tensor allgather(const at::Tensor& t) override {
    if (!t.device().is_cpu()) return allgather(t.cpu().contiguous()).to(t.device());
    require_cpu_contiguous(t, "allgather");
    std::vector<int64_t> shape = {size_};
    for (auto d : t.sizes()) shape.push_back(d);
    at::Tensor out = at::empty(shape, t.options());
    MPI_Datatype type = mpi_type(t.scalar_type(), "allgather");
    MPI_Request req;
    check(MPI_Iallgather(t.data_ptr(), static_cast<int>(t.numel()), type, out.data_ptr(), static_cast<int>(t.numel()),
                         type, comm_, &req),
          "MPI_Iallgather");
    wait(req, "allgather");
    return out;
  }

  void barrier() override {
    MPI_Request req;
    check(MPI_Ibarrier(comm_, &req), "MPI_Ibarrier");
    wait(req, "barrier");
  }

  void allreduce(double* data, int64_t count, ReduceOp op) override {
    host_allreduce(data, count, MPI_DOUBLE, op);
    if (op == ReduceOp::kAverage) for (int64_t i = 0; i < count; ++i) data[i] /= size_;
  }
  void allreduce(int64_t* data, int64_t count, ReduceOp op) override {
    if (op == ReduceOp::kAverage) throw ShapeError("MPI allreduce: average of integers is not supported");
    host_allreduce(data, count, MPI_INT64_T, op);
  }

  void allgather_bytes(const void* data, int64_t bytes, void* out) override {
    MPI_Request req;
    check(MPI_Iallgather(data, static_cast<int>(bytes), MPI_BYTE, out, static_cast<int>(bytes), MPI_BYTE, comm_, &req),
          "MPI_Iallgather");
    wait(req, "allgather");
  }

  void broadcast_bytes(void* data, int64_t bytes, int root) override {
    MPI_Request req;
    check(MPI_Ibcast(data, static_cast<int>(bytes), MPI_BYTE, root, comm_, &req), "MPI_Ibcast");
    wait(req, "broadcast");
  }

 private:
  void host_allreduce(void* data, int64_t count, MPI_Datatype type, ReduceOp op) {
    MPI_Request req;
    check(MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(count), type, mpi_op(op), comm_, &req), "MPI_Iallreduce");
    wait(req, "allreduce");
  }

  void require_cpu_contiguous(const at::Tensor& t, const char* op) const {
    if (poisoned_) throw CommError(fmt::format("rank {}: MPI communicator unusable after: {}", rank_, poison_reason_));
    if (!t.device().is_cpu()) throw ShapeError(fmt::format("MPI {}: tensor must be on the CPU", op));
    if (!t.is_contiguous()) throw ShapeError(fmt::format("MPI {}: tensor must be contiguous", op));
    if (t.numel() > INT32_MAX) throw ShapeError(fmt::format("MPI {}: tensor too large for one call", op));
  }

  void check(int rc, const char* call) {
    if (poisoned_) throw CommError(fmt::format("rank {}: MPI communicator unusable after: {}", rank_, poison_reason_));
    if (rc != MPI_SUCCESS) throw CommError(fmt::format("rank {}: {} failed: {}", rank_, call, mpi_error_string(rc)));
  }

  // Polls `req` until it completes or the deadline passes. Spins briefly, then
  // backs off to short sleeps so a waiting rank does not burn a core.
  void wait(MPI_Request& req, const char* op) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s_);
    int spins = 0;
    while (true) {
      int done = 0;
      int rc = MPI_Test(&req, &done, MPI_STATUS_IGNORE);
      if (rc != MPI_SUCCESS) throw CommError(fmt::format("rank {}: MPI {} failed: {}", rank_, op, mpi_error_string(rc)));
      if (done) return;
      if (Clock::now() > deadline) {
        poisoned_ = true;
        poison_reason_ = fmt::format("{} timed out after {:.0f} s", op, timeout_s_);
        throw CommError(fmt::format("rank {}: MPI {} did not complete within {:.0f} s (cluster.timeout_s): "
                                    "another rank is stuck, dead or on a different code path",
                                    rank_, op, timeout_s_));
      }
      if (++spins > 1000) std::this_thread::sleep_for(std::chrono::microseconds(spins > 20000 ? 1000 : 50));
    }
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  double timeout_s_;
  bool poisoned_ = false;
  std::string poison_reason_;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator(const MpiRuntime&, double timeout_s) {
  return std::make_unique<MpiCommunicator>(timeout_s);
}

}  // namespace llmsrec::cluster
