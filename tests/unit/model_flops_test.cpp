// trainer::llm_step_flops: the FLOP model of bench train's MFU, checked
// against the formula worked out by hand for a small LLaMA.
#include <gtest/gtest.h>

#include "trainer/model_flops.h"

namespace llmsrec::trainer {
namespace {

models::llama::LlamaConfig tiny() {
  models::llama::LlamaConfig c;
  c.hidden_size = 64;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 16;
  c.intermediate_size = 172;
  return c;
}

TEST(ModelFlops, ForwardOfOneSequenceByHand) {
  // G = 2*64*(64 + 2*32) + 2*64*64 + 6*64*172 = 16384 + 8192 + 66048 = 90624 per row.
  // L = 10: 10 * 90624 + 4 * 64 * 55 = 906240 + 14080 = 920320 per layer; 2 layers.
  EXPECT_DOUBLE_EQ(llm_step_flops(tiny(), {{10, 0}}, false), 2 * 920320.0);
}

TEST(ModelFlops, BackwardSkipsTheConstantPrefix) {
  const double fwd = llm_step_flops(tiny(), {{10, 4}}, false);
  const double both = llm_step_flops(tiny(), {{10, 4}}, true);
  // backward: 6 rows * 90624 + 8 * 64 * (55 - 10) = 543744 + 23040 per layer.
  EXPECT_DOUBLE_EQ(both - fwd, 2 * (543744.0 + 23040.0));
  EXPECT_LT(both, llm_step_flops(tiny(), {{10, 0}}, true)) << "a constant prefix must lower the backward count";
}

TEST(ModelFlops, SequencesAddUp) {
  const double a = llm_step_flops(tiny(), {{7, 2}}, true), b = llm_step_flops(tiny(), {{12, 0}}, true);
  EXPECT_DOUBLE_EQ(llm_step_flops(tiny(), {{7, 2}, {12, 0}}, true), a + b);
  EXPECT_DOUBLE_EQ(llm_step_flops(tiny(), {}, true), 0.0);
}

}  // namespace
}  // namespace llmsrec::trainer
