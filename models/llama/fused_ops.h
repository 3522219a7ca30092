// Fused forward/backward pairs for the LLaMA layer's element-wise parts, so a
// backward to inputs_embeds makes one pass where autograd would make several
// (and no cat of split gradients). Same math as the plain formulas in
// llama_ops.h; tests/unit/fused_ops_test.cpp compares both, values and gradients.
// CPU tensors (rms_norm_frozen reads raw memory); float32, float64 and bf16
// (rms_norm_frozen computes a bf16 row in float32 and rounds once).
//
//   auto [q, k, v] = rope_split_qkv(qkv, H, KV, hd, cos, sin);  // rotated q, k; v as is
//   at::Tensor act = swiglu(gate_up);                           // silu(gate) * up
//   at::Tensor h = rms_norm_frozen(x, norm_weight, eps);
#pragma once

#include <cstdint>
#include <optional>
#include <tuple>

#include <ATen/core/Tensor.h>

namespace llmsrec::models::llama {

// qkv [N, (H + 2*KV) * hd] -> q [N, H, hd] and k [N, KV, hd] with HF rotate_half
// RoPE applied (cos, sin [N, hd] as from rope_cos_sin: two equal halves), and
// v [N, KV, hd]; all contiguous, in `out_dtype` (default: qkv's; a bf16 qkv
// may ask for float32, which the attention kernel reads without another pass).
// One loop over the rows each way. Differentiable in qkv.
std::tuple<at::Tensor, at::Tensor, at::Tensor> rope_split_qkv(const at::Tensor& qkv, int64_t heads, int64_t kv_heads,
                                                              int64_t head_dim, const at::Tensor& cos,
                                                              const at::Tensor& sin,
                                                              std::optional<at::ScalarType> out_dtype = std::nullopt);

// HF LlamaRMSNorm, x [..., D] and a frozen weight [D] (no gradient for it):
// one pass each way instead of autograd's chain of element-wise ops; the row
// sum of squares accumulates in double. Differentiable in x.
at::Tensor rms_norm_frozen(const at::Tensor& x, const at::Tensor& weight, double eps);

// The dtypes the model's fast CPU path uses these for: float32, float64, bfloat16.
bool fused_ops_supported(at::ScalarType dtype);

// gate_up [N, 2I] (gate first) -> silu(gate) * up [N, I]. Differentiable in gate_up.
at::Tensor swiglu(const at::Tensor& gate_up);

}  // namespace llmsrec::models::llama
