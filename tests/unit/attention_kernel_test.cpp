// packed_causal_attention (the hand-written attention kernel with its own
// backward) against the plain autograd formula run on each sequence alone,
// forward and gradients, with grouped query heads and uneven lengths.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "models/llama/attention_kernel.h"

namespace {

using llmsrec::models::llama::packed_causal_attention;

// Causal softmax attention of one sequence, q [L, H, hd], k, v [L, KV, hd] -> [L, H*hd].
at::Tensor reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale) {
  const int64_t L = q.size(0), H = q.size(1), hd = q.size(2), G = H / k.size(1);
  at::Tensor kk = k.repeat_interleave(G, 1).transpose(0, 1), vv = v.repeat_interleave(G, 1).transpose(0, 1);
  at::Tensor mask = at::full({L, L}, -std::numeric_limits<double>::infinity(), q.options()).triu(1);
  at::Tensor scores = at::matmul(q.transpose(0, 1), kk.transpose(1, 2)) * scale + mask;  // [H, L, L]
  return at::matmul(at::softmax(scores, -1), vv).transpose(0, 1).reshape({L, H * hd});
}

at::Tensor reference_packed(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const std::vector<int64_t>& offsets, double scale) {
  std::vector<at::Tensor> parts;
  for (size_t n = 0; n + 1 < offsets.size(); ++n) {
    const int64_t r0 = offsets[n], L = offsets[n + 1] - r0;
    parts.push_back(reference(q.narrow(0, r0, L), k.narrow(0, r0, L), v.narrow(0, r0, L), scale));
  }
  return at::cat(parts, 0);
}

void check(at::ScalarType dtype, double tol, const std::vector<int64_t>& offsets) {
  at::manual_seed(3);
  const int64_t T = offsets.back(), H = 4, KV = 2, hd = 6;
  auto opt = at::TensorOptions().dtype(dtype);
  at::Tensor q0 = at::randn({T, H, hd}, opt), k0 = at::randn({T, KV, hd}, opt), v0 = at::randn({T, KV, hd}, opt),
             go = at::randn({T, H * hd}, opt);
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  std::vector<at::Tensor> a = {q0.clone().requires_grad_(), k0.clone().requires_grad_(), v0.clone().requires_grad_()};
  std::vector<at::Tensor> b = {q0.clone().requires_grad_(), k0.clone().requires_grad_(), v0.clone().requires_grad_()};
  at::Tensor out = packed_causal_attention(a[0], a[1], a[2], offsets, scale);
  at::Tensor ref = reference_packed(b[0], b[1], b[2], offsets, scale);
  ASSERT_EQ(out.sizes(), ref.sizes());
  EXPECT_LT((out - ref).abs().max().item<double>(), tol);
  (out * go).sum().backward();
  (ref * go).sum().backward();
  const char* names[] = {"dq", "dk", "dv"};
  for (int i = 0; i < 3; ++i) {
    const double err = (a[i].grad() - b[i].grad()).abs().max().item<double>();
    const double size = b[i].grad().abs().max().item<double>();
    EXPECT_LT(err, tol * std::max(1.0, size)) << names[i];
    EXPECT_GT(size, 0) << names[i] << ": a gradient that is all zero checks nothing";
  }
}

TEST(PackedCausalAttention, MatchesAutogradFormulaFloat64) { check(at::kDouble, 1e-12, {0, 7, 11, 12}); }
TEST(PackedCausalAttention, MatchesAutogradFormulaFloat32) { check(at::kFloat, 1e-5, {0, 7, 11, 12}); }
// Short sequences first, one long one last: the kernel reorders blocks by length.
TEST(PackedCausalAttention, UnevenLengthsInAnyOrder) { check(at::kDouble, 1e-12, {0, 1, 3, 6, 10, 23}); }
TEST(PackedCausalAttention, OneSequence) { check(at::kDouble, 1e-12, {0, 9}); }
// Sequences longer than the short ones above (a blocked kernel would cut them).
TEST(PackedCausalAttention, LongSequences) { check(at::kDouble, 1e-12, {0, 70, 75, 205}); }
TEST(PackedCausalAttention, LongSequencesFloat32) { check(at::kFloat, 1e-5, {0, 130, 200}); }

TEST(PackedCausalAttention, FirstRowReadsOnlyItsOwnValue) {
  at::manual_seed(4);
  at::Tensor q = at::randn({5, 2, 3}, at::kDouble), k = at::randn({5, 1, 3}, at::kDouble),
             v = at::randn({5, 1, 3}, at::kDouble);
  at::Tensor out = packed_causal_attention(q, k, v, {0, 2, 5}, 0.5).view({5, 2, 3});
  // Row 0 and row 2 start a sequence: both heads return that row's value exactly.
  for (int64_t r : {0, 2}) {
    for (int64_t h = 0; h < 2; ++h) EXPECT_LT((out[r][h] - v[r][0]).abs().max().item<double>(), 1e-15) << r;
  }
}

// Queries only from the last rows of each sequence (q_offsets): exactly those
// rows of the full result, and the same gradients for q, k and v. Covers a
// sequence without query rows and an empty one.
TEST(PackedCausalAttention, QuerySuffixEqualsThoseRowsOfTheFullResult) {
  at::manual_seed(6);
  const std::vector<int64_t> offsets = {0, 7, 11, 11, 16}, q_offsets = {0, 3, 3, 3, 8};
  const std::vector<int64_t> rows = {4, 5, 6, 11, 12, 13, 14, 15};  // the last 3, 0, 0 and 5 rows
  const int64_t T = 16, H = 4, KV = 2, hd = 5;
  auto opt = at::TensorOptions().dtype(at::kDouble);
  at::Tensor q0 = at::randn({T, H, hd}, opt), k0 = at::randn({T, KV, hd}, opt), v0 = at::randn({T, KV, hd}, opt);
  at::Tensor go = at::randn({8, H * hd}, opt);
  const at::Tensor idx = at::tensor(rows);
  std::vector<at::Tensor> a = {q0.clone().requires_grad_(), k0.clone().requires_grad_(), v0.clone().requires_grad_()};
  std::vector<at::Tensor> b = {q0.clone().requires_grad_(), k0.clone().requires_grad_(), v0.clone().requires_grad_()};
  at::Tensor tail = packed_causal_attention(a[0].index_select(0, idx).contiguous(), a[1], a[2], offsets, 0.4, q_offsets);
  at::Tensor full = packed_causal_attention(b[0], b[1], b[2], offsets, 0.4).index_select(0, idx);
  EXPECT_LT((tail - full).abs().max().item<double>(), 1e-13);
  (tail * go).sum().backward();
  (full * go).sum().backward();
  for (int i = 0; i < 3; ++i) {
    EXPECT_LT((a[i].grad() - b[i].grad()).abs().max().item<double>(), 1e-12) << i;
    EXPECT_GT(b[i].grad().abs().max().item<double>(), 0) << i;
  }
}

// bf16 widens to float32 inside: bitwise the float32 kernel on the same values,
// rounded once, and the same for the gradients (a bf16 output gradient in,
// float32 gradients rounded out).
TEST(PackedCausalAttention, Bf16IsTheFloat32KernelRoundedOnce) {
  at::manual_seed(9);
  const std::vector<int64_t> offsets = {0, 7, 11, 12, 30};
  const int64_t T = 30, H = 4, KV = 2, hd = 8;
  const auto bf16 = at::TensorOptions().dtype(at::kBFloat16);
  const at::Tensor q0 = at::randn({T, H, hd}, bf16), k0 = at::randn({T, KV, hd}, bf16),
                   v0 = at::randn({T, KV, hd}, bf16), go = at::randn({T, H * hd}, bf16);
  std::vector<at::Tensor> a, b;
  for (const at::Tensor* t : {&q0, &k0, &v0}) {
    a.push_back(t->clone().requires_grad_());
    b.push_back(t->to(at::kFloat).requires_grad_());
  }
  at::Tensor out = packed_causal_attention(a[0], a[1], a[2], offsets, 0.35);
  at::Tensor ref = packed_causal_attention(b[0], b[1], b[2], offsets, 0.35);
  ASSERT_EQ(out.scalar_type(), at::kBFloat16);
  EXPECT_TRUE(at::equal(out, ref.to(at::kBFloat16))) << "max |difference| "
                                                     << (out.to(at::kFloat) - ref).abs().max().item<float>();
  (out * go).sum().backward();
  (ref * go.to(at::kFloat)).sum().backward();
  const char* names[] = {"dq", "dk", "dv"};
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(a[i].grad().scalar_type(), at::kBFloat16) << names[i];
    EXPECT_TRUE(at::equal(a[i].grad(), b[i].grad().to(at::kBFloat16))) << names[i];
    EXPECT_GT(b[i].grad().abs().max().item<float>(), 0) << names[i];
  }
}

// A long query suffix (100 of 150 rows) and a short one (5 of 80).
TEST(PackedCausalAttention, LongQuerySuffixEqualsThoseRowsOfTheFullResult) {
  at::manual_seed(7);
  const std::vector<int64_t> offsets = {0, 150, 230}, q_offsets = {0, 100, 105};
  std::vector<int64_t> rows;
  for (int64_t r = 50; r < 150; ++r) rows.push_back(r);
  for (int64_t r = 225; r < 230; ++r) rows.push_back(r);
  const int64_t T = 230, H = 2, KV = 1, hd = 4;
  auto opt = at::TensorOptions().dtype(at::kDouble);
  at::Tensor q0 = at::randn({T, H, hd}, opt), k0 = at::randn({T, KV, hd}, opt), v0 = at::randn({T, KV, hd}, opt);
  at::Tensor go = at::randn({105, H * hd}, opt);
  const at::Tensor idx = at::tensor(rows);
  std::vector<at::Tensor> a = {q0.clone().requires_grad_(), k0.clone().requires_grad_(), v0.clone().requires_grad_()};
  std::vector<at::Tensor> b = {q0.clone().requires_grad_(), k0.clone().requires_grad_(), v0.clone().requires_grad_()};
  at::Tensor tail = packed_causal_attention(a[0].index_select(0, idx).contiguous(), a[1], a[2], offsets, 0.4, q_offsets);
  at::Tensor full = reference_packed(b[0], b[1], b[2], offsets, 0.4).index_select(0, idx);
  EXPECT_LT((tail - full).abs().max().item<double>(), 1e-12);
  (tail * go).sum().backward();
  (full * go).sum().backward();
  for (int i = 0; i < 3; ++i) {
    EXPECT_LT((a[i].grad() - b[i].grad()).abs().max().item<double>(), 1e-12) << i;
    EXPECT_GT(b[i].grad().abs().max().item<double>(), 0) << i;
  }
}

TEST(PackedCausalAttention, ThreadCountDoesNotChangeBits) {
  at::manual_seed(5);
  const std::vector<int64_t> offsets = {0, 17, 20, 33, 34};
  at::Tensor q = at::randn({34, 4, 8}), k = at::randn({34, 2, 8}), v = at::randn({34, 2, 8});
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  at::Tensor one = packed_causal_attention(q, k, v, offsets, 0.3);
  at::set_num_threads(2);
  at::Tensor two = packed_causal_attention(q, k, v, offsets, 0.3);
  at::set_num_threads(threads);
  EXPECT_TRUE(at::equal(one, two));
}

}  // namespace
