// config.json parsing, RoPE frequency tables, the tensor name table and the
// llama2.c row permutation (no libtorch needed).
#include <cmath>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/llama/llama2c_convert.h"
#include "models/llama/llama_config.h"
#include "models/llama/tensor_names.h"

using namespace llmsrec;
using namespace llmsrec::models::llama;
using nlohmann::json;

namespace {

// The shape of Llama-3.2-3B-Instruct's config.json.
json llama32_3b() {
  return json::parse(R"({
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 3072,
    "intermediate_size": 8192, "num_attention_heads": 24, "num_hidden_layers": 28,
    "num_key_value_heads": 8, "head_dim": 128, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
    "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "tie_word_embeddings": true, "torch_dtype": "bfloat16", "vocab_size": 128256,
    "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "hidden_act": "silu",
    "max_position_embeddings": 131072, "use_cache": true, "pretraining_tp": 1, "mlp_bias": false})");
}

template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  return "<no DataError>";
}

}  // namespace

TEST(LlamaConfig, ParsesLlama32) {
  auto c = parse_llama_config(llama32_3b(), "cfg.json");
  EXPECT_EQ(c.hidden_size, 3072);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.kv_dim(), 1024);
  EXPECT_EQ(c.rope_type, "llama3");
  EXPECT_DOUBLE_EQ(c.rope_factor, 32.0);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.eos_token_id, 128001);
  EXPECT_FALSE(c.attention_bias);
  // Round trip through our own writer.
  auto back = parse_llama_config(llama_config_to_json(c), "back.json");
  EXPECT_EQ(back.intermediate_size, c.intermediate_size);
  EXPECT_EQ(rope_inv_freq(back), rope_inv_freq(c));
}

TEST(LlamaConfig, Qwen2HasBiases) {
  json j = llama32_3b();
  j["architectures"] = {"Qwen2ForCausalLM"};
  j.erase("rope_scaling");
  auto c = parse_llama_config(j, "q.json");
  EXPECT_TRUE(c.attention_bias);
  auto specs = llama_tensor_specs(c);
  bool has_bias = false;
  for (const auto& s : specs) has_bias |= s.name == "model.layers.0.self_attn.k_proj.bias";
  EXPECT_TRUE(has_bias);
}

TEST(LlamaConfig, ErrorsNameKeyAndFile) {
  json j = llama32_3b();
  j["architectures"] = {"MistralForCausalLM"};
  auto msg = error_of([&] { parse_llama_config(j, "/m/config.json"); });
  EXPECT_NE(msg.find("/m/config.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("MistralForCausalLM"), std::string::npos) << msg;

  j = llama32_3b();
  j["rope_scaling"]["rope_type"] = "yarn";
  msg = error_of([&] { parse_llama_config(j, "/m/config.json"); });
  EXPECT_NE(msg.find("yarn"), std::string::npos) << msg;

  j = llama32_3b();
  j["num_key_value_heads"] = 7;
  msg = error_of([&] { parse_llama_config(j, "c.json"); });
  EXPECT_NE(msg.find("num_key_value_heads"), std::string::npos) << msg;

  j = llama32_3b();
  j.erase("hidden_size");
  msg = error_of([&] { parse_llama_config(j, "c.json"); });
  EXPECT_NE(msg.find("hidden_size"), std::string::npos) << msg;

  j = llama32_3b();
  j["hidden_act"] = "gelu";
  msg = error_of([&] { parse_llama_config(j, "c.json"); });
  EXPECT_NE(msg.find("gelu"), std::string::npos) << msg;
}

TEST(LlamaConfig, Llama3InverseFrequenciesMatchFormula) {
  auto c = parse_llama_config(llama32_3b(), "cfg.json");
  const auto inv = rope_inv_freq(c);
  ASSERT_EQ(inv.size(), 64u);
  int low = 0, high = 0, mid = 0;
  for (int i = 0; i < 64; ++i) {
    const double base = std::pow(500000.0, -2.0 * i / 128.0);
    const double wavelen = 2 * M_PI / base;
    double expect;
    if (wavelen < 8192.0 / 4.0) {  // high frequency: untouched
      expect = base;
      ++high;
    } else if (wavelen > 8192.0 / 1.0) {  // low frequency: slowed by factor
      expect = base / 32.0;
      ++low;
    } else {  // interpolate linearly in 1/wavelength between the two regimes
      const double s = (8192.0 / wavelen - 1.0) / (4.0 - 1.0);
      expect = base / 32.0 + s * (base - base / 32.0);
      ++mid;
    }
    EXPECT_NEAR(inv[i], expect, 1e-12 * base) << "index " << i;
  }
  EXPECT_GT(low, 0);
  EXPECT_GT(high, 0);
  EXPECT_GT(mid, 0);
  EXPECT_DOUBLE_EQ(inv[0], 1.0);
}

TEST(LlamaConfig, LinearScalingDividesFrequencies) {
  json j = llama32_3b();
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 4.0}};
  auto c = parse_llama_config(j, "c.json");
  const auto inv = rope_inv_freq(c);
  for (int i = 0; i < 64; ++i) EXPECT_NEAR(inv[i], std::pow(500000.0, -2.0 * i / 128.0) / 4.0, 1e-15);
}

TEST(LlamaTensorNames, TableIsConsistent) {
  LlamaConfig c;
  c.hidden_size = 8;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.num_key_value_heads = 1;
  c.head_dim = 4;
  c.intermediate_size = 12;
  c.vocab_size = 10;
  auto specs = llama_tensor_specs(c);
  EXPECT_EQ(specs.size(), 1u + 2 * 9 + 1 + 1);  // embed, 9 per layer, norm, lm_head
  EXPECT_EQ(layer_tensor_name(1, LayerTensor::kQ), "model.layers.1.self_attn.q_proj.weight");
  EXPECT_EQ(layer_tensor_shape(c, LayerTensor::kK), (std::vector<int64_t>{4, 8}));
  EXPECT_EQ(layer_tensor_shape(c, LayerTensor::kDown), (std::vector<int64_t>{8, 12}));
  c.tie_word_embeddings = true;
  EXPECT_EQ(llama_tensor_specs(c).size(), specs.size() - 1);
  EXPECT_TRUE(is_ignorable_tensor("model.layers.3.self_attn.rotary_emb.inv_freq"));
  EXPECT_FALSE(is_ignorable_tensor("model.layers.3.self_attn.q_proj.weight"));
}

TEST(Llama2cConvert, RopeRowPermutation) {
  // 2 heads of head_dim 4, 1 input column: rows numbered 0..7.
  std::vector<float> w{0, 1, 2, 3, 4, 5, 6, 7};
  permute_rope_rows_llama2c_to_hf(w.data(), 2, 4, 1);
  // Per head: rows (0,1,2,3) = pairs (0,1),(2,3) -> HF order (0,2 | 1,3).
  EXPECT_EQ(w, (std::vector<float>{0, 2, 1, 3, 4, 6, 5, 7}));
}
