// cluster::choose_device / choose_backend: which device a rank computes on and
// which backend carries its tensors, decided the same way on every rank.
#include <gtest/gtest.h>

#include "cluster/device_choice.h"
#include "core/error.h"

namespace llmsrec::cluster {
namespace {

TEST(DeviceChoice, AutoPicksTheLocalRanksGpuOnlyWhenThereIsOne) {
  EXPECT_EQ(choose_device("auto", {.cuda_built = true, .cuda_devices = 8}, 3).device, "cuda:3");
  EXPECT_EQ(choose_device("auto", {.cuda_built = false, .cuda_devices = 0}, 3).device, "cpu");
  EXPECT_EQ(choose_device("auto", {.cuda_built = true, .cuda_devices = 0}, 0).device, "cpu");
  EXPECT_EQ(choose_device("cpu", {.cuda_built = true, .cuda_devices = 8}, 1).device, "cpu");
  EXPECT_EQ(choose_device("cuda", {.cuda_built = true, .cuda_devices = 2}, 1).device, "cuda:1");
}

TEST(DeviceChoice, CudaWithoutAGpuOfItsOwnIsAConfigErrorSayingWhy) {
  auto message = [](const std::string& req, CudaAvailability a, int local) {
    try {
      choose_device(req, a, local);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("cuda", {false, 0}, 0).find("CUDA build of libtorch"), std::string::npos);
  EXPECT_NE(message("cuda", {true, 0}, 0).find("no CUDA device is visible"), std::string::npos);
  EXPECT_NE(message("cuda", {true, 2}, 2).find("local rank 2 has no GPU"), std::string::npos);
  EXPECT_NE(message("auto", {true, 2}, 5).find("local rank 5"), std::string::npos)
      << "auto with more ranks than GPUs must not silently share a GPU";
  EXPECT_THROW(choose_device("tpu", {true, 1}, 0), ConfigError);
}

TEST(DeviceChoice, AutoBackendIsNcclOnlyForCudaDevicesWithNccl) {
  EXPECT_EQ(choose_backend("auto", true, true), "nccl");
  EXPECT_EQ(choose_backend("auto", false, true), "mpi") << "a CPU run on a NCCL build must not pick NCCL";
  EXPECT_EQ(choose_backend("auto", true, false), "mpi");
  EXPECT_EQ(choose_backend("mpi", true, true), "mpi");
  EXPECT_EQ(choose_backend("nccl", true, true), "nccl");
  EXPECT_THROW(choose_backend("nccl", false, true), ConfigError);
  EXPECT_THROW(choose_backend("nccl", true, false), ConfigError);
}

TEST(DeviceChoice, ThisMachineReportsWhatLibtorchSees) {
  const CudaAvailability a = cuda_availability();
  if (!a.cuda_built) EXPECT_EQ(a.cuda_devices, 0);
  EXPECT_EQ(choose_device("auto", a, 0).is_cuda(), a.cuda_built && a.cuda_devices > 0);
}

}  // namespace
}  // namespace llmsrec::cluster
