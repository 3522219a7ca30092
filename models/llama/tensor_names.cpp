#include "models/llama/tensor_names.h"

#include <fmt/format.h>

#include "core/error.h"

namespace llmsrec::models::llama {

namespace {

constexpr LayerTensor kAllLayerTensors[] = {
    LayerTensor::kAttnNorm, LayerTensor::kQ,  LayerTensor::kK,       LayerTensor::kV,
    LayerTensor::kQBias,    LayerTensor::kKBias, LayerTensor::kVBias, LayerTensor::kO,
    LayerTensor::kMlpNorm,  LayerTensor::kGate, LayerTensor::kUp,     LayerTensor::kDown,
};

const char* suffix(LayerTensor t) {
  switch (t) {
    case LayerTensor::kAttnNorm: return "input_layernorm.weight";
    case LayerTensor::kQ: return "self_attn.q_proj.weight";
    case LayerTensor::kK: return "self_attn.k_proj.weight";
    case LayerTensor::kV: return "self_attn.v_proj.weight";
    case LayerTensor::kQBias: return "self_attn.q_proj.bias";
    case LayerTensor::kKBias: return "self_attn.k_proj.bias";
    case LayerTensor::kVBias: return "self_attn.v_proj.bias";
    case LayerTensor::kO: return "self_attn.o_proj.weight";
    case LayerTensor::kMlpNorm: return "post_attention_layernorm.weight";
    case LayerTensor::kGate: return "mlp.gate_proj.weight";
    case LayerTensor::kUp: return "mlp.up_proj.weight";
    case LayerTensor::kDown: return "mlp.down_proj.weight";
  }
  LLMSREC_ASSERT(false, "unknown LayerTensor");
}

bool is_bias(LayerTensor t) {
  return t == LayerTensor::kQBias || t == LayerTensor::kKBias || t == LayerTensor::kVBias;
}

}  // namespace

std::string layer_tensor_name(int64_t layer, LayerTensor t) {
  return fmt::format("model.layers.{}.{}", layer, suffix(t));
}

std::vector<int64_t> layer_tensor_shape(const LlamaConfig& c, LayerTensor t) {
  const int64_t d = c.hidden_size, i = c.intermediate_size;
  switch (t) {
    case LayerTensor::kAttnNorm:
    case LayerTensor::kMlpNorm: return {d};
    case LayerTensor::kQ: return {c.q_dim(), d};
    case LayerTensor::kK:
    case LayerTensor::kV: return {c.kv_dim(), d};
    case LayerTensor::kQBias: return {c.q_dim()};
    case LayerTensor::kKBias:
    case LayerTensor::kVBias: return {c.kv_dim()};
    case LayerTensor::kO: return {d, c.q_dim()};
    case LayerTensor::kGate:
    case LayerTensor::kUp: return {i, d};
    case LayerTensor::kDown: return {d, i};
  }
  LLMSREC_ASSERT(false, "unknown LayerTensor");
}

std::vector<TensorSpec> llama_tensor_specs(const LlamaConfig& c) {
  std::vector<TensorSpec> out;
  out.push_back({kEmbedTokensName, {c.vocab_size, c.hidden_size}});
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    for (LayerTensor t : kAllLayerTensors) {
      if (is_bias(t) && !c.attention_bias) continue;
      out.push_back({layer_tensor_name(l, t), layer_tensor_shape(c, t)});
    }
  }
  out.push_back({kFinalNormName, {c.hidden_size}});
  if (!c.tie_word_embeddings) out.push_back({kLmHeadName, {c.vocab_size, c.hidden_size}});
  return out;
}

bool is_ignorable_tensor(const std::string& name) {
  const std::string tail = "rotary_emb.inv_freq";
  return name.size() >= tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace llmsrec::models::llama
