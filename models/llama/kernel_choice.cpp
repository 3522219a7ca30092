#include "models/llama/kernel_choice.h"

#include <fmt/format.h>

#include "core/error.h"

namespace llmsrec::models::llama {

Kernels parse_kernels(const std::string& name) {
  if (name == "auto") return Kernels::kAuto;
  if (name == "generic") return Kernels::kGeneric;
  throw ConfigError(fmt::format("unknown kernels '{}' (expected auto or generic)", name));
}

bool fast_cpu_kernels(c10::Device device, c10::ScalarType dtype, Kernels kernels) {
  const bool dtype_ok = dtype == c10::kFloat || dtype == c10::kDouble || dtype == c10::kBFloat16;
  return device.is_cpu() && kernels == Kernels::kAuto && dtype_ok;
}

}  // namespace llmsrec::models::llama
