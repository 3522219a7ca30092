#include "models/sasrec/sasrec_model.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"

namespace llmsrec::models::sasrec {

namespace {
constexpr double kLayerNormEps = 1e-8;
// Finite, so a padding query whose keys are all masked gets uniform weights, not NaN
// (the TF reference uses -2^32 + 1 for the same reason).
constexpr double kMaskedKey = -4294967295.0;
}  // namespace

DropoutMasks DropoutMasks::view(const at::Tensor& flat, const SasrecShape& s, int64_t batch, int64_t len) {
  DropoutMasks m;
  const int64_t need = dropout_mask_floats(s, batch, len);
  if (need == 0) return m;
  if (flat.numel() != need) {
    throw ShapeError(fmt::format("dropout masks: expected {} values for batch {} x len {}, found {}", need, batch, len,
                                 flat.numel()));
  }
  int64_t off = 0;
  auto take = [&](at::IntArrayRef sizes) {
    int64_t n = 1;
    for (auto x : sizes) n *= x;
    at::Tensor t = flat.narrow(0, off, n).view(sizes);
    off += n;
    return t;
  };
  m.emb = take({batch, len, s.hidden});
  for (int64_t b = 0; b < s.blocks; ++b) {
    m.attn.push_back(take({batch * s.heads, len, len}));
    m.ffn_inner.push_back(take({batch, len, s.hidden}));
    m.ffn_out.push_back(take({batch, len, s.hidden}));
  }
  return m;
}

DropoutMasks DropoutMasks::sample(const SasrecShape& s, int64_t batch, int64_t len, core::Rng& rng,
                                  at::ScalarType dtype) {
  const int64_t n = dropout_mask_floats(s, batch, len);
  at::Tensor flat = at::empty({n}, at::kFloat);
  fill_dropout_masks(flat.data_ptr<float>(), n, s.dropout, rng);
  return view(flat.to(dtype), s, batch, len);
}

at::Tensor SasrecModel::add(const std::string& name, at::IntArrayRef sizes) {
  at::Tensor t = at::zeros(sizes, at::TensorOptions().dtype(dtype_));
  params_.emplace_back(name, t);
  return t;
}

SasrecModel::SasrecModel(const SasrecShape& shape, at::ScalarType dtype) : shape_(shape), dtype_(dtype) {
  LLMSREC_ASSERT(shape.num_items > 0 && shape.hidden > 0 && shape.maxlen > 0 && shape.heads > 0, "bad SASRec shape");
  LLMSREC_ASSERT(shape.hidden % shape.heads == 0, "hidden must be divisible by heads");
  const int64_t d = shape.hidden;
  item_emb_ = add(SasrecNames::item_emb(), {shape.num_items + 1, d});
  pos_emb_ = add(SasrecNames::pos_emb(), {shape.maxlen, d});
  for (int64_t b = 0; b < shape.blocks; ++b) {
    Block blk;
    blk.ln1_w = add(SasrecNames::block(b, "attn_ln.weight"), {d});
    blk.ln1_b = add(SasrecNames::block(b, "attn_ln.bias"), {d});
    blk.in_w = add(SasrecNames::block(b, "attn.in_proj_weight"), {3 * d, d});
    blk.in_b = add(SasrecNames::block(b, "attn.in_proj_bias"), {3 * d});
    if (shape.attn_out_proj) {
      blk.out_w = add(SasrecNames::block(b, "attn.out_proj.weight"), {d, d});
      blk.out_b = add(SasrecNames::block(b, "attn.out_proj.bias"), {d});
    }
    blk.ln2_w = add(SasrecNames::block(b, "ffn_ln.weight"), {d});
    blk.ln2_b = add(SasrecNames::block(b, "ffn_ln.bias"), {d});
    blk.w1 = add(SasrecNames::block(b, "ffn.w1"), {d, d});
    blk.b1 = add(SasrecNames::block(b, "ffn.b1"), {d});
    blk.w2 = add(SasrecNames::block(b, "ffn.w2"), {d, d});
    blk.b2 = add(SasrecNames::block(b, "ffn.b2"), {d});
    blocks_.push_back(blk);
  }
  last_w_ = add(SasrecNames::last_ln_w(), {d});
  last_b_ = add(SasrecNames::last_ln_b(), {d});
  init(0);
}

void SasrecModel::init(uint64_t seed) {
  core::Rng rng(core::stream_seed(seed, core::Stream::kInit));
  const double bias_bound = 1.0 / std::sqrt(static_cast<double>(shape_.hidden));
  at::NoGradGuard no_grad;
  for (auto& [name, t] : params_) {
    at::Tensor host = at::empty(t.sizes(), at::kDouble);
    double* p = host.data_ptr<double>();
    const int64_t n = host.numel();
    if (t.dim() >= 2) {
      // xavier_normal_: std = sqrt(2 / (fan_in + fan_out)); fan_in = size(1), fan_out = size(0).
      const double std = std::sqrt(2.0 / static_cast<double>(t.size(0) + t.size(1)));
      for (int64_t i = 0; i < n; ++i) p[i] = std * rng.normal();
    } else if (name.find("ln") != std::string::npos && name.size() > 6 &&
               name.compare(name.size() - 6, 6, "weight") == 0) {
      for (int64_t i = 0; i < n; ++i) p[i] = 1.0;
    } else if (name.find(".ffn.b") != std::string::npos) {
      for (int64_t i = 0; i < n; ++i) p[i] = (2.0 * rng.uniform01() - 1.0) * bias_bound;
    } else {
      for (int64_t i = 0; i < n; ++i) p[i] = 0.0;
    }
    t.copy_(host);
  }
  item_emb_[0].zero_();  // padding row: zero and never updated (padding_idx)
}

at::Tensor SasrecModel::param(const std::string& name) const {
  for (const auto& [n, t] : params_) {
    if (n == name) return t;
  }
  throw ShapeError(fmt::format("SASRec has no parameter '{}'", name));
}

void SasrecModel::set_requires_grad(bool on) {
  for (auto& [n, t] : params_) t.requires_grad_(on);
}

at::Tensor SasrecModel::attention(const Block& blk, const at::Tensor& q, const at::Tensor& x, const at::Tensor& bias,
                                  const at::Tensor* mask) const {
  const int64_t B = x.size(0), L = x.size(1), d = shape_.hidden, h = shape_.heads, dh = shape_.head_dim();
  at::Tensor Q = at::linear(q, blk.in_w.narrow(0, 0, d), blk.in_b.narrow(0, 0, d));
  at::Tensor KV = at::linear(x, blk.in_w.narrow(0, d, 2 * d), blk.in_b.narrow(0, d, 2 * d));
  at::Tensor K = KV.narrow(2, 0, d), V = KV.narrow(2, d, d);
  if (h > 1) {
    auto split = [&](const at::Tensor& t) { return t.reshape({B, L, h, dh}).transpose(1, 2).reshape({B * h, L, dh}); };
    Q = split(Q);
    K = split(K);
    V = split(V);
  }
  at::Tensor w = at::softmax(at::baddbmm(bias, Q, K.transpose(1, 2), 1.0, 1.0 / std::sqrt(static_cast<double>(dh))), -1);
  if (mask) w = w * *mask;
  at::Tensor o = at::bmm(w, V);
  if (h > 1) o = o.view({B, h, L, dh}).transpose(1, 2).reshape({B, L, d});
  if (shape_.attn_out_proj) o = at::linear(o, blk.out_w, blk.out_b);
  return o;
}

at::Tensor SasrecModel::encode_from(const at::Tensor& emb, const at::Tensor& seq, const DropoutMasks* masks) const {
  const int64_t B = seq.size(0), L = seq.size(1), d = shape_.hidden, h = shape_.heads;
  if (L > shape_.maxlen) throw ShapeError(fmt::format("SASRec input: {} slots > maxlen {}", L, shape_.maxlen));
  if (masks && !masks->emb.defined()) masks = nullptr;
  at::Tensor x = emb * std::sqrt(static_cast<double>(d)) + pos_emb_.narrow(0, shape_.maxlen - L, L);
  if (masks) x = x * masks->emb;
  at::Tensor live = seq.ne(0).unsqueeze(-1).to(dtype_);  // [B, L, 1]
  x = x * live;

  // Additive attention bias: causal, plus padding keys when asked (TF reference).
  at::Tensor bias = at::full({L, L}, -std::numeric_limits<double>::infinity(), at::TensorOptions().dtype(dtype_)).triu(1);
  if (shape_.mask_padding_keys) {
    at::Tensor keys = seq.eq(0).to(dtype_).mul(kMaskedKey).view({B, 1, 1, L});
    bias = (bias.view({1, 1, L, L}) + keys).expand({B, h, L, L}).reshape({B * h, L, L});
  }
  for (size_t b = 0; b < blocks_.size(); ++b) {
    const Block& blk = blocks_[b];
    const at::Tensor* attn_mask = masks ? &masks->attn[b] : nullptr;
    auto ln1 = [&](const at::Tensor& t) { return at::layer_norm(t, {d}, blk.ln1_w, blk.ln1_b, kLayerNormEps); };
    auto ln2 = [&](const at::Tensor& t) { return at::layer_norm(t, {d}, blk.ln2_w, blk.ln2_b, kLayerNormEps); };
    auto ffn = [&](const at::Tensor& t) {
      at::Tensor f = at::relu(at::linear(t, blk.w1, blk.b1));
      if (masks) f = f * masks->ffn_inner[b];
      f = at::linear(f, blk.w2, blk.b2);
      return masks ? f * masks->ffn_out[b] : f;
    };
    switch (shape_.block) {
      case BlockStyle::kQResidual: {
        at::Tensor q = ln1(x);
        x = q + attention(blk, q, x, bias, attn_mask);
        q = ln2(x);
        x = (q + ffn(q)) * live;
        break;
      }
      case BlockStyle::kPostNorm:
        x = ln1(x + attention(blk, x, x, bias, attn_mask));
        x = ln2(x + ffn(x));
        break;
      case BlockStyle::kPreNorm: {
        const at::Tensor n = ln1(x);
        x = x + attention(blk, n, n, bias, attn_mask);
        x = x + ffn(ln2(x));
        break;
      }
    }
  }
  return x;
}

at::Tensor SasrecModel::encode(const at::Tensor& seq, const DropoutMasks* masks) const {
  if (seq.dim() != 2 || seq.scalar_type() != at::kLong) {
    throw ShapeError(fmt::format("SASRec input: expected int64 [batch, slots], found {} [{}]", c10::toString(seq.scalar_type()),
                                 fmt::join(seq.sizes(), ", ")));
  }
  return encode_from(at::embedding(item_emb_, seq, 0), seq, masks);
}

at::Tensor SasrecModel::final_norm(const at::Tensor& x) const {
  return at::layer_norm(x, {shape_.hidden}, last_w_, last_b_, kLayerNormEps);
}

at::Tensor SasrecModel::forward(const at::Tensor& seq, const DropoutMasks* masks) const {
  return final_norm(encode(seq, masks));
}

at::Tensor SasrecModel::user_repr(const at::Tensor& seq, const DropoutMasks* masks) const {
  return final_norm(encode(seq, masks).select(1, seq.size(1) - 1));
}

at::Tensor SasrecModel::bce_loss(const at::Tensor& seq, const at::Tensor& rows, const at::Tensor& pos,
                                 const at::Tensor& neg, const DropoutMasks* masks, double l2_emb) const {
  const int64_t B = seq.size(0), L = seq.size(1), d = shape_.hidden, n = rows.size(0);
  if (pos.size(0) != n || neg.size(0) != n) {
    throw ShapeError(fmt::format("SASRec loss: rows {}, pos {}, neg {} must have equal length", n, pos.size(0),
                                 neg.size(0)));
  }
  // One lookup for inputs, positives and negatives: one dense gradient for E.
  at::Tensor all = at::embedding(item_emb_, at::cat({seq.reshape({-1}), pos, neg}), 0);
  at::Tensor x = encode_from(all.narrow(0, 0, B * L).view({B, L, d}), seq, masks);
  at::Tensor o = final_norm(x.reshape({B * L, d}).index_select(0, rows));  // only slots with a target
  at::Tensor pos_logits = (o * all.narrow(0, B * L, n)).sum(-1);
  at::Tensor neg_logits = (o * all.narrow(0, B * L + n, n)).sum(-1);
  at::Tensor loss = at::binary_cross_entropy_with_logits(pos_logits, at::ones_like(pos_logits)) +
                    at::binary_cross_entropy_with_logits(neg_logits, at::zeros_like(neg_logits));
  if (l2_emb > 0) loss = loss + l2_emb * item_emb_.pow(2).sum();
  return loss;
}

}  // namespace llmsrec::models::sasrec
