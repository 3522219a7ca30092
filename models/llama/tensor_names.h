// The one table of HuggingFace tensor names of a LLaMA-family checkpoint
// (STYLE.md: model code never spells "model.layers.%d.self_attn.q_proj.weight"
// twice). The loader, the converters and make-tiny all go through it.
//
//   for (const auto& spec : models::llama::llama_tensor_specs(cfg)) {
//     reader.read_f32(spec.name, spec.shape, buf);   // name + expected shape
//   }
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/llama/llama_config.h"

namespace llmsrec::models::llama {

// Per-layer tensors, in checkpoint order.
enum class LayerTensor {
  kAttnNorm,
  kQ,
  kK,
  kV,
  kQBias,
  kKBias,
  kVBias,
  kO,
  kMlpNorm,
  kGate,
  kUp,
  kDown,
};

inline constexpr const char* kEmbedTokensName = "model.embed_tokens.weight";
inline constexpr const char* kFinalNormName = "model.norm.weight";
inline constexpr const char* kLmHeadName = "lm_head.weight";

std::string layer_tensor_name(int64_t layer, LayerTensor t);

// Shape of a per-layer tensor under `cfg` (row-major [out, in] for matrices).
std::vector<int64_t> layer_tensor_shape(const LlamaConfig& cfg, LayerTensor t);

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
};

// Every tensor the checkpoint of `cfg` must hold, in a stable order:
// embeddings, layers 0..L-1, final norm, lm_head (unless tied). Biases only
// when cfg.attention_bias.
std::vector<TensorSpec> llama_tensor_specs(const LlamaConfig& cfg);

// Checkpoint tensors that are known to be harmless leftovers (e.g. the
// rotary_emb.inv_freq buffers of older exports); everything else unexpected is an error.
bool is_ignorable_tensor(const std::string& name);

}  // namespace llmsrec::models::llama
