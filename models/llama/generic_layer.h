// One LLaMA decoder layer made of plain ATen ops, so it runs on any device and
// in any dtype: HF's formulas (RMSNorm in float32, rotate_half RoPE, GQA
// attention via generic_attention.h, SwiGLU). The generic twin of the fast CPU
// layer in llama_model.cpp; tests/unit/generic_path_test.cpp holds them equal.
//
//   auto layout = SequenceLayout::from_offsets(offsets, at::kFloat).to(device);
//   auto [cos, sin] = rope_cos_sin(layout.grid_positions(), inv_freq, dtype);  // grid rows
//   x = generic_layer_forward(x, weights, cfg, layout, cos, sin);  // packed rows [T, D] -> [T, D]
#pragma once

#include <ATen/core/Tensor.h>

#include "models/llama/layer_weights.h"
#include "models/llama/llama_config.h"
#include "models/llama/llama_ops.h"

namespace llmsrec::models::llama {

// x [T, D] packed rows; layout made with_grid, on x's device; cos, sin
// [grid rows, hd] (RoPE positions of the grid, layout.grid_positions()).
// Differentiable in x.
at::Tensor generic_layer_forward(const at::Tensor& x, const LayerWeights& w, const LlamaConfig& cfg,
                                 const SequenceLayout& layout, const at::Tensor& cos, const at::Tensor& sin);

}  // namespace llmsrec::models::llama
