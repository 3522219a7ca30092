#include "models/llama/llama_config.h"

#include "checkpoint/hf_model_dir.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace llmsrec::models::llama {

using nlohmann::json;

namespace {

class Reader {
 public:
  Reader(const json& j, const std::string& file) : j_(j), file_(file) {}

  DataError error(const std::string& key, const std::string& what) const {
    return DataError(fmt::format("model config '{}': key '{}': {}", file_, key, what));
  }
  bool has(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }
  int64_t integer(const char* key, bool required, int64_t fallback, int64_t min_value = 1) const {
    if (!has(key)) {
      if (required) throw error(key, "required but missing");
      return fallback;
    }
    const json& v = j_[key];
    if (!v.is_number_integer()) throw error(key, fmt::format("expected an integer, found {}", v.dump()));
    int64_t x = v.get<int64_t>();
    if (x < min_value) throw error(key, fmt::format("must be >= {}, found {}", min_value, x));
    return x;
  }
  double number(const char* key, double fallback) const {
    if (!has(key)) return fallback;
    if (!j_[key].is_number()) throw error(key, fmt::format("expected a number, found {}", j_[key].dump()));
    return j_[key].get<double>();
  }
  bool boolean(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!j_[key].is_boolean()) throw error(key, fmt::format("expected true/false, found {}", j_[key].dump()));
    return j_[key].get<bool>();
  }
  std::string string(const char* key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    if (!j_[key].is_string()) throw error(key, fmt::format("expected a string, found {}", j_[key].dump()));
    return j_[key].get<std::string>();
  }
  // A token id, or a list of them (LLaMA-3.1 lists several EOS ids): the first.
  int64_t token_id(const char* key) const {
    if (!has(key)) return -1;
    const json& v = j_[key];
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_array() && !v.empty() && v[0].is_number_integer()) return v[0].get<int64_t>();
    throw error(key, fmt::format("expected a token id or a list of ids, found {}", v.dump()));
  }

 private:
  const json& j_;
  const std::string& file_;
};

}  // namespace

LlamaConfig parse_llama_config(const json& j, const std::string& file) {
  if (!j.is_object()) throw DataError(fmt::format("model config '{}': not a JSON object", file));
  Reader r(j, file);
  LlamaConfig c;
  if (r.has("architectures")) {
    const json& a = j["architectures"];
    if (!a.is_array() || a.size() != 1 || !a[0].is_string()) {
      throw r.error("architectures", fmt::format("expected a list with one name, found {}", a.dump()));
    }
    c.architecture = a[0].get<std::string>();
  } else {
    std::string model_type = r.string("model_type", "llama");
    c.architecture = model_type == "qwen2" ? "Qwen2ForCausalLM" : model_type == "llama" ? "LlamaForCausalLM" : model_type;
  }
  const bool qwen2 = c.architecture == "Qwen2ForCausalLM";
  if (c.architecture != "LlamaForCausalLM" && !qwen2) {
    throw r.error("architectures", fmt::format("unsupported architecture '{}' (supported: LlamaForCausalLM, "
                                               "Qwen2ForCausalLM)", c.architecture));
  }
  c.hidden_size = r.integer("hidden_size", true, 0);
  c.num_hidden_layers = r.integer("num_hidden_layers", true, 0);
  c.num_attention_heads = r.integer("num_attention_heads", true, 0);
  c.num_key_value_heads = r.integer("num_key_value_heads", false, c.num_attention_heads);
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    throw r.error("num_key_value_heads", fmt::format("{} does not divide num_attention_heads {}",
                                                     c.num_key_value_heads, c.num_attention_heads));
  }
  if (!r.has("head_dim") && c.hidden_size % c.num_attention_heads != 0) {
    throw r.error("num_attention_heads", fmt::format("{} does not divide hidden_size {} (and no head_dim given)",
                                                     c.num_attention_heads, c.hidden_size));
  }
  c.head_dim = r.integer("head_dim", false, c.hidden_size / c.num_attention_heads);
  if (c.head_dim % 2 != 0) throw r.error("head_dim", fmt::format("must be even for RoPE, found {}", c.head_dim));
  c.intermediate_size = r.integer("intermediate_size", true, 0);
  c.vocab_size = r.integer("vocab_size", true, 0);
  c.max_position_embeddings = r.integer("max_position_embeddings", false, 2048);
  c.rms_norm_eps = r.number("rms_norm_eps", 1e-6);
  c.rope_theta = r.number("rope_theta", 10000.0);
  if (!(c.rms_norm_eps > 0)) throw r.error("rms_norm_eps", "must be > 0");
  if (!(c.rope_theta > 0)) throw r.error("rope_theta", "must be > 0");
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  c.attention_bias = qwen2 ? true : r.boolean("attention_bias", false);
  c.torch_dtype = r.string("torch_dtype", "float32");
  c.bos_token_id = r.token_id("bos_token_id");
  c.eos_token_id = r.token_id("eos_token_id");

  // Keys that would change the computation in ways this decoder does not implement.
  if (std::string act = r.string("hidden_act", "silu"); act != "silu") {
    throw r.error("hidden_act", fmt::format("unsupported activation '{}' (supported: silu)", act));
  }
  if (r.boolean("mlp_bias", false)) throw r.error("mlp_bias", "MLP biases are not supported");
  if (r.boolean("use_sliding_window", false)) throw r.error("use_sliding_window", "sliding-window attention is not supported");

  if (r.has("rope_scaling")) {
    const json& s = j["rope_scaling"];
    if (!s.is_object()) throw r.error("rope_scaling", fmt::format("expected an object, found {}", s.dump()));
    Reader rs(s, file);
    std::string type = rs.string("rope_type", rs.string("type", ""));
    if (type == "default" || type.empty()) {
      type.clear();
    } else if (type == "linear") {
      c.rope_factor = rs.number("factor", 1.0);
    } else if (type == "llama3") {
      c.rope_factor = rs.number("factor", 8.0);
      c.rope_low_freq_factor = rs.number("low_freq_factor", 1.0);
      c.rope_high_freq_factor = rs.number("high_freq_factor", 4.0);
      c.rope_original_max_position_embeddings = rs.integer("original_max_position_embeddings", false, 8192);
      if (!(c.rope_high_freq_factor > c.rope_low_freq_factor)) {
        throw r.error("rope_scaling.high_freq_factor", "must be greater than low_freq_factor");
      }
    } else {
      throw r.error("rope_scaling.rope_type", fmt::format("unsupported rope scaling '{}' (supported: llama3, linear)", type));
    }
    if (!type.empty() && !(c.rope_factor > 0)) throw r.error("rope_scaling.factor", "must be > 0");
    c.rope_type = type;
  }
  return c;
}

LlamaConfig load_llama_config(const std::string& path) {
  const std::string file = checkpoint::hf_model_file(path, "config");
  std::ifstream in(file);
  if (!in) throw IoError(fmt::format("open model config '{}': {}", file, std::strerror(errno)));
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw DataError(fmt::format("model config '{}': not valid JSON: {}", file, e.what()));
  }
  return parse_llama_config(j, file);
}

json llama_config_to_json(const LlamaConfig& c) {
  json j = {
      {"architectures", {c.architecture}},
      {"model_type", c.architecture == "Qwen2ForCausalLM" ? "qwen2" : "llama"},
      {"hidden_size", c.hidden_size},
      {"num_hidden_layers", c.num_hidden_layers},
      {"num_attention_heads", c.num_attention_heads},
      {"num_key_value_heads", c.num_key_value_heads},
      {"head_dim", c.head_dim},
      {"intermediate_size", c.intermediate_size},
      {"vocab_size", c.vocab_size},
      {"max_position_embeddings", c.max_position_embeddings},
      {"rms_norm_eps", c.rms_norm_eps},
      {"rope_theta", c.rope_theta},
      {"tie_word_embeddings", c.tie_word_embeddings},
      {"attention_bias", c.attention_bias},
      {"hidden_act", "silu"},
      {"torch_dtype", c.torch_dtype},
  };
  if (c.bos_token_id >= 0) j["bos_token_id"] = c.bos_token_id;
  if (c.eos_token_id >= 0) j["eos_token_id"] = c.eos_token_id;
  if (c.rope_type == "linear") {
    j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", c.rope_factor}};
  } else if (c.rope_type == "llama3") {
    j["rope_scaling"] = {{"rope_type", "llama3"},
                         {"factor", c.rope_factor},
                         {"low_freq_factor", c.rope_low_freq_factor},
                         {"high_freq_factor", c.rope_high_freq_factor},
                         {"original_max_position_embeddings", c.rope_original_max_position_embeddings}};
  }
  return j;
}

std::vector<double> rope_inv_freq(const LlamaConfig& c) {
  const int64_t half = c.head_dim / 2;
  std::vector<double> inv(half);
  for (int64_t i = 0; i < half; ++i) {
    inv[i] = 1.0 / std::pow(c.rope_theta, static_cast<double>(2 * i) / static_cast<double>(c.head_dim));
  }
  if (c.rope_type == "linear") {
    for (double& f : inv) f /= c.rope_factor;
  } else if (c.rope_type == "llama3") {
    // Long wavelengths are slowed by `factor`, short ones kept, the band between
    // the two cut-offs interpolated (Meta's LLaMA-3.1 recipe).
    const double old_ctx = static_cast<double>(c.rope_original_max_position_embeddings);
    const double low_wavelen = old_ctx / c.rope_low_freq_factor;
    const double high_wavelen = old_ctx / c.rope_high_freq_factor;
    for (double& f : inv) {
      const double wavelen = 2.0 * M_PI / f;
      if (wavelen < high_wavelen) continue;
      if (wavelen > low_wavelen) {
        f /= c.rope_factor;
      } else {
        const double smooth = (old_ctx / wavelen - c.rope_low_freq_factor) /
                              (c.rope_high_freq_factor - c.rope_low_freq_factor);
        f = (1.0 - smooth) * f / c.rope_factor + smooth * f;
      }
    }
  }
  return inv;
}

}  // namespace llmsrec::models::llama
