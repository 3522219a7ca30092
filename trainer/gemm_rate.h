// The GEMM rate a device reaches in a dtype, measured now: bench train's
// MFU denominator ("peak"), so the ratio compares the training step with what
// this libtorch, BLAS and machine really deliver, under today's load.
//
//   double peak = trainer::measure_gemm_flops_per_s(at::kCPU, at::kFloat, 2048, 512, 3072);
#pragma once

#include <cstdint>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

namespace llmsrec::trainer {

// FLOP/s of at::mm([m, k] x [k, n]) in `dtype` on `device`: the best of a few
// timed repetitions after a warm-up (2 m n k FLOPs each).
double measure_gemm_flops_per_s(c10::Device device, c10::ScalarType dtype, int64_t m, int64_t k, int64_t n);

}  // namespace llmsrec::trainer
