#include "trainer/gemm_rate.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>

#include "cluster/device_choice.h"

namespace llmsrec::trainer {

double measure_gemm_flops_per_s(c10::Device device, c10::ScalarType dtype, int64_t m, int64_t k, int64_t n) {
  const auto opts = at::TensorOptions().device(device).dtype(dtype);
  at::Tensor a = at::randn({m, k}, opts), b = at::randn({k, n}, opts), c = at::empty({m, n}, opts);
  at::mm_out(c, a, b);  // warm-up: BLAS threads, cuBLAS handles
  cluster::synchronize_device(device);
  double best = 1e30;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 4; ++i) at::mm_out(c, a, b);
    cluster::synchronize_device(device);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 4);
  }
  return 2.0 * static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(n) / best;
}

}  // namespace llmsrec::trainer
