// Causal grouped-query attention inside each sequence of a packed batch, made
// of plain ATen ops so it runs on any device and in any dtype: the generic twin
// of packed_causal_attention (attention_kernel.h), which reads raw CPU memory.
// The rows go onto the padded [B, S] grid of a SequenceLayout made with_grid
// (one gather in, one out) and attention runs on [B, heads, S, hd] blocks:
// at::scaled_dot_product_attention when the libtorch this was built against
// has it (2.x), else matmul + masked softmax (the softmax in float32 for
// bf16/fp16, float64 for float64).
//
//   auto layout = SequenceLayout::from_offsets({0, 3, 8}, at::kFloat).to(q.device());
//   at::Tensor o = generic_causal_attention(q, k, v, layout);  // q [T, H, hd], k, v [T, KV, hd] -> [T, H*hd]
//   // a layer that gathers q, k and v together onto the grid itself:
//   at::Tensor o2 = generic_causal_attention_grid(to_grid(q, layout), to_grid(k, layout), to_grid(v, layout), layout);
#pragma once

#include <ATen/core/Tensor.h>

#include "models/llama/llama_ops.h"

namespace llmsrec::models::llama {

// softmax(q k^T / sqrt(hd) + causal mask) v per sequence; query head h reads kv
// head h / (H / KV). q [T, H, hd], k and v [T, KV, hd], on the layout's device.
// Differentiable in q, k and v.
at::Tensor generic_causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                    const SequenceLayout& layout);

// The same on inputs already on the grid (q [B*S, H, hd], k, v [B*S, KV, hd]);
// returns packed rows [T, H*hd].
at::Tensor generic_causal_attention_grid(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                         const SequenceLayout& layout);

// "sdpa" (at::scaled_dot_product_attention) or "matmul", as compiled; for logs and benches.
const char* generic_attention_backend();

}  // namespace llmsrec::models::llama
