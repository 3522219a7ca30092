// The shape of a SASRec model and the layout of its dropout masks. Torch-free,
// so the batch sampler (which prepares the masks in worker threads) and the
// config code don't pull in libtorch.
//
//   SasrecShape s{.num_items = 23715, .hidden = 50, .maxlen = 50, .blocks = 2, .heads = 1, .dropout = 0.5};
//   std::vector<float> masks(dropout_mask_floats(s, batch, s.maxlen));
//   fill_dropout_masks(masks.data(), masks.size(), s.dropout, rng);
#pragma once

#include <cstdint>
#include <string>

#include "core/rng.h"

namespace llmsrec::models::sasrec {

// How a block wires LayerNorm, attention and the feed-forward net:
//   kQResidual: Q = LN(x); x = Q + MHA(Q, x, x); x = LN(x); x = x + FFN(x)   (the older
//               PyTorch port, pmixer/SASRec.pytorch until 2024; the spec)
//   kPostNorm:  x = LN(x + MHA(x, x, x)); x = LN(x + FFN(x))                  (pmixer today, default)
//   kPreNorm:   x = x + MHA(LN(x)); x = x + FFN(LN(x))                         (pmixer --norm_first)
// kQResidual re-zeroes padding slots after every block (timeline mask); the
// current pmixer code does not, so kPostNorm and kPreNorm don't either.
enum class BlockStyle { kQResidual, kPostNorm, kPreNorm };

inline const char* block_style_name(BlockStyle b) {
  switch (b) {
    case BlockStyle::kPostNorm: return "post_norm";
    case BlockStyle::kPreNorm: return "pre_norm";
    case BlockStyle::kQResidual: break;
  }
  return "q_residual";
}

// False for an unknown name (callers report it with their file/key context).
inline bool parse_block_style(const std::string& name, BlockStyle* out) {
  for (BlockStyle b : {BlockStyle::kQResidual, BlockStyle::kPostNorm, BlockStyle::kPreNorm}) {
    if (name == block_style_name(b)) {
      *out = b;
      return true;
    }
  }
  return false;
}

struct SasrecShape {
  int64_t num_items = 0;    // I; the embedding table has I+1 rows (row 0 = padding)
  int64_t hidden = 64;      // d
  int64_t maxlen = 128;     // L
  int64_t blocks = 2;
  int64_t heads = 1;
  double dropout = 0.1;
  bool mask_padding_keys = false;  // TF reference: padding slots are masked as keys
  bool attn_out_proj = true;       // PyTorch reference: attention has an output projection
  BlockStyle block = BlockStyle::kQResidual;

  int64_t head_dim() const { return hidden / heads; }
};

// Dropout masks of one training step live in one float buffer, in this order:
// embeddings [B, L, d]; then per block: attention weights [B*heads, L, L],
// FFN inner [B, L, d], FFN output [B, L, d]. Values are 0 or 1/(1-p).
inline int64_t dropout_mask_floats(const SasrecShape& s, int64_t batch, int64_t len) {
  if (s.dropout <= 0) return 0;
  const int64_t act = batch * len * s.hidden;
  return act + s.blocks * (batch * s.heads * len * len + 2 * act);
}

// Fills `n` keep-mask values (0 with probability p, else 1/(1-p)). Each 64-bit
// draw decides 4 elements with 16-bit thresholds (p is rounded to 1/65536).
inline void fill_dropout_masks(float* out, int64_t n, double p, core::Rng& rng) {
  const float keep = static_cast<float>(1.0 / (1.0 - p));
  const auto threshold = static_cast<uint64_t>(p * 65536.0 + 0.5);  // drop if 16-bit draw < threshold
  int64_t i = 0;
  while (i < n) {
    uint64_t r = rng.next();
    for (int k = 0; k < 4 && i < n; ++k, ++i, r >>= 16) out[i] = (r & 0xffff) < threshold ? 0.0f : keep;
  }
}

}  // namespace llmsrec::models::sasrec
