// The device axis of the op and model tests (CTranslate2's ops_test style):
// every parameterised test is instantiated for each device in
// candidate_test_devices(); an instance whose device this build and machine
// cannot see stops with GTEST_SKIP and says why, so it is reported as skipped,
// never as passed.
//
//   class MyOpTest : public ::testing::TestWithParam<at::Device> {
//     void SetUp() override { LLMSREC_SKIP_UNLESS_VISIBLE(GetParam()); }
//   };
//   TEST_P(MyOpTest, Works) { at::Tensor x = at::randn({3}).to(GetParam()); ... }
//   INSTANTIATE_TEST_SUITE_P(Devices, MyOpTest, ::testing::ValuesIn(llmsrec::test::candidate_test_devices()),
//                            llmsrec::test::device_test_name);
#pragma once

#include <string>
#include <vector>

#include <ATen/Context.h>
#include <c10/core/Device.h>
#include <gtest/gtest.h>

namespace llmsrec::test {

// Every device a test is written for: CPU and the first CUDA device.
inline std::vector<c10::Device> candidate_test_devices() {
  return {c10::Device(c10::kCPU), c10::Device(c10::kCUDA, 0)};
}

// The devices this build can see: CPU always, CUDA when libtorch has it and a GPU is there.
inline std::vector<c10::Device> visible_test_devices() {
  std::vector<c10::Device> out{c10::Device(c10::kCPU)};
  if (at::hasCUDA()) out.emplace_back(c10::kCUDA, 0);
  return out;
}

inline bool test_device_visible(c10::Device d) {
  for (const auto& v : visible_test_devices()) {
    if (v == d) return true;
  }
  return false;
}

// "cpu", "cuda0": parameter names for INSTANTIATE_TEST_SUITE_P.
inline std::string device_test_name(const ::testing::TestParamInfo<c10::Device>& info) {
  return info.param.is_cpu()
             ? "cpu"
             : std::string(c10::DeviceTypeName(info.param.type(), true)) + std::to_string(info.param.index());
}

}  // namespace llmsrec::test

#define LLMSREC_SKIP_UNLESS_VISIBLE(device)                                                              \
  do {                                                                                                   \
    if (!::llmsrec::test::test_device_visible(device)) {                                                 \
      GTEST_SKIP() << "device " << (device).str()                                                        \
                   << " is not visible to this build (libtorch CUDA: " << (at::hasCUDA() ? "yes" : "no") \
                   << "); only CPU instances ran";                                                       \
    }                                                                                                    \
  } while (0)
