#include "models/llama/tiny_llama.h"

#include <filesystem>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/rng.h"
#include "models/llama/hf_writer.h"
#include "models/llama/tensor_names.h"

namespace llmsrec::models::llama {

LlamaConfig tiny_llama_config(const TinyLlamaOptions& o) {
  auto positive = [](const char* name, int64_t v) {
    if (v < 1) throw ConfigError(fmt::format("make-tiny: --{} must be >= 1, found {}", name, v));
  };
  positive("dim", o.dim);
  positive("layers", o.layers);
  positive("heads", o.heads);
  positive("kv-heads", o.kv_heads);
  positive("vocab", o.vocab);
  positive("hidden-dim", o.hidden_dim);
  positive("max-pos", o.max_pos);
  if (o.dim % o.heads != 0 || (o.dim / o.heads) % 2 != 0 || o.heads % o.kv_heads != 0) {
    throw ConfigError(fmt::format("make-tiny: dim {} / heads {} must be an even head size and heads a multiple of "
                                  "kv-heads {}", o.dim, o.heads, o.kv_heads));
  }
  LlamaConfig c;
  c.architecture = o.attention_bias ? "Qwen2ForCausalLM" : "LlamaForCausalLM";
  c.hidden_size = o.dim;
  c.num_hidden_layers = o.layers;
  c.num_attention_heads = o.heads;
  c.num_key_value_heads = o.kv_heads;
  c.head_dim = o.dim / o.heads;
  c.intermediate_size = o.hidden_dim;
  c.vocab_size = o.vocab;
  c.max_position_embeddings = o.max_pos;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = o.rope_theta;
  c.tie_word_embeddings = o.tie_embeddings;
  c.attention_bias = o.attention_bias;
  return c;
}

LlamaConfig write_tiny_llama(const std::string& dir, const TinyLlamaOptions& o) {
  LlamaConfig cfg = tiny_llama_config(o);
  std::map<std::string, std::vector<float>> w;
  const auto specs = llama_tensor_specs(cfg);
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto& spec = specs[i];
    int64_t n = 1;
    for (int64_t d : spec.shape) n *= d;
    // One stream per tensor: adding a tensor type later does not shift the others.
    core::Rng rng(core::stream_seed(o.seed, core::Stream::kInit, 0x11a3a, i));
    std::vector<float> v(static_cast<size_t>(n));
    const bool is_norm = spec.shape.size() == 1 && spec.name.find("bias") == std::string::npos;
    for (auto& x : v) x = static_cast<float>(is_norm ? 1.0 + 0.1 * rng.normal() : o.init_std * rng.normal());
    w[spec.name] = std::move(v);
  }
  write_hf_llama(dir, cfg, w);
  if (!o.tokenizer_json.empty()) {
    core::write_file_atomic((std::filesystem::path(dir) / "tokenizer.json").string(), o.tokenizer_json);
  }
  return cfg;
}

}  // namespace llmsrec::models::llama
