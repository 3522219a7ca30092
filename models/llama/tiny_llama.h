// A random LLaMA in HuggingFace format, for tests and the demo. Weights come
// from core::Rng (not torch's generator), so the same seed writes the same
// bytes on every machine.
//
//   models::llama::TinyLlamaOptions o;
//   o.seed = 7; o.dim = 64; o.layers = 2;
//   models::llama::write_tiny_llama("runs/tiny-llama", o);   // config.json, model.safetensors, tokenizer.json
#pragma once

#include <cstdint>
#include <string>

#include "models/llama/llama_config.h"

namespace llmsrec::models::llama {

struct TinyLlamaOptions {
  uint64_t seed = 0;
  int64_t dim = 64;
  int64_t layers = 2;
  int64_t heads = 4;
  int64_t kv_heads = 2;
  int64_t vocab = 512;
  int64_t hidden_dim = 172;
  int64_t max_pos = 512;
  double rope_theta = 10000.0;
  bool tie_embeddings = false;
  bool attention_bias = false;  // true writes a Qwen2ForCausalLM
  double init_std = 0.02;       // std of the matrices; norms are 1 + N(0, 0.1^2)
  // Also write a byte-level BPE tokenizer.json (make_tiny_tokenizer_json over a
  // built-in English corpus, vocab - 258 merges); the model's vocab then equals
  // the tokenizer's size (which may be below `vocab` if the corpus runs out of pairs).
  bool with_tokenizer = true;
  // More text for the tokenizer to learn merges from (e.g. the dataset's item
  // titles), so prompts of that domain tokenize into fewer tokens.
  std::string extra_corpus;
};

// The config that write_tiny_llama writes.
LlamaConfig tiny_llama_config(const TinyLlamaOptions& options);

// Writes DIR/tokenizer.json (with_tokenizer), DIR/config.json and DIR/model.safetensors. Returns the config.
LlamaConfig write_tiny_llama(const std::string& dir, const TinyLlamaOptions& options);

}  // namespace llmsrec::models::llama
