// SASRec (Kang & McAuley, ICDM 2018) in ATen ops, following the PyTorch port
// (pmixer/SASRec.pytorch, classic version) with the TF original's differences
// as options (SasrecShape::mask_padding_keys, attn_out_proj):
//
//   x = E[seq] * sqrt(d) + P[slot];  x = dropout(x) * live     (live = seq != 0)
//   per block: q = LN(x); x = q + Attn(q, x, x)   (causal; residual from the normalised q)
//              q = LN(x); x = (q + FFN(q)) * live  (FFN = W2 relu(W1 q), dropout after each)
//   out = LN(x)                                    (LayerNorm eps 1e-8 everywhere)
//
// Sequences are right-aligned in L <= maxlen slots; slot j uses position row
// maxlen - L + j, so the last slot always uses row maxlen - 1.
//
//   SasrecModel m(shape);  m.init(seed);
//   at::Tensor o = m.user_repr(seq);             // [B, d], eval mode
//   at::Tensor loss = m.bce_loss(seq, rows, pos, neg, &masks, 0.0);
//   loss.backward();
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "models/sasrec/sasrec_shape.h"

namespace llmsrec::models::sasrec {

// Views into one flat mask buffer (see dropout_mask_floats); undefined = no dropout.
struct DropoutMasks {
  at::Tensor emb;                      // [B, L, d]
  std::vector<at::Tensor> attn;        // per block [B*h, L, L]
  std::vector<at::Tensor> ffn_inner;   // per block [B, L, d]
  std::vector<at::Tensor> ffn_out;     // per block [B, L, d]

  // Views of `flat` (float, dropout_mask_floats(shape, B, L) elements, not copied).
  static DropoutMasks view(const at::Tensor& flat, const SasrecShape& shape, int64_t batch, int64_t len);
  // Fresh masks drawn from `rng` (teacher_mode: train at export, tests).
  static DropoutMasks sample(const SasrecShape& shape, int64_t batch, int64_t len, core::Rng& rng,
                             at::ScalarType dtype);
};

// Tensor names of the checkpoint (one table: nothing else spells them).
struct SasrecNames {
  static std::string item_emb() { return "item_emb"; }
  static std::string pos_emb() { return "pos_emb"; }
  static std::string block(int64_t b, const char* leaf) { return "blocks." + std::to_string(b) + "." + leaf; }
  static std::string last_ln_w() { return "last_ln.weight"; }
  static std::string last_ln_b() { return "last_ln.bias"; }
};

class SasrecModel {
 public:
  explicit SasrecModel(const SasrecShape& shape, at::ScalarType dtype = at::kFloat);

  // Xavier-normal on every parameter with >= 2 dims (embeddings included, then
  // padding row 0 zeroed), PyTorch defaults elsewhere: LayerNorm 1/0, attention
  // biases 0, FFN biases U(-1/sqrt(d), 1/sqrt(d)). Deterministic in `seed`.
  void init(uint64_t seed);

  const SasrecShape& shape() const { return shape_; }
  // Parameters in checkpoint order, with their names.
  const std::vector<std::pair<std::string, at::Tensor>>& params() const { return params_; }
  at::Tensor param(const std::string& name) const;
  const at::Tensor& item_emb() const { return item_emb_; }
  void set_requires_grad(bool on);

  // Per-slot outputs before the final LayerNorm: [B, L, d]. seq: int64 [B, L].
  // masks == nullptr: no dropout (eval).
  at::Tensor encode(const at::Tensor& seq, const DropoutMasks* masks) const;
  at::Tensor final_norm(const at::Tensor& x) const;
  // encode + final LayerNorm on every slot: [B, L, d].
  at::Tensor forward(const at::Tensor& seq, const DropoutMasks* masks = nullptr) const;
  // O_u: the last slot after the final LayerNorm, [B, d].
  at::Tensor user_repr(const at::Tensor& seq, const DropoutMasks* masks = nullptr) const;

  // Mean BCE over the listed slots: -log s(o.E[pos]) - log(1 - s(o.E[neg])),
  // plus l2_emb * sum(E^2). rows index the flattened [B*L] slots (targets != 0).
  at::Tensor bce_loss(const at::Tensor& seq, const at::Tensor& rows, const at::Tensor& pos, const at::Tensor& neg,
                      const DropoutMasks* masks, double l2_emb) const;

 private:
  struct Block {
    at::Tensor ln1_w, ln1_b, in_w, in_b, out_w, out_b, ln2_w, ln2_b, w1, b1, w2, b2;
  };
  at::Tensor add(const std::string& name, at::IntArrayRef sizes);
  // Embedding sum for already-looked-up item rows `emb` ([B, L, d]).
  at::Tensor encode_from(const at::Tensor& emb, const at::Tensor& seq, const DropoutMasks* masks) const;
  at::Tensor attention(const Block& blk, const at::Tensor& q, const at::Tensor& x, const at::Tensor& bias,
                       const at::Tensor* mask) const;

  SasrecShape shape_;
  at::ScalarType dtype_;
  std::vector<std::pair<std::string, at::Tensor>> params_;
  at::Tensor item_emb_, pos_emb_, last_w_, last_b_;
  std::vector<Block> blocks_;
};

}  // namespace llmsrec::models::sasrec
