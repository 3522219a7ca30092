#include "models/llama/generic_attention.h"

#include <cmath>
#include <vector>

#include <ATen/ATen.h>
#include <torch/version.h>

#include "core/error.h"

// at::scaled_dot_product_attention is public from libtorch 2.0 on; its first six
// arguments (q, k, v, mask, dropout, is_causal) are the same in every 2.x.
#if TORCH_VERSION_MAJOR >= 2
#define LLMSREC_HAS_SDPA 1
#else
#define LLMSREC_HAS_SDPA 0
#endif

namespace llmsrec::models::llama {

namespace {

[[maybe_unused]] at::ScalarType softmax_dtype(at::ScalarType t) { return t == at::kDouble ? at::kDouble : at::kFloat; }

#if LLMSREC_HAS_SDPA
// [B*S, heads, hd] grid rows -> [B, heads, S, hd].
at::Tensor heads_first(const at::Tensor& x, int64_t B, int64_t S) {
  return x.reshape({B, S, x.size(1), x.size(2)}).transpose(1, 2);
}

at::Tensor sdpa_grid(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const SequenceLayout& layout) {
  const int64_t B = layout.batch, S = layout.max_len, H = q.size(1), hd = q.size(2), G = H / k.size(1);
  at::Tensor kb = heads_first(k, B, S), vb = heads_first(v, B, S);
  if (G > 1) {  // enable_gqa exists only from 2.5 on: repeat kv heads instead
    kb = kb.repeat_interleave(G, 1);
    vb = vb.repeat_interleave(G, 1);
  }
  // Boolean mask, true = may attend: valid for every query dtype.
  const std::vector<int64_t> mask_shape = B == 1 ? std::vector<int64_t>{S, S} : std::vector<int64_t>{B, 1, S, S};
  const at::Tensor allowed = layout.mask.eq(0).reshape(mask_shape);
  at::Tensor out = at::scaled_dot_product_attention(heads_first(q, B, S), kb, vb, allowed, 0.0, false);
  return out.transpose(1, 2).reshape({B * S, H * hd});
}
#endif

// Query heads grouped by their kv head: [B, KV, G*S, hd] against [B, KV, S, hd],
// so GQA needs no copy of k and v.
[[maybe_unused]] at::Tensor matmul_grid(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                        const SequenceLayout& layout) {
  const int64_t H = q.size(1), hd = q.size(2), KV = k.size(1), G = H / KV, B = layout.batch, S = layout.max_len;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  at::Tensor qg = (q * scale).view({B, S, KV, G, hd}).permute({0, 2, 3, 1, 4}).reshape({B, KV, G * S, hd});
  at::Tensor kg = k.reshape({B, S, KV, hd}).permute({0, 2, 3, 1});  // [B, KV, hd, S]
  at::Tensor vg = v.reshape({B, S, KV, hd}).permute({0, 2, 1, 3});  // [B, KV, S, hd]
  at::Tensor scores = at::matmul(qg, kg).view({B, KV, G, S, S});
  const at::ScalarType red = softmax_dtype(q.scalar_type());
  if (scores.scalar_type() != red) scores = scores.to(red);
  scores = scores + layout.mask.to(red);
  at::Tensor probs = at::softmax(scores, -1).to(q.scalar_type()).view({B, KV, G * S, S});
  return at::matmul(probs, vg)  // [B, KV, G*S, hd]
      .view({B, KV, G, S, hd})
      .permute({0, 3, 1, 2, 4})  // [B, S, KV, G, hd]
      .reshape({B * S, H * hd});
}

}  // namespace

at::Tensor generic_causal_attention_grid(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                         const SequenceLayout& layout) {
  LLMSREC_ASSERT(q.dim() == 3 && k.dim() == 3 && k.sizes() == v.sizes() && q.size(1) % k.size(1) == 0,
                 "generic_causal_attention: q [N, H, hd], k, v [N, KV, hd] with KV dividing H");
  LLMSREC_ASSERT(q.size(0) == layout.grid_rows(), "generic_causal_attention: rows != B*S");
  LLMSREC_ASSERT(layout.mask.defined(), "generic_causal_attention: the layout was made without the grid");
  LLMSREC_ASSERT(layout.mask.device() == q.device(), "generic_causal_attention: layout on another device than q");
#if LLMSREC_HAS_SDPA
  at::Tensor out = sdpa_grid(q, k, v, layout);
#else
  at::Tensor out = matmul_grid(q, k, v, layout);
#endif
  return layout.batch > 1 ? out.index_select(0, layout.valid_index) : out;
}

at::Tensor generic_causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                    const SequenceLayout& layout) {
  LLMSREC_ASSERT(q.size(0) == layout.tokens(), "generic_causal_attention: rows != layout tokens");
  return generic_causal_attention_grid(to_grid(q, layout), to_grid(k, layout), to_grid(v, layout), layout);
}

const char* generic_attention_backend() { return LLMSREC_HAS_SDPA ? "sdpa" : "matmul"; }

}  // namespace llmsrec::models::llama
