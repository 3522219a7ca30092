// Config section `llm`: which frozen LLM a run uses and how it computes.
//
//   llm:
//     path: models/Llama-3.2-3B-Instruct   # HF directory
//     dtype: bf16
#pragma once

#include <string>

#include "core/config.h"

namespace llmsrec::models::llama {

struct LlmConfig : core::ConfigSection {
  std::string path;                      // HF model directory (config.json + safetensors + tokenizer)
  std::string dtype = "fp32";            // compute dtype: fp32 | bf16
  bool activation_checkpointing = false;  // recompute each layer in backward (less memory, ~1/3 more compute)
  std::string kernels = "auto";           // auto | generic (kernel_choice.h)

  void visit(core::ConfigVisitor& v) override {
    v.field("path", path, "HF model directory: config.json, model.safetensors (or sharded index), tokenizer");
    v.choice("dtype", dtype, {"fp32", "bf16", "fp64"},
             "compute dtype of the frozen LLM (weights converted once at load); fp64 for numerical checks");
    v.field("activation_checkpointing", activation_checkpointing,
            "recompute each decoder layer in backward instead of storing its activations (bounds memory)");
    v.choice("kernels", kernels, {"auto", "generic"},
             "auto: the fast CPU kernels on CPU in fp32/fp64/bf16, the generic ATen path elsewhere; generic: the "
             "generic path everywhere (to check the fast kernels)");
  }
};

}  // namespace llmsrec::models::llama
