#include "models/llama/tiny_llama.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/rng.h"
#include "models/llama/hf_writer.h"
#include "models/llama/tensor_names.h"
#include "models/llama/tokenizer.h"

namespace llmsrec::models::llama {

namespace {

// Text the tiny tokenizer learns its merges from: everyday English plus the
// shapes of recommendation prompts (titles, dates, numbered history entries).
constexpr const char* kTinyCorpus =
    "The user has watched the following items in order. Item No.1, 2014-03-02: \"The Space Between Us\". "
    "Item No.2, 2014-05-17: \"A Quiet Place in the Country\". Item No.3: \"Learning to Cook at Home\". "
    "Based on this history, recommend the next item the user will like. The item title is \"Wireless "
    "Headphones with Noise Cancelling\", a book about the history of the world, a movie about friends, "
    "a game for the whole family, and a set of kitchen knives. Once upon a time there was a little girl "
    "who loved to read stories and play outside in the park with her friends and her dog. "
    "Customers who bought this product also bought these products: running shoes, water bottle, "
    "travel bag, phone case, coffee maker, desk lamp, notebook, pencil, guitar strings, board game.";

}  // namespace

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
  if (o.with_tokenizer) {
    // 256 byte tokens + merges + 2 special tokens.
    const std::string path = (std::filesystem::path(dir) / "tokenizer.json").string();
    core::write_file_atomic(path, make_tiny_tokenizer_json(std::string(kTinyCorpus) + "\n" + o.extra_corpus,
                                                              std::max<int64_t>(0, o.vocab - 258)));
    auto tok = load_tokenizer(path);
    cfg.vocab_size = tok->vocab_size();
    cfg.bos_token_id = tok->bos_id();
    cfg.eos_token_id = tok->eos_id();
  }
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
  return cfg;
}

}  // namespace llmsrec::models::llama
