// Which device a rank computes on and which communicator backend carries its
// tensors: pure rules, so they are tested without a GPU.
//
//   auto d = cluster::choose_device("auto", {.cuda_built = true, .cuda_devices = 8}, /*local_rank=*/3);
//   d.device;   // "cuda:3"
//   cluster::choose_backend("auto", d.is_cuda(), /*nccl_built=*/true);   // "nccl"
#pragma once

#include <string>

#include <c10/core/Device.h>

namespace llmsrec::cluster {

struct CudaAvailability {
  bool cuda_built = false;  // the libtorch this binary links has CUDA
  int cuda_devices = 0;     // devices visible to this process
};

// What libtorch reports on this machine.
CudaAvailability cuda_availability();

struct DeviceChoice {
  std::string device;  // "cpu" or "cuda:N"
  bool is_cuda() const { return device.rfind("cuda", 0) == 0; }
};

// cluster.device: auto = cuda:<local_rank> when the build has CUDA and a device
// is visible, else cpu; cpu; cuda = cuda:<local_rank>, a ConfigError naming the
// cause when there is no CUDA build, no device, or fewer devices than ranks
// on the node (local_rank must index a device: one rank per GPU).
DeviceChoice choose_device(const std::string& requested, const CudaAvailability& cuda, int local_rank);

// cluster.backend: auto = nccl when the device is CUDA and NCCL is built, else
// mpi; nccl on a CPU device or a build without NCCL is a ConfigError naming
// the fix; mpi and local as asked (mpi stages device tensors through the host).
std::string choose_backend(const std::string& requested, bool device_is_cuda, bool nccl_built);

// Waits until the device has run all work queued on it (no-op on the CPU):
// timings of asynchronous GPU work need it.
void synchronize_device(c10::Device device);

}  // namespace llmsrec::cluster
