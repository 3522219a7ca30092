// The frozen weights of one decoder layer as LlamaModel holds them, shared by
// its fast CPU path (llama_model.cpp) and the generic path (generic_layer.h).
// q/k/v and gate/up are fused into one matrix each, so a layer runs 4 GEMMs
// instead of 7.
//
//   LayerWeights w;
//   w.wqkv = at::cat({wq, wk, wv}, 0);  // [(H + 2 KV) * hd, D]
//   w.w_gate_up = at::cat({w_gate, w_up}, 0);  // [2 I, D], gate first
#pragma once

#include <ATen/core/Tensor.h>

namespace llmsrec::models::llama {

struct LayerWeights {
  at::Tensor attn_norm;  // [D]
  at::Tensor wqkv;       // [(H + 2 KV) * hd, D]
  at::Tensor bqkv;       // [(H + 2 KV) * hd] (Qwen2; undefined without attention_bias)
  at::Tensor wo;         // [D, H * hd]
  at::Tensor mlp_norm;   // [D]
  at::Tensor w_gate_up;  // [2 I, D]
  at::Tensor w_down;     // [D, I]
};

}  // namespace llmsrec::models::llama
