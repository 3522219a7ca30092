// Which kernels the LLaMA decoder runs, asked of the device AND the compute
// dtype. The fast CPU kernels (attention_kernel.h, fused_ops.h, row_plan.h)
// read raw CPU memory; the generic path (generic_layer.h, generic_attention.h)
// is plain ATen ops and runs on any device. Every fast kernel has a generic
// twin that tests/unit/generic_path_test.cpp holds equal to it.
//
//   LlamaOptions o{at::kBFloat16};
//   o.device = at::Device(at::kCUDA, local_rank);  // the run's device
//   o.kernels = parse_kernels("auto");
//   fast_cpu_kernels(o.device, o.dtype, o.kernels);  // false: CUDA takes the generic path
#pragma once

#include <string>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

namespace llmsrec::models::llama {

enum class Kernels {
  kAuto,     // the fast CPU kernels where they apply, the generic path elsewhere
  kGeneric,  // the generic path everywhere (to check the fast kernels against it)
};

// Parses "auto" | "generic" (ConfigError otherwise).
Kernels parse_kernels(const std::string& name);

// True when a model on `device` in `dtype` runs the fast CPU kernels: CPU,
// kernels == kAuto and float32, float64 or bfloat16.
bool fast_cpu_kernels(c10::Device device, c10::ScalarType dtype, Kernels kernels);

}  // namespace llmsrec::models::llama
