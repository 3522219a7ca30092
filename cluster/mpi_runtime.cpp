#include "cluster/mpi_runtime.h"

#include <mpi.h>

#include <fmt/format.h>

#include "core/error.h"

namespace llmsrec::cluster {

std::unique_ptr<MpiRuntime> MpiRuntime::init(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) throw CommError("MPI is already initialised: create one MpiRuntime per process");
  int provided = 0;
  // FUNNELED: only the main thread calls MPI; I/O and sampler threads never do.
  if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    throw CommError("MPI_Init_thread failed");
  }
  std::unique_ptr<MpiRuntime> rt(new MpiRuntime());
  MPI_Comm_rank(MPI_COMM_WORLD, &rt->world_rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &rt->world_size_);
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rt->world_rank_, MPI_INFO_NULL, &local);
  MPI_Comm_rank(local, &rt->local_rank_);
  MPI_Comm_size(local, &rt->local_size_);
  MPI_Comm_free(&local);
  char host[MPI_MAX_PROCESSOR_NAME];
  int len = 0;
  MPI_Get_processor_name(host, &len);
  rt->host_.assign(host, static_cast<size_t>(len));
  return rt;
}

MpiRuntime::~MpiRuntime() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

void MpiRuntime::abort(int code) const {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort should not return; make sure
}

#ifndef LLMSREC_WITH_NCCL
std::unique_ptr<Communicator> make_nccl_communicator(Communicator&, int, double) {
  throw CommError("this llmsrec was built without NCCL (rebuild with a CUDA toolkit and NCCL; see LLMSREC_WITH_NCCL)");
}
bool nccl_available() { return false; }
#endif

}  // namespace llmsrec::cluster
