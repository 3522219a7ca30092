#include "models/llama/llama_ops.h"

#include <cmath>
#include <limits>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "core/error.h"
#include "models/llama/attention_kernel.h"
#include "models/llama/generic_attention.h"

namespace llmsrec::models::llama {

namespace {

at::ScalarType reduction_dtype(at::ScalarType t) { return t == at::kDouble ? at::kDouble : at::kFloat; }

}  // namespace

SequenceLayout SequenceLayout::from_offsets(std::vector<int64_t> offsets, at::ScalarType mask_dtype, bool with_grid) {
  if (offsets.size() < 2 || offsets[0] != 0) {
    throw ShapeError(fmt::format("sequence offsets must start at 0 and hold at least one sequence, found [{}]",
                                 fmt::join(offsets, ", ")));
  }
  SequenceLayout l;
  l.batch = static_cast<int64_t>(offsets.size()) - 1;
  for (int64_t b = 0; b < l.batch; ++b) {
    const int64_t len = offsets[b + 1] - offsets[b];
    if (len <= 0) throw ShapeError(fmt::format("sequence {} has length {}; every sequence needs >= 1 token", b, len));
    l.max_len = std::max(l.max_len, len);
  }
  l.offsets = std::move(offsets);
  const int64_t T = l.tokens(), B = l.batch, S = l.max_len;
  const auto i64 = at::TensorOptions().dtype(at::kLong);
  l.positions = at::empty({T}, i64);
  auto* pos = l.positions.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t r = l.offsets[b]; r < l.offsets[b + 1]; ++r) pos[r] = r - l.offsets[b];
  }
  if (!with_grid) return l;
  const float neg_inf = -std::numeric_limits<float>::infinity();
  if (B == 1) {
    l.mask = at::full({S, S}, neg_inf, at::TensorOptions().dtype(mask_dtype)).triu(1);
    return l;
  }
  l.pad_index = at::empty({B * S}, i64);
  l.valid_index = at::empty({T}, i64);
  auto* pad = l.pad_index.data_ptr<int64_t>();
  auto* valid = l.valid_index.data_ptr<int64_t>();
  at::Tensor mask = at::zeros({B, 1, 1, S, S}, at::TensorOptions().dtype(at::kFloat));
  float* m = mask.data_ptr<float>();
  for (int64_t b = 0; b < B; ++b) {
    const int64_t start = l.offsets[b], len = l.offsets[b + 1] - start;
    for (int64_t t = 0; t < S; ++t) {
      pad[b * S + t] = t < len ? start + t : start;
      if (t < len) valid[start + t] = b * S + t;
      float* row = m + (b * S + t) * S;
      // Query t sees keys 0..min(t, len-1); padding keys are never visible.
      for (int64_t k = 0; k < S; ++k) {
        if (k > t || k >= len) row[k] = neg_inf;
      }
    }
  }
  l.mask = mask.to(mask_dtype);
  return l;
}

SequenceLayout SequenceLayout::from_lengths(const std::vector<int64_t>& lengths, at::ScalarType mask_dtype,
                                            bool with_grid) {
  std::vector<int64_t> offsets{0};
  for (int64_t n : lengths) offsets.push_back(offsets.back() + n);
  return from_offsets(std::move(offsets), mask_dtype, with_grid);
}

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const at::Tensor xf = x.to(reduction_dtype(x.scalar_type()));
  const at::Tensor normed = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * normed.to(x.scalar_type());
}

std::pair<at::Tensor, at::Tensor> rope_cos_sin(const at::Tensor& positions, const std::vector<double>& inv_freq,
                                               at::ScalarType dtype) {
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  at::Tensor inv = at::from_blob(const_cast<double*>(inv_freq.data()), {static_cast<int64_t>(inv_freq.size())}, f64)
                       .to(positions.device());
  at::Tensor angles = positions.to(at::kDouble).unsqueeze(1) * inv.unsqueeze(0);  // [T, hd/2]
  angles = at::cat({angles, angles}, 1);
  return {angles.cos().to(dtype), angles.sin().to(dtype)};
}

at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  const at::Tensor x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
  const at::Tensor rotated = at::cat({-x2, x1}, -1);
  return x * cos.unsqueeze(1) + rotated * sin.unsqueeze(1);
}

SequenceLayout SequenceLayout::to(c10::Device device) const {
  SequenceLayout l = *this;
  for (at::Tensor* t : {&l.positions, &l.pad_index, &l.valid_index, &l.mask}) {
    if (t->defined()) *t = t->to(device);
  }
  return l;
}

at::Tensor SequenceLayout::grid_positions() const {
  if (batch == 1) return positions;
  return at::arange(max_len, positions.options()).repeat({batch});
}

at::Tensor to_grid(const at::Tensor& packed, const SequenceLayout& layout) {
  return layout.batch == 1 ? packed : packed.index_select(0, layout.pad_index);
}

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const SequenceLayout& layout) {
  LLMSREC_ASSERT(q.size(0) == layout.tokens(), "attention: rows != layout tokens");
  if (q.device().is_cpu() && packed_attention_supports(q.scalar_type())) {
    const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(2)));
    return packed_causal_attention(q.contiguous(), k.contiguous(), v.contiguous(), layout.offsets, scale);
  }
  return generic_causal_attention(q, k, v, layout);
}

}  // namespace llmsrec::models::llama
