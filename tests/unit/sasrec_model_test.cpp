#include <ATen/ATen.h>

#include <gtest/gtest.h>

#include "models/sasrec/sasrec_model.h"

namespace llmsrec::models::sasrec {
namespace {

SasrecShape tiny_shape(bool mask_keys = false, int64_t heads = 1) {
  SasrecShape s;
  s.num_items = 30;
  s.hidden = 8;
  s.maxlen = 6;
  s.blocks = 2;
  s.heads = heads;
  s.dropout = 0.3;
  s.mask_padding_keys = mask_keys;
  return s;
}

at::Tensor batch_seq() {
  // Right-aligned: user 0 has 3 items, user 1 has 6, user 2 has 1.
  std::vector<int64_t> v = {0, 0, 0, 4, 9, 2, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 17};
  return at::tensor(v, at::kLong).view({3, 6});
}

void expect_close(const at::Tensor& a, const at::Tensor& b, double tol, const char* what) {
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  const double diff = (a - b).abs().max().item<double>();
  EXPECT_LE(diff, tol) << what << ": max |a - b| = " << diff;
}

TEST(SasrecModel, ShapesAndInit) {
  SasrecModel m(tiny_shape(false, 2));
  m.init(3);
  EXPECT_EQ(m.item_emb().sizes(), (std::vector<int64_t>{31, 8}));
  EXPECT_EQ(m.item_emb()[0].abs().sum().item<double>(), 0.0);  // padding row
  EXPECT_EQ(m.param("blocks.1.attn_ln.weight").sum().item<double>(), 8.0);
  EXPECT_EQ(m.param("blocks.0.attn.in_proj_bias").abs().sum().item<double>(), 0.0);
  EXPECT_GT(m.param("blocks.0.ffn.b1").abs().sum().item<double>(), 0.0);
  // xavier-normal: std = sqrt(2 / (fan_in + fan_out)) = sqrt(2 / 32) for [3d, d] = [24, 8].
  const double std = m.param("blocks.0.attn.in_proj_weight").std().item<double>();
  EXPECT_NEAR(std, 0.25, 0.06);
  at::Tensor seq = batch_seq();
  EXPECT_EQ(m.forward(seq).sizes(), (std::vector<int64_t>{3, 6, 8}));
  EXPECT_EQ(m.user_repr(seq).sizes(), (std::vector<int64_t>{3, 8}));
  // Same seed, same weights; another seed, others.
  SasrecModel m2(tiny_shape(false, 2)), m3(tiny_shape(false, 2));
  m2.init(3);
  m3.init(4);
  EXPECT_TRUE(at::equal(m.item_emb(), m2.item_emb()));
  EXPECT_FALSE(at::equal(m.item_emb(), m3.item_emb()));
  EXPECT_THROW(m.forward(seq.to(at::kInt)), std::exception);
}

TEST(SasrecModel, PaddingNeverChangesRealPositions) {
  for (bool mask_keys : {false, true}) {
    SasrecModel m(tiny_shape(mask_keys, 2));
    m.init(5);
    at::Tensor seq = batch_seq();
    at::Tensor live = seq.ne(0);
    at::Tensor before = m.forward(seq);
    {
      at::NoGradGuard g;  // garbage in the padding row of the item table
      m.item_emb()[0].normal_();
    }
    at::Tensor after = m.forward(seq);
    expect_close(before.index({live}), after.index({live}), 0, "padding embedding changed a real slot");
    {
      at::NoGradGuard g;  // and in the position rows that users 0 and 2 only use at padding slots
      m.param("pos_emb").narrow(0, 0, 3).normal_();
    }
    at::Tensor moved = m.forward(seq);
    for (int64_t u : {0, 2}) {
      expect_close(before[u].index({live[u]}), moved[u].index({live[u]}), 0, "padding position changed a real slot");
    }
    after = moved;
    // Other users in the batch do not matter either.
    expect_close(m.forward(seq.narrow(0, 0, 1))[0], after[0], 1e-6, "batch neighbours changed a user");
  }
}

TEST(SasrecModel, MaskedPaddingKeysMakeLeftPaddingIrrelevant) {
  // With the TF reference's key masking, dropping leading padding slots is exact.
  SasrecModel m(tiny_shape(true));
  m.init(9);
  at::Tensor seq = batch_seq().narrow(0, 0, 1);  // 3 padding slots then 3 items
  at::Tensor full = m.forward(seq).narrow(1, 3, 3);
  at::Tensor trimmed = m.forward(seq.narrow(1, 3, 3));
  expect_close(full, trimmed, 1e-5, "trimmed padding");
  // Without key masking, padding slots are (constant) keys: the output differs.
  SasrecModel p(tiny_shape(false));
  p.init(9);
  at::NoGradGuard g;
  p.param("blocks.0.attn.in_proj_bias").normal_();  // non-zero key/value bias makes padding keys visible
  EXPECT_GT((p.forward(seq).narrow(1, 3, 3) - p.forward(seq.narrow(1, 3, 3))).abs().max().item<double>(), 1e-4);
}

TEST(SasrecModel, Causality) {
  for (bool mask_keys : {false, true}) {
    SasrecModel m(tiny_shape(mask_keys, 2));
    m.init(11);
    at::Tensor seq = batch_seq();
    at::Tensor out = m.forward(seq);
    for (int64_t t = 0; t < 6; ++t) {
      at::Tensor changed = seq.clone();
      changed.select(1, t).fill_(29);  // every user's slot t becomes item 29 (a padding slot may become real)
      at::Tensor out2 = m.forward(changed);
      if (t > 0) expect_close(out.narrow(1, 0, t), out2.narrow(1, 0, t), 0, "a later item changed an earlier slot");
      EXPECT_GT((out.select(1, t) - out2.select(1, t)).abs().max().item<double>(), 1e-6) << "slot " << t;
    }
  }
}

TEST(SasrecModel, EveryBlockStyleIsCausalAndDistinct) {
  at::Tensor seq = batch_seq();
  std::vector<at::Tensor> outs;
  for (BlockStyle style : {BlockStyle::kQResidual, BlockStyle::kPostNorm, BlockStyle::kPreNorm}) {
    SasrecShape s = tiny_shape(false, 2);
    s.block = style;
    SasrecModel m(s);
    m.init(11);  // same weights for every style
    at::Tensor out = m.forward(seq);
    for (int64_t t = 1; t < 6; ++t) {
      at::Tensor changed = seq.clone();
      changed.select(1, t).fill_(29);
      expect_close(out.narrow(1, 0, t), m.forward(changed).narrow(1, 0, t), 0, block_style_name(style));
    }
    outs.push_back(out.select(1, 5));  // every user's last (real) slot
  }
  // Same weights, different wiring: the options really change the model.
  EXPECT_GT((outs[0] - outs[1]).abs().max().item<double>(), 1e-3);
  EXPECT_GT((outs[1] - outs[2]).abs().max().item<double>(), 1e-3);
  BlockStyle parsed;
  EXPECT_TRUE(parse_block_style("post_norm", &parsed));
  EXPECT_EQ(parsed, BlockStyle::kPostNorm);
  EXPECT_FALSE(parse_block_style("postnorm", &parsed));
}

TEST(SasrecModel, DropoutMasksAreUsedAndScaled) {
  SasrecShape s = tiny_shape();
  core::Rng rng(1);
  DropoutMasks masks = DropoutMasks::sample(s, 3, 6, rng, at::kFloat);
  ASSERT_EQ(masks.attn.size(), 2u);
  EXPECT_EQ(masks.attn[0].sizes(), (std::vector<int64_t>{3, 6, 6}));
  const double kept = masks.emb.ne(0).to(at::kDouble).mean().item<double>();
  EXPECT_NEAR(kept, 0.7, 0.1);
  EXPECT_NEAR(masks.emb.max().item<double>(), 1.0 / 0.7, 1e-6);
  SasrecModel m(s);
  m.init(2);
  at::Tensor seq = batch_seq();
  EXPECT_GT((m.user_repr(seq, &masks) - m.user_repr(seq)).abs().max().item<double>(), 1e-4);
}

TEST(SasrecModel, GradientCheckInDouble) {
  SasrecShape s = tiny_shape(false, 2);
  SasrecModel m(s, at::kDouble);
  m.init(13);
  {
    at::NoGradGuard g;  // non-trivial LayerNorm and biases so every path is exercised
    for (const auto& [name, t] : m.params()) {
      if (t.dim() == 1) t.add_(at::randn(t.sizes(), at::kDouble) * 0.1);
    }
  }
  m.set_requires_grad(true);
  at::Tensor seq = batch_seq();
  std::vector<int64_t> rows_v, pos_v, neg_v;
  auto sp = seq.accessor<int64_t, 2>();
  for (int64_t b = 0; b < 3; ++b) {
    for (int64_t t = 0; t < 6; ++t) {
      if (sp[b][t] != 0) {
        rows_v.push_back(b * 6 + t);
        pos_v.push_back(1 + (b * 7 + t) % 30);
        neg_v.push_back(1 + (b * 11 + t * 3 + 5) % 30);
      }
    }
  }
  at::Tensor rows = at::tensor(rows_v, at::kLong), pos = at::tensor(pos_v, at::kLong), neg = at::tensor(neg_v, at::kLong);
  core::Rng rng(21);
  DropoutMasks masks = DropoutMasks::sample(s, 3, 6, rng, at::kDouble);
  auto loss_of = [&] { return m.bce_loss(seq, rows, pos, neg, &masks, 0.01); };
  at::Tensor loss = loss_of();
  loss.backward();
  const double h = 1e-6;
  int checked = 0;
  for (const auto& [name, p] : m.params()) {
    at::Tensor g = p.grad();
    ASSERT_TRUE(g.defined()) << name;
    at::Tensor flat = p.detach().view({-1});
    at::Tensor gflat = g.view({-1});
    for (int64_t k = 0; k < std::min<int64_t>(flat.numel(), 4); ++k) {
      const int64_t i = (k * 7919 + 13) % flat.numel();
      const double orig = flat[i].item<double>();
      double up, down;
      {
        at::NoGradGuard ng;
        flat[i].fill_(orig + h);
        up = loss_of().item<double>();
        flat[i].fill_(orig - h);
        down = loss_of().item<double>();
        flat[i].fill_(orig);
      }
      const double numeric = (up - down) / (2 * h), analytic = gflat[i].item<double>();
      EXPECT_NEAR(analytic, numeric, 1e-6 + 1e-5 * std::abs(numeric)) << name << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 40);
  // The padding row gets no gradient.
  EXPECT_EQ(m.item_emb().grad()[0].abs().sum().item<double>(), 0.0);
}

}  // namespace
}  // namespace llmsrec::models::sasrec
