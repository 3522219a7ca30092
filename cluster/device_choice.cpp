#include "cluster/device_choice.h"

#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <fmt/format.h>

#include "core/error.h"

namespace llmsrec::cluster {

CudaAvailability cuda_availability() {
  CudaAvailability a;
  a.cuda_built = at::hasCUDA();  // false on a CPU libtorch even where a GPU exists
  a.cuda_devices = a.cuda_built ? static_cast<int>(at::getNumGPUs()) : 0;
  return a;
}

DeviceChoice choose_device(const std::string& requested, const CudaAvailability& cuda, int local_rank) {
  if (requested == "cpu") return {"cpu"};
  const bool usable = cuda.cuda_built && cuda.cuda_devices > 0;
  if (requested == "auto" && !usable) return {"cpu"};
  if (requested != "auto" && requested != "cuda") {
    throw ConfigError(fmt::format("config key 'cluster.device': '{}' is not one of auto, cpu, cuda", requested));
  }
  if (!cuda.cuda_built) {
    throw ConfigError("cluster.device: cuda needs a CUDA build of libtorch (this libtorch has no CUDA); use "
                      "cluster.device: cpu (or auto)");
  }
  if (cuda.cuda_devices <= 0) {
    throw ConfigError("cluster.device: cuda, but no CUDA device is visible to this process (check "
                      "CUDA_VISIBLE_DEVICES and nvidia-smi); use cluster.device: cpu (or auto)");
  }
  if (local_rank >= cuda.cuda_devices) {
    throw ConfigError(fmt::format("cluster.device: local rank {} has no GPU of its own: {} device(s) visible on this "
                                  "node; start at most {} rank(s) per node (one rank per GPU)",
                                  local_rank, cuda.cuda_devices, cuda.cuda_devices));
  }
  return {fmt::format("cuda:{}", local_rank)};
}

std::string choose_backend(const std::string& requested, bool device_is_cuda, bool nccl_built) {
  if (requested == "auto") return device_is_cuda && nccl_built ? "nccl" : "mpi";
  if (requested == "nccl") {
    if (!nccl_built) {
      throw ConfigError("cluster.backend: nccl needs llmsrec built with NCCL (LLMSREC_WITH_NCCL=ON); use "
                        "cluster.backend: mpi (or auto)");
    }
    if (!device_is_cuda) {
      throw ConfigError("cluster.backend: nccl needs a CUDA device, but this run computes on the cpu (cluster.device, "
                        "or a libtorch without CUDA); use cluster.backend: mpi (or auto)");
    }
  }
  return requested;
}

void synchronize_device(c10::Device device) {
  if (device.is_cuda()) at::detail::getCUDAHooks().deviceSynchronize(device.index());
}

}  // namespace llmsrec::cluster
