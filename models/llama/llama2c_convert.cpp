#include "models/llama/llama2c_convert.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "checkpoint/safetensors.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "models/llama/hf_writer.h"
#include "models/llama/tensor_names.h"

namespace llmsrec::models::llama {

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(fmt::format("open '{}': {}", path, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

void permute_rope_rows_llama2c_to_hf(float* w, int64_t heads, int64_t head_dim, int64_t in_features) {
  std::vector<float> head(static_cast<size_t>(head_dim * in_features));
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < heads; ++h) {
    float* base = w + h * head_dim * in_features;
    std::memcpy(head.data(), base, head.size() * sizeof(float));
    for (int64_t i = 0; i < half; ++i) {
      std::memcpy(base + i * in_features, head.data() + (2 * i) * in_features, in_features * sizeof(float));
      std::memcpy(base + (i + half) * in_features, head.data() + (2 * i + 1) * in_features, in_features * sizeof(float));
    }
  }
}

Llama2cConvertSummary convert_llama2c(const std::string& checkpoint_bin, const std::string& tokenizer_bin,
                                      const std::string& out_dir) {
  checkpoint::MappedFile file(checkpoint_bin);
  const std::string& path = checkpoint_bin;
  if (file.size() < 28) throw DataError(fmt::format("llama2.c checkpoint '{}': {} bytes, shorter than its 28-byte header",
                                                    path, file.size()));
  int32_t h[7];
  std::memcpy(h, file.data(), sizeof(h));
  const int64_t dim = h[0], hidden = h[1], layers = h[2], heads = h[3], kv_heads = h[4], seq_len = h[6];
  const bool shared = h[5] > 0;
  const int64_t vocab = h[5] < 0 ? -static_cast<int64_t>(h[5]) : h[5];
  const char* names[] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
  for (int i = 0; i < 7; ++i) {
    if (h[i] == 0 || (i != 5 && h[i] < 0) || std::abs(static_cast<int64_t>(h[i])) > (1 << 24)) {
      throw DataError(fmt::format("llama2.c checkpoint '{}': header field {} = {} is not a plausible size (not a "
                                  "version-0 llama2.c file?)", path, names[i], h[i]));
    }
  }
  if (dim % heads != 0 || heads % kv_heads != 0 || (dim / heads) % 2 != 0) {
    throw DataError(fmt::format("llama2.c checkpoint '{}': dim {}, n_heads {}, n_kv_heads {} do not form valid "
                                "attention heads", path, dim, heads, kv_heads));
  }
  const int64_t hd = dim / heads, kv_dim = kv_heads * hd;

  LlamaConfig cfg;
  cfg.hidden_size = dim;
  cfg.intermediate_size = hidden;
  cfg.num_hidden_layers = layers;
  cfg.num_attention_heads = heads;
  cfg.num_key_value_heads = kv_heads;
  cfg.head_dim = hd;
  cfg.vocab_size = vocab;
  cfg.max_position_embeddings = seq_len;
  cfg.rms_norm_eps = 1e-5;  // run.c's rmsnorm
  cfg.rope_theta = 10000.0;
  cfg.tie_word_embeddings = shared;
  cfg.bos_token_id = 1;
  cfg.eos_token_id = 2;

  // Sizes in file order (README of stories260K / run.c memory_map_weights).
  const int64_t rope_tables = 2 * seq_len * hd / 2;
  const int64_t floats = vocab * dim + layers * (2 * dim + dim * dim * 2 + 2 * kv_dim * dim + 3 * dim * hidden) + dim +
                         rope_tables + (shared ? 0 : vocab * dim);
  const uint64_t expect_bytes = 28 + static_cast<uint64_t>(floats) * 4;
  if (file.size() != expect_bytes) {
    throw DataError(fmt::format("llama2.c checkpoint '{}': {} bytes, but its header (dim {}, hidden {}, layers {}, "
                                "heads {}, kv heads {}, vocab {}, {} classifier, seq_len {}) implies {} (truncated, "
                                "or not a version-0 file?)", path, file.size(), dim, hidden, layers, heads, kv_heads,
                                vocab, shared ? "shared" : "separate", seq_len, expect_bytes));
  }
  const uint8_t* cursor = file.data() + 28;
  auto take = [&](int64_t n) {
    std::vector<float> v(static_cast<size_t>(n));
    std::memcpy(v.data(), cursor, static_cast<size_t>(n) * 4);
    cursor += n * 4;
    return v;
  };
  // Splits a stacked [layers][rows][cols] array into per-layer tensors.
  std::map<std::string, std::vector<float>> w;
  auto per_layer = [&](LayerTensor t, int64_t per) {
    std::vector<float> all = take(layers * per);
    for (int64_t l = 0; l < layers; ++l) {
      w[layer_tensor_name(l, t)].assign(all.begin() + l * per, all.begin() + (l + 1) * per);
    }
  };
  w[kEmbedTokensName] = take(vocab * dim);
  per_layer(LayerTensor::kAttnNorm, dim);
  per_layer(LayerTensor::kQ, dim * dim);
  per_layer(LayerTensor::kK, kv_dim * dim);
  per_layer(LayerTensor::kV, kv_dim * dim);
  per_layer(LayerTensor::kO, dim * dim);
  per_layer(LayerTensor::kMlpNorm, dim);
  per_layer(LayerTensor::kGate, hidden * dim);
  per_layer(LayerTensor::kDown, dim * hidden);
  per_layer(LayerTensor::kUp, hidden * dim);
  w[kFinalNormName] = take(dim);
  cursor += rope_tables * 4;  // legacy cos/sin tables: recomputed by the model
  if (!shared) w[kLmHeadName] = take(vocab * dim);
  for (int64_t l = 0; l < layers; ++l) {
    permute_rope_rows_llama2c_to_hf(w[layer_tensor_name(l, LayerTensor::kQ)].data(), heads, hd, dim);
    permute_rope_rows_llama2c_to_hf(w[layer_tensor_name(l, LayerTensor::kK)].data(), kv_heads, hd, dim);
  }

  write_hf_llama(out_dir, cfg, w);
  core::write_file_atomic((std::filesystem::path(out_dir) / "tokenizer.bin").string(), read_all(tokenizer_bin));

  Llama2cConvertSummary s;
  s.config = cfg;
  s.shared_classifier = shared;
  s.parameters = floats - rope_tables;
  return s;
}

}  // namespace llmsrec::models::llama
