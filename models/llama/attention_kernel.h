// Causal attention over packed sequences as ONE autograd node with a
// hand-written backward. libtorch 1.13's CPU bmm without MKL runs its batch as
// a serial loop of small GEMMs, each split over OpenBLAS threads; for 128x64x128
// blocks the thread hand-off costs more than the math (5-10x below the
// large-GEMM rate here, far worse on a loaded machine). This kernel spreads the
// (sequence, kv head) blocks over ATen's threads, runs each block's GEMMs on one
// BLAS thread, fuses the 1/sqrt(hd) scale and the causal mask into the score
// GEMM, and reads and writes the packed rows in place: no padded grid, no
// gather before or scatter after, and only the real [L, L] corner of every
// sequence is computed. Float32 and float64; bf16 inputs are widened to float32
// on the way in and the output rounded once on the way out (the scores and
// probabilities of a bf16 model are float32 either way, and float32 GEMMs on
// these small blocks beat bf16 ones). CPU tensors only: the generic twin for
// other devices is generic_causal_attention (generic_attention.h).
//
//   // q [T, H, hd], k and v [T, KV, hd], sequences back to back at `offsets`
//   at::Tensor o = packed_causal_attention(q, k, v, offsets, 1.0 / std::sqrt(hd));  // [T, H * hd]
//   // only the last rows of each sequence as queries (q [Tq, H, hd] at q_offsets)
//   at::Tensor t = packed_causal_attention(q_tail, k, v, offsets, scale, q_offsets);  // [Tq, H * hd]
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace llmsrec::models::llama {

// softmax(q k^T * scale + causal mask) v inside each sequence [offsets[b],
// offsets[b+1]) of k and v; query head h reads kv head h / (H / KV).
// Differentiable in q, k and v. q, k, v contiguous; offsets run from 0 to k's rows.
// `q_offsets` (default: offsets) says which rows are queries: q's rows
// [q_offsets[b], q_offsets[b+1]) are the LAST rows of sequence b, so a caller
// that needs only some rows' outputs computes only those. Sequences may be
// empty, or have no query rows.
at::Tensor packed_causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                   std::vector<int64_t> offsets, double scale, std::vector<int64_t> q_offsets = {});

// True when the kernel handles this dtype (float32, float64, bfloat16).
bool packed_attention_supports(at::ScalarType dtype);

}  // namespace llmsrec::models::llama
