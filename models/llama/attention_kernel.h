// Causal attention over many small (sequence, kv head) blocks as ONE autograd
// node with a hand-written backward. libtorch 1.13's CPU bmm without MKL runs
// its batch as a serial loop of small GEMMs, each split over OpenBLAS threads;
// for 128x64x128 blocks the thread hand-off costs more than the math (5-10x
// below the large-GEMM rate here, far worse on a loaded machine). This kernel
// spreads the blocks over ATen's threads and runs each block's GEMMs on one
// BLAS thread, and fuses the 1/sqrt(hd) scale and the additive mask into the
// score GEMM. Float32 and float64 only (bf16 keeps the generic path).
//
//   // q [N, KV, M, hd] (M = G*S query rows per kv head), k, v [N, KV, S, hd],
//   // mask [N or 1, S, S] additive (row m uses mask row m % S); all contiguous.
//   at::Tensor o = blocked_attention(q, k, v, mask, 1.0 / std::sqrt(hd), lengths);  // [N, KV, M, hd]
// With `lengths`, sequence n has lengths[n] real tokens at the start of its S
// slots: only that corner is computed (right padding costs nothing); the
// padding rows of the output are zero.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace llmsrec::models::llama {

// softmax(q k^T * scale + mask) v per (n, kv) block; differentiable in q, k and v.
// `lengths`: real tokens per sequence (empty = all S).
at::Tensor blocked_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                             double scale, std::vector<int64_t> lengths = {});

// True when the kernel handles this dtype (float32, float64).
bool blocked_attention_supports(at::ScalarType dtype);

}  // namespace llmsrec::models::llama
