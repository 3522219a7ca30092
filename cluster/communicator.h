// Collective communication behind one interface (c10d-style), with MPI (CPU
// tensors), NCCL (CUDA tensors) and single-process implementations.
//
// Contract for every method marked "Collective": every rank of the
// communicator calls it, in the same order, with matching shapes; never put
// one behind a rank-dependent branch. Each collective has a deadline
// (timeout_s): when another rank does not join in time, the call throws
// CommError naming the operation and this rank, and the communicator is
// poisoned (later calls throw too) so the caller can abort the job cleanly.
//
// NCCL backend (make_nccl_communicator, cluster/nccl_rules.h): tensor
// collectives take tensors on the communicator's CUDA device and work on them
// in place, ordered after the stream that produced them; a host (CPU) tensor
// is staged by the communicator itself (copied to its device, reduced, copied
// back), so callers never stage. Any other device, a non-contiguous tensor or
// an unsupported dtype is a ShapeError. Host-buffer collectives (double* /
// int64_t* arrays, bytes) go to the MPI bootstrap communicator. Any NCCL or
// CUDA error aborts the NCCL communicator and poisons it like a timeout.
//
//   auto mpi = cluster::MpiRuntime::init(&argc, &argv);
//   auto comm = cluster::make_mpi_communicator(*mpi, /*timeout_s=*/300);
//   comm->allreduce(grad_buffer, cluster::ReduceOp::kAverage);  // Collective
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace at {
class Tensor;
}

namespace llmsrec::cluster {

enum class ReduceOp { kSum, kAverage, kMax, kMin };

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;  // "mpi", "nccl", "local"

  // Collective. In place; float32/float64/int32/int64 tensors, contiguous.
  virtual void allreduce(at::Tensor& tensor, ReduceOp op) = 0;
  // Collective. In place: every rank ends with root's values.
  virtual void broadcast(at::Tensor& tensor, int root) = 0;
  // Collective. Same shape on every rank; returns [size(), ...shape] in rank order.
  virtual at::Tensor allgather(const at::Tensor& tensor) = 0;
  // Collective.
  virtual void barrier() = 0;

  // Collective. Host buffers (metric sums and counts, hashes, flags).
  virtual void allreduce(double* data, int64_t count, ReduceOp op) = 0;
  virtual void allreduce(int64_t* data, int64_t count, ReduceOp op) = 0;
  // Collective. `out` receives size() * bytes, rank r's block at r * bytes.
  virtual void allgather_bytes(const void* data, int64_t bytes, void* out) = 0;
  // Collective.
  virtual void broadcast_bytes(void* data, int64_t bytes, int root) = 0;
};

// World size 1, no MPI: every collective is the identity.
std::unique_ptr<Communicator> make_local_communicator();

}  // namespace llmsrec::cluster
