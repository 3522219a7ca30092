// blocked_attention (the hand-written attention kernel with its own backward)
// against the plain autograd formula, forward and gradients, with grouped
// query heads, several sequences and a mask that differs per sequence.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <ATen/ATen.h>

#include "models/llama/attention_kernel.h"

namespace {

using llmsrec::models::llama::blocked_attention;

at::Tensor reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                     double scale) {
  const int64_t N = q.size(0), KV = q.size(1), M = q.size(2), S = k.size(2), G = M / S;
  at::Tensor m = mask.size(0) == 1 ? mask.expand({N, S, S}) : mask;
  at::Tensor tiled = m.unsqueeze(1).unsqueeze(2).expand({N, KV, G, S, S}).reshape({N, KV, M, S});
  at::Tensor scores = at::matmul(q, k.transpose(-1, -2)) * scale + tiled;
  return at::matmul(at::softmax(scores, -1), v);
}

// Causal mask with a different valid length per sequence (padding keys hidden).
at::Tensor causal_mask(const std::vector<int64_t>& lengths, int64_t S, at::ScalarType dtype) {
  at::Tensor m = at::zeros({static_cast<int64_t>(lengths.size()), S, S}, at::kDouble);
  auto a = m.accessor<double, 3>();
  for (size_t n = 0; n < lengths.size(); ++n) {
    for (int64_t t = 0; t < S; ++t) {
      for (int64_t j = 0; j < S; ++j) {
        if (j > t || j >= lengths[n]) a[n][t][j] = -std::numeric_limits<double>::infinity();
      }
    }
  }
  return m.to(dtype);
}

void check(at::ScalarType dtype, double tol) {
  at::manual_seed(3);
  const int64_t N = 3, KV = 2, G = 2, S = 7, hd = 5;
  auto opt = at::TensorOptions().dtype(dtype);
  at::Tensor q0 = at::randn({N, KV, G * S, hd}, opt), k0 = at::randn({N, KV, S, hd}, opt),
             v0 = at::randn({N, KV, S, hd}, opt), go = at::randn({N, KV, G * S, hd}, opt);
  at::Tensor mask = causal_mask({7, 4, 1}, S, dtype);
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));

  std::vector<at::Tensor> in1 = {q0.clone().requires_grad_(), k0.clone().requires_grad_(), v0.clone().requires_grad_()};
  std::vector<at::Tensor> in2 = {q0.clone().requires_grad_(), k0.clone().requires_grad_(), v0.clone().requires_grad_()};
  at::Tensor out = blocked_attention(in1[0], in1[1], in1[2], mask, scale);
  at::Tensor ref = reference(in2[0], in2[1], in2[2], mask, scale);
  EXPECT_LT((out - ref).abs().max().item<double>(), tol);
  (out * go).sum().backward();
  (ref * go).sum().backward();
  const char* names[] = {"dq", "dk", "dv"};
  for (int i = 0; i < 3; ++i) {
    const double err = (in1[i].grad() - in2[i].grad()).abs().max().item<double>();
    const double size = in2[i].grad().abs().max().item<double>();
    EXPECT_LT(err, tol * std::max(1.0, size)) << names[i];
    EXPECT_GT(size, 0) << names[i] << ": a gradient that is all zero checks nothing";
  }
}

TEST(BlockedAttention, MatchesAutogradFormulaFloat64) { check(at::kDouble, 1e-12); }
TEST(BlockedAttention, MatchesAutogradFormulaFloat32) { check(at::kFloat, 1e-5); }

TEST(BlockedAttention, LengthsSkipPaddingAndKeepRealRowsExact) {
  at::manual_seed(7);
  const int64_t N = 3, KV = 2, G = 2, S = 6, hd = 4;
  const std::vector<int64_t> lengths = {6, 3, 1};
  auto opt = at::TensorOptions().dtype(at::kDouble);
  at::Tensor q0 = at::randn({N, KV, G * S, hd}, opt), k0 = at::randn({N, KV, S, hd}, opt),
             v0 = at::randn({N, KV, S, hd}, opt), go = at::randn({N, KV, G * S, hd}, opt);
  // Padding rows: the caller never reads them, so no gradient comes back through them.
  at::Tensor real = at::zeros({N, 1, G * S, 1}, opt);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t g = 0; g < G; ++g) real[n][0].narrow(0, g * S, lengths[n]).fill_(1);
  }
  go = go * real;
  at::Tensor mask = causal_mask(lengths, S, at::kDouble);
  std::vector<at::Tensor> a = {q0.clone().requires_grad_(), k0.clone().requires_grad_(), v0.clone().requires_grad_()};
  std::vector<at::Tensor> b = {q0.clone().requires_grad_(), k0.clone().requires_grad_(), v0.clone().requires_grad_()};
  at::Tensor out = blocked_attention(a[0], a[1], a[2], mask, 0.5, lengths);
  at::Tensor ref = reference(b[0], b[1], b[2], mask, 0.5);
  EXPECT_LT(((out - ref) * real).abs().max().item<double>(), 1e-12);
  EXPECT_EQ((out * (1 - real)).abs().max().item<double>(), 0.0) << "padding rows must be zero";
  (out * go).sum().backward();
  (ref * go).sum().backward();
  for (int i = 0; i < 3; ++i) EXPECT_LT((a[i].grad() - b[i].grad()).abs().max().item<double>(), 1e-12) << i;
}

TEST(BlockedAttention, SharedMaskBroadcastsOverSequences) {
  at::manual_seed(4);
  at::Tensor q = at::randn({2, 1, 4, 3}, at::kDouble), k = at::randn({2, 1, 4, 3}, at::kDouble),
             v = at::randn({2, 1, 4, 3}, at::kDouble);
  at::Tensor mask = causal_mask({4}, 4, at::kDouble);
  at::Tensor a = blocked_attention(q, k, v, mask, 0.5);
  at::Tensor b = reference(q, k, v, mask, 0.5);
  EXPECT_LT((a - b).abs().max().item<double>(), 1e-12);
  // Causality: the first query sees only the first key, so its output is v's first row.
  EXPECT_LT((a[0][0][0] - v[0][0][0]).abs().max().item<double>(), 1e-12);
}

}  // namespace
