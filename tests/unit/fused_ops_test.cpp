// The fused element-wise ops against their plain autograd formulas: values
// and gradients (float64 and float32), including unused outputs.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "models/llama/fused_ops.h"
#include "models/llama/llama_ops.h"

namespace {

using namespace llmsrec::models::llama;

double max_diff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

void check_rope(at::ScalarType dtype, double tol) {
  at::manual_seed(5);
  const int64_t N = 9, H = 4, KV = 2, hd = 6;
  at::Tensor base = at::randn({N, (H + 2 * KV) * hd}, at::TensorOptions().dtype(dtype));
  const std::vector<double> inv_freq = {1.0, 0.3, 0.05};
  auto [cos, sin] = rope_cos_sin(at::arange(N, at::kLong), inv_freq, dtype);

  at::Tensor a = base.clone().requires_grad_(), b = base.clone().requires_grad_();
  auto [q, k, v] = rope_split_qkv(a, H, KV, hd, cos, sin);
  auto parts = b.split_with_sizes({H * hd, KV * hd, KV * hd}, 1);
  at::Tensor q0 = apply_rope(parts[0].view({N, H, hd}), cos, sin);
  at::Tensor k0 = apply_rope(parts[1].view({N, KV, hd}), cos, sin);
  at::Tensor v0 = parts[2].view({N, KV, hd});
  EXPECT_LT(max_diff(q, q0), tol);
  EXPECT_LT(max_diff(k, k0), tol);
  EXPECT_LT(max_diff(v, v0), tol);
  at::Tensor gq = at::randn_like(q), gk = at::randn_like(k), gv = at::randn_like(v);
  ((q * gq).sum() + (k * gk).sum() + (v * gv).sum()).backward();
  ((q0 * gq).sum() + (k0 * gk).sum() + (v0 * gv).sum()).backward();
  EXPECT_LT(max_diff(a.grad(), b.grad()), tol);
  EXPECT_GT(a.grad().abs().max().item<double>(), 0.1);
}

TEST(FusedOps, RopeSplitQkvMatchesApplyRopeFloat64) { check_rope(at::kDouble, 1e-12); }
TEST(FusedOps, RopeSplitQkvMatchesApplyRopeFloat32) { check_rope(at::kFloat, 1e-5); }

TEST(FusedOps, RopeSplitQkvWithAnUnusedOutput) {
  at::Tensor x = at::randn({3, 4 * 4}, at::kDouble).requires_grad_();
  auto [cos, sin] = rope_cos_sin(at::arange(3, at::kLong), {1.0, 0.5}, at::kDouble);
  auto [q, k, v] = rope_split_qkv(x, 2, 1, 4, cos, sin);
  q.sum().backward();  // k and v unused: their gradient slots must be zero
  EXPECT_EQ(x.grad().narrow(1, 8, 8).abs().max().item<double>(), 0.0);
  EXPECT_GT(x.grad().narrow(1, 0, 8).abs().max().item<double>(), 0.0);
}

TEST(FusedOps, SwiGluMatchesSiluTimesUp) {
  for (auto [dtype, tol] : {std::pair{at::kDouble, 1e-12}, std::pair{at::kFloat, 1e-5}}) {
    at::manual_seed(6);
    at::Tensor base = at::randn({7, 10}, at::TensorOptions().dtype(dtype)) * 3;
    at::Tensor a = base.clone().requires_grad_(), b = base.clone().requires_grad_();
    at::Tensor y = swiglu(a);
    auto gu = b.split_with_sizes({5, 5}, 1);
    at::Tensor y0 = at::silu(gu[0]) * gu[1];
    EXPECT_LT(max_diff(y, y0), tol);
    at::Tensor g = at::randn_like(y);
    (y * g).sum().backward();
    (y0 * g).sum().backward();
    EXPECT_LT(max_diff(a.grad(), b.grad()), tol * 10);
  }
}

TEST(FusedOps, RmsNormFrozenMatchesTheHfFormula) {
  for (auto [dtype, tol] : {std::pair{at::kDouble, 1e-12}, std::pair{at::kFloat, 1e-5}}) {
    at::manual_seed(8);
    auto opt = at::TensorOptions().dtype(dtype);
    at::Tensor base = at::randn({2, 5, 12}, opt) * 2, weight = at::rand({12}, opt) + 0.5;
    at::Tensor a = base.clone().requires_grad_(), b = base.clone().requires_grad_();
    at::Tensor y = rms_norm_frozen(a, weight, 1e-5);
    at::Tensor y0 = weight * (b * at::rsqrt(b.pow(2).mean(-1, /*keepdim=*/true) + 1e-5));
    EXPECT_LT(max_diff(y, y0), tol);
    at::Tensor g = at::randn_like(y);
    (y * g).sum().backward();
    (y0 * g).sum().backward();
    EXPECT_LT(max_diff(a.grad(), b.grad()), tol);
    EXPECT_GT(a.grad().abs().max().item<double>(), 0.1);
  }
}

// bf16 (the fast CPU path of a bf16 model): each op against its formula in
// float64 on the same bf16 values. One bf16 rounding is 2^-8 relative, so
// values to 1e-2 and gradients to 3e-2 of max(1, max |expected|).
void expect_bf16_close(const at::Tensor& actual, const at::Tensor& expected, double tol, const char* what) {
  ASSERT_EQ(actual.scalar_type(), at::kBFloat16) << what;
  const double bound = tol * std::max(1.0, expected.abs().max().item<double>());
  const double diff = max_diff(actual.to(at::kDouble), expected.to(at::kDouble));
  EXPECT_LE(diff, bound) << what << ": max |difference| " << diff << " > " << bound;
}

TEST(FusedOps, Bf16OpsMatchTheirFormulasInFloat64) {
  at::manual_seed(10);
  const auto bf16 = at::TensorOptions().dtype(at::kBFloat16);
  {
    at::Tensor base = (at::randn({6, 40}, at::kDouble) * 2).to(at::kBFloat16);
    at::Tensor weight = (at::rand({40}, at::kDouble) + 0.5).to(at::kBFloat16);
    at::Tensor a = base.clone().requires_grad_(), b = base.to(at::kDouble).requires_grad_();
    at::Tensor y = rms_norm_frozen(a, weight, 1e-5);
    const at::Tensor w64 = weight.to(at::kDouble);
    at::Tensor y0 = w64 * (b * at::rsqrt(b.pow(2).mean(-1, /*keepdim=*/true) + 1e-5));
    expect_bf16_close(y, y0, 1e-2, "rms_norm_frozen");
    at::Tensor g = at::randn({6, 40}, bf16);
    (y * g).sum().backward();
    (y0 * g.to(at::kDouble)).sum().backward();
    expect_bf16_close(a.grad(), b.grad(), 3e-2, "rms_norm_frozen gradient");
  }
  {
    at::Tensor base = (at::randn({7, 10}, at::kDouble) * 3).to(at::kBFloat16);
    at::Tensor a = base.clone().requires_grad_(), b = base.to(at::kDouble).requires_grad_();
    at::Tensor y = swiglu(a);
    at::Tensor y0 = at::silu(b.narrow(1, 0, 5)) * b.narrow(1, 5, 5);
    expect_bf16_close(y, y0, 1e-2, "swiglu");
    at::Tensor g = at::randn({7, 5}, bf16);
    (y * g).sum().backward();
    (y0 * g.to(at::kDouble)).sum().backward();
    expect_bf16_close(a.grad(), b.grad(), 3e-2, "swiglu gradient");
  }
  {
    const int64_t N = 9, H = 4, KV = 2, hd = 6;
    at::Tensor base = at::randn({N, (H + 2 * KV) * hd}, bf16);
    auto [cos, sin] = rope_cos_sin(at::arange(N, at::kLong), {1.0, 0.3, 0.05}, at::kBFloat16);
    at::Tensor a = base.clone().requires_grad_(), b = base.to(at::kDouble).requires_grad_();
    auto [q, k, v] = rope_split_qkv(a, H, KV, hd, cos, sin);
    auto parts = b.split_with_sizes({H * hd, KV * hd, KV * hd}, 1);
    const at::Tensor c64 = cos.to(at::kDouble), s64 = sin.to(at::kDouble);
    at::Tensor q0 = apply_rope(parts[0].view({N, H, hd}), c64, s64);
    at::Tensor k0 = apply_rope(parts[1].view({N, KV, hd}), c64, s64);
    expect_bf16_close(q, q0, 1e-2, "rope q");
    expect_bf16_close(k, k0, 1e-2, "rope k");
    expect_bf16_close(v, parts[2].view({N, KV, hd}), 0, "v passes through");
    at::Tensor gq = at::randn({N, H, hd}, bf16);
    (q * gq).sum().backward();
    (q0 * gq.to(at::kDouble)).sum().backward();
    expect_bf16_close(a.grad(), b.grad(), 3e-2, "rope gradient");
  }
}

TEST(FusedOps, RmsNormWithATrainableWeightKeepsItsGradient) {
  // rms_norm() takes the autograd formula then, so the weight gets its gradient.
  at::Tensor w = at::ones({4}, at::kDouble).requires_grad_();
  rms_norm(at::randn({3, 4}, at::kDouble), w, 1e-6).sum().backward();
  ASSERT_TRUE(w.grad().defined());
}

}  // namespace
