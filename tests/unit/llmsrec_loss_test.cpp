// trainer::llmsrec_loss on tiny hand-made tensors (2 users, 3 candidates, 2
// dims), each term against a value derived by hand in the comments: a wrong
// sign, temperature, normalisation (L2 rows, 1/k, 1/global batch) or a mean
// where a sum belongs (or the reverse) moves these numbers.
//
// Definitions checked (trainer/llmsrec_loss.h, the reference implementation):
//   rec        = (1/B) sum_u -log softmax(s_u)[0],  s_uc = item_uc . user_u (no temperature)
//   distill    = (1/B) sum_u (1/k) ||û_u - ĉ_u||²     (û, ĉ: L2-normalised rows)
//   uniformity = mean_{i<j} exp(-2 ||û_i - û_j||²) + the same over ĉ
// with B the GLOBAL batch (LossNorm::global_count).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>

#include "trainer/llmsrec_loss.h"

namespace llmsrec::trainer {
namespace {

// user_1 = (1, 0), candidates (2, 0) (0, 1) (-1, 0) -> scores  2, 0, -1
// user_2 = (0, 2), candidates (0, .5) (1, 1) (0, -1) -> scores  1, 2, -2
// cf_1 = (0, 3) -> (0, 1);  cf_2 = (3, 4) -> (0.6, 0.8)
LossInputs inputs() {
  LossInputs in;
  in.user = at::tensor({1.0, 0.0, 0.0, 2.0}, at::kDouble).view({2, 2});
  in.items = at::tensor({2.0, 0.0, 0.0, 1.0, -1.0, 0.0,   //
                         0.0, 0.5, 1.0, 1.0, 0.0, -1.0},
                        at::kDouble)
                 .view({2, 3, 2});
  in.cf = at::tensor({0.0, 3.0, 3.0, 4.0}, at::kDouble).view({2, 2});
  return in;
}

// -log(e^2 / (e^2 + e^0 + e^-1)) = log(1 + e^-2 + e^-3)
const double kRec1 = std::log(1 + std::exp(-2.0) + std::exp(-3.0));  // 0.169846...
// -log(e^1 / (e^1 + e^2 + e^-2)) = log(1 + e^1 + e^-3)
const double kRec2 = std::log(1 + std::exp(1.0) + std::exp(-3.0));  // 1.326563...
// user 1: (1,0) vs (0,1): (1 + 1) / 2 = 1;  user 2: (0,1) vs (.6,.8): (.36 + .04) / 2 = 0.2
constexpr double kDistill1 = 1.0, kDistill2 = 0.2;
// one pair per set: ||(1,0) - (0,1)||² = 2 -> e^-4;  ||(0,1) - (.6,.8)||² = 0.4 -> e^-0.8
const double kUniformity = std::exp(-4.0) + std::exp(-0.8);  // 0.467645...

LossConfig config(double rec_w = 1, double distill_w = 1, double uniformity_w = 1) {
  LossConfig c;
  c.rec_weight = rec_w;
  c.distill_weight = distill_w;
  c.uniformity_weight = uniformity_w;
  return c;
}

TEST(LlmSrecLoss, EachTermMatchesTheHandComputedValue) {
  const LossParts p = llmsrec_loss(inputs(), config(), {.global_count = 2, .global_offset = 0, .world = 1}, nullptr);
  EXPECT_NEAR(p.rec, (kRec1 + kRec2) / 2, 1e-12) << "0.748204: mean over users of the positive's cross-entropy";
  EXPECT_NEAR(p.distill, (kDistill1 + kDistill2) / 2, 1e-12) << "0.6: MSE of the normalised vectors";
  EXPECT_NEAR(p.uniformity, kUniformity, 1e-12);
  EXPECT_NEAR(p.total.item<double>(), (kRec1 + kRec2) / 2 + 0.6 + kUniformity, 1e-12);
}

TEST(LlmSrecLoss, WeightsScaleTheirTermInTheTotalOnly) {
  const LossParts p =
      llmsrec_loss(inputs(), config(1, 0.5, 2), {.global_count = 2, .global_offset = 0, .world = 1}, nullptr);
  EXPECT_NEAR(p.total.item<double>(), (kRec1 + kRec2) / 2 + 0.5 * 0.6 + 2 * kUniformity, 1e-12);  // 1.983494
  EXPECT_NEAR(p.distill, 0.6, 1e-12) << "reported terms are unweighted";
  const LossParts off =
      llmsrec_loss(inputs(), config(1, 0, 0), {.global_count = 2, .global_offset = 0, .world = 1}, nullptr);
  EXPECT_NEAR(off.total.item<double>(), (kRec1 + kRec2) / 2, 1e-12) << "the ablation without distillation";
}

TEST(LlmSrecLoss, RecAndDistillAreDividedByTheGlobalBatch) {
  // This rank holds 2 of 4 users: its share of the sums is divided by 4, so summing the
  // ranks' gradients gives the global batch's. Uniformity (local scope) is not a per-user sum.
  const LossParts p = llmsrec_loss(inputs(), config(), {.global_count = 4, .global_offset = 0, .world = 1}, nullptr);
  EXPECT_NEAR(p.rec, (kRec1 + kRec2) / 4, 1e-12);  // 0.374102
  EXPECT_NEAR(p.distill, (kDistill1 + kDistill2) / 4, 1e-12);
  EXPECT_NEAR(p.uniformity, kUniformity, 1e-12);
}

TEST(LlmSrecLoss, ScoresAreRawDotProductsSoScalingTheUserChangesRec) {
  // No normalisation or temperature in the retrieval term: doubling user_1 doubles its scores
  // (4, 0, -2): -log softmax = log(1 + e^-4 + e^-6). Distill and uniformity see only directions.
  LossInputs in = inputs();
  in.user = in.user * at::tensor({2.0, 1.0}, at::kDouble).view({2, 1});
  const LossParts p = llmsrec_loss(in, config(), {.global_count = 2, .global_offset = 0, .world = 1}, nullptr);
  EXPECT_NEAR(p.rec, (std::log(1 + std::exp(-4.0) + std::exp(-6.0)) + kRec2) / 2, 1e-12);
  EXPECT_NEAR(p.distill, 0.6, 1e-12);
  EXPECT_NEAR(p.uniformity, kUniformity, 1e-12);
}

TEST(LlmSrecLoss, ContrastiveDistillUsesTheTemperature) {
  // sim = û ĉ^T / 0.5 = [[0, .6], [1, .8]] / .5 = [[0, 1.2], [2, 1.6]]; user i's positive is column i:
  // row 1: log(e^0 + e^1.2) - 0;  row 2: log(e^2 + e^1.6) - 1.6.
  LossConfig c = config();
  c.distill = "contrastive";
  c.temperature = 0.5;
  const LossParts p = llmsrec_loss(inputs(), c, {.global_count = 2, .global_offset = 0, .world = 1}, nullptr);
  const double row1 = std::log(1 + std::exp(1.2)), row2 = std::log(std::exp(2.0) + std::exp(1.6)) - 1.6;
  EXPECT_NEAR(p.distill, (row1 + row2) / 2, 1e-12);  // 1.188149
}

TEST(Uniformity, IsTheMeanOverDistinctPairs) {
  // (1,0), (0,1), (-1,0): squared distances 2, 4, 2 over the pairs (1,2), (1,3), (2,3):
  // (e^-4 + e^-8 + e^-4) / 3 = 0.012322. (Self-pairs would add three 1s: not counted.)
  at::Tensor x = at::tensor({1.0, 0.0, 0.0, 1.0, -1.0, 0.0}, at::kDouble).view({3, 2});
  EXPECT_NEAR(uniformity(x).item<double>(), (2 * std::exp(-4.0) + std::exp(-8.0)) / 3, 1e-12);
  EXPECT_EQ(uniformity(x.narrow(0, 0, 1)).item<double>(), 0.0) << "one row has no pair";
}

TEST(LlmSrecLoss, GradientOfRecPushesThePositiveUp) {
  // d rec / d s_uc = (softmax_c - [c == 0]) / B: negative for the positive, positive for the others,
  // so a descent step raises the positive's score. For user 1 with scores (2, 0, -1):
  // softmax_0 = 1 / (1 + e^-2 + e^-3), d/d item_1,0 = (softmax_0 - 1) / 2 * user_1.
  LossInputs in = inputs();
  in.items.requires_grad_(true);
  const LossParts p = llmsrec_loss(in, config(1, 0, 0), {.global_count = 2, .global_offset = 0, .world = 1}, nullptr);
  p.total.backward();
  const double softmax0 = 1 / (1 + std::exp(-2.0) + std::exp(-3.0));
  at::Tensor g = in.items.grad();
  EXPECT_NEAR(g[0][0][0].item<double>(), (softmax0 - 1) / 2, 1e-12);
  EXPECT_NEAR(g[0][0][1].item<double>(), 0.0, 1e-12) << "user_1 = (1, 0) has no second component";
  EXPECT_NEAR(g[0][1][0].item<double>(), softmax0 * std::exp(-2.0) / 2, 1e-12);
}

}  // namespace
}  // namespace llmsrec::trainer
