// The building blocks of the LLaMA decoder, exposed for tests and for callers
// that lay out their own batches. All take and return tensors in the compute
// dtype; reductions that need it (RMSNorm, softmax) run in float32 or wider.
//
// A batch is `T` packed token rows (sequences back to back). SequenceLayout
// describes where each sequence starts; attention never crosses sequences and
// RoPE positions restart at 0 in every sequence.
//
//   auto layout = models::llama::SequenceLayout::from_lengths({3, 5}, at::kFloat);
//   at::Tensor out = models::llama::attention(q, k, v, layout);  // [T, H*hd]
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

namespace llmsrec::models::llama {

struct SequenceLayout {
  std::vector<int64_t> offsets;  // B+1 entries: sequence b is rows [offsets[b], offsets[b+1])
  int64_t batch = 0;             // B
  int64_t max_len = 0;           // S
  at::Tensor positions;          // [T] int64: position of each row inside its sequence
  // Only with `with_grid` (the generic attention on a padded [B, S] grid; the
  // fast CPU kernel reads the packed rows) and when batch > 1:
  at::Tensor pad_index;    // [B*S] int64: packed row of each grid cell (padding cells -> its sequence's row 0)
  at::Tensor valid_index;  // [T] int64: grid cell of each packed row
  at::Tensor mask;         // additive [B,1,1,S,S] (or [S,S] when batch == 1): 0 or -inf

  int64_t tokens() const { return offsets.back(); }
  // Rows as attention sees them: T packed rows when batch == 1, else the B*S grid.
  int64_t grid_rows() const { return batch * max_len; }
  // RoPE position of every grid row (== positions when batch == 1).
  at::Tensor grid_positions() const;
  // Throws ShapeError when a sequence is empty or offsets are not increasing.
  // with_grid = false skips the grid tensors (an O(B*S*S) mask per forward).
  static SequenceLayout from_offsets(std::vector<int64_t> offsets, at::ScalarType mask_dtype, bool with_grid = true);
  static SequenceLayout from_lengths(const std::vector<int64_t>& lengths, at::ScalarType mask_dtype,
                                     bool with_grid = true);
  // The same layout with its tensors on `device` (layouts are built on the CPU).
  SequenceLayout to(c10::Device device) const;
};

// x * rsqrt(mean(x^2) + eps) computed in float32 (or double for double x), then
// cast back to x's dtype and scaled by `weight` (HF LlamaRMSNorm). Plain ATen
// ops (any device, differentiable in both); the fast CPU twin is rms_norm_frozen.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

// cos and sin tables [T, head_dim] for `positions` ([T] int64), HF layout
// (the head_dim/2 frequencies repeated twice), in `dtype`.
std::pair<at::Tensor, at::Tensor> rope_cos_sin(const at::Tensor& positions, const std::vector<double>& inv_freq,
                                               at::ScalarType dtype);

// HF rotate_half RoPE on x [T, heads, head_dim]: x*cos + rotate_half(x)*sin.
at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

// Packed rows [T, ...] -> grid rows [B*S, ...] (no-op when batch == 1). Grid
// cells past a sequence's end repeat its first row; attention masks them
// (generic_attention.h).
at::Tensor to_grid(const at::Tensor& packed, const SequenceLayout& layout);

// Causal grouped-query attention inside each sequence. q [T, H, hd] (already
// rotated), k and v [T, KV, hd] with H % KV == 0; query head h reads kv head
// h / (H/KV). Scores scaled by 1/sqrt(hd), softmax in float32 or wider. Returns [T, H*hd].
// CPU tensors in float32/float64/bf16 run packed_causal_attention
// (attention_kernel.h) on the rows as they are; anything else runs
// generic_causal_attention (generic_attention.h; the layout must be made
// with_grid and live on q's device).
at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const SequenceLayout& layout);

}  // namespace llmsrec::models::llama
