#include "models/llama/generic_layer.h"

#include <ATen/ATen.h>

#include "models/llama/generic_attention.h"

namespace llmsrec::models::llama {

at::Tensor generic_layer_forward(const at::Tensor& x, const LayerWeights& w, const LlamaConfig& cfg,
                                 const SequenceLayout& layout, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t H = cfg.num_attention_heads, KV = cfg.num_key_value_heads, hd = cfg.head_dim;
  at::Tensor h = rms_norm(x, w.attn_norm, cfg.rms_norm_eps);
  at::Tensor qkv = w.bqkv.defined() ? at::linear(h, w.wqkv, w.bqkv) : at::linear(h, w.wqkv);
  // One gather onto the attention grid for q, k and v together.
  qkv = to_grid(qkv, layout);
  const int64_t N = qkv.size(0);
  auto parts = qkv.split_with_sizes({H * hd, KV * hd, KV * hd}, 1);
  at::Tensor attn = generic_causal_attention_grid(apply_rope(parts[0].view({N, H, hd}), cos, sin),
                                                  apply_rope(parts[1].view({N, KV, hd}), cos, sin),
                                                  parts[2].view({N, KV, hd}), layout);
  at::Tensor out = x + at::linear(attn, w.wo);
  h = rms_norm(out, w.mlp_norm, cfg.rms_norm_eps);
  at::Tensor gate_up = at::linear(h, w.w_gate_up);
  const int64_t I = cfg.intermediate_size;
  return out + at::linear(at::silu(gate_up.narrow(1, 0, I)) * gate_up.narrow(1, I, I), w.w_down);
}

}  // namespace llmsrec::models::llama
