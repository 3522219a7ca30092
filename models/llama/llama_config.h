// The HuggingFace config.json of a LLaMA-family decoder (LlamaForCausalLM, and
// Qwen2ForCausalLM: the same blocks plus q/k/v biases).
//
//   auto cfg = models::llama::load_llama_config("models/tiny");  // dir or config.json
//   int64_t hd = cfg.head_dim;                                   // resolved
//   std::vector<double> inv = models::llama::rope_inv_freq(cfg);  // head_dim/2 entries
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace llmsrec::models::llama {

struct LlamaConfig {
  std::string architecture = "LlamaForCausalLM";  // or Qwen2ForCausalLM
  int64_t hidden_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // GQA; defaults to num_attention_heads
  int64_t head_dim = 0;             // defaults to hidden_size / num_attention_heads
  int64_t intermediate_size = 0;
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  // rope_scaling: "" (none), "llama3" or "linear".
  std::string rope_type;
  double rope_factor = 1.0;
  double rope_low_freq_factor = 1.0;
  double rope_high_freq_factor = 4.0;
  int64_t rope_original_max_position_embeddings = 8192;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q/k/v biases (Qwen2, or LLaMA with attention_bias: true)
  std::string torch_dtype = "float32";
  int64_t bos_token_id = -1;
  int64_t eos_token_id = -1;

  int64_t kv_dim() const { return num_key_value_heads * head_dim; }
  int64_t q_dim() const { return num_attention_heads * head_dim; }
};

// Parses and checks; `file` is used in error messages. Throws DataError naming
// the file and the key (unsupported architecture or rope type, bad values).
LlamaConfig parse_llama_config(const nlohmann::json& j, const std::string& file);
// `path`: a model directory or its config.json.
LlamaConfig load_llama_config(const std::string& path);
// The config.json that parse_llama_config reads back to the same config.
nlohmann::json llama_config_to_json(const LlamaConfig& cfg);

// RoPE inverse frequencies (head_dim/2 entries) after rope_scaling, in double.
std::vector<double> rope_inv_freq(const LlamaConfig& cfg);

}  // namespace llmsrec::models::llama
