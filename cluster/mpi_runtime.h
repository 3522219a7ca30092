// MPI process state as an RAII object (no globals): MPI_Init_thread on
// creation, MPI_Finalize on destruction; rank, size, and the node-local rank
// from MPI_Comm_split_type(MPI_COMM_TYPE_SHARED) rather than from launcher
// environment variables.
//
//   auto mpi = cluster::MpiRuntime::init(&argc, &argv);
//   int device = mpi->local_rank();
#pragma once

#include <memory>
#include <string>

#include "cluster/communicator.h"

namespace llmsrec::cluster {

class MpiRuntime {
 public:
  // Initialises MPI (once per process). Safe under mpirun, srun, or as a singleton.
  static std::unique_ptr<MpiRuntime> init(int* argc, char*** argv);
  ~MpiRuntime();
  MpiRuntime(const MpiRuntime&) = delete;
  MpiRuntime& operator=(const MpiRuntime&) = delete;

  int world_rank() const { return world_rank_; }
  int world_size() const { return world_size_; }
  int local_rank() const { return local_rank_; }  // rank among the processes of this node
  int local_size() const { return local_size_; }
  const std::string& host() const { return host_; }

  // Ends every rank of the job with `code` (MPI_Abort). Does not return.
  [[noreturn]] void abort(int code) const;

 private:
  MpiRuntime() = default;
  int world_rank_ = 0, world_size_ = 1, local_rank_ = 0, local_size_ = 1;
  std::string host_;
};

// A communicator over a duplicate of MPI_COMM_WORLD (freed on destruction).
std::unique_ptr<Communicator> make_mpi_communicator(const MpiRuntime& mpi, double timeout_s);

// NCCL over CUDA tensors on device `device`; the unique id is broadcast over
// `bootstrap` (an MPI communicator). Throws CommError when NCCL was not built.
std::unique_ptr<Communicator> make_nccl_communicator(Communicator& bootstrap, int device, double timeout_s);

// True when this binary was built with the NCCL backend.
bool nccl_available();

}  // namespace llmsrec::cluster
