// Writes a LLaMA checkpoint as a HuggingFace model directory: config.json and
// model.safetensors (float32), both atomically. Used by `lm make-tiny` and
// `lm convert-llama2c`.
//
//   std::map<std::string, std::vector<float>> w;  // every name of llama_tensor_specs(cfg)
//   models::llama::write_hf_llama("models/tiny", cfg, w);
#pragma once

#include <map>
#include <string>
#include <vector>

#include "models/llama/llama_config.h"

namespace llmsrec::models::llama {

// `tensors` must hold exactly the tensors of llama_tensor_specs(cfg), each with
// prod(shape) values (asserted: callers build them from the same table).
void write_hf_llama(const std::string& dir, const LlamaConfig& cfg,
                    const std::map<std::string, std::vector<float>>& tensors);

}  // namespace llmsrec::models::llama
