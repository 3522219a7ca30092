// A frozen LLaMA-family decoder (LLaMA 2/3, TinyLlama, Qwen2) in libtorch that
// takes `inputs_embeds`, so callers can splice their own vectors between token
// embeddings. Weights are loaded once from an HF directory (config.json +
// safetensors) and converted to the compute dtype; they never get gradients,
// but gradients flow back to inputs_embeds.
//
//   auto model = models::llama::LlamaModel::load("models/tiny", {at::kFloat});
//   at::Tensor e = model.embed_tokens(ids);            // [T, D] on the model's device, ids int64 [T] (any device)
//   e = e.detach().requires_grad_(true);              // or splice trainable rows in
//   auto out = model.forward(e, {0, 5, 12}, {/*rows=*/{4, 11}});  // two sequences: 5 and 7 tokens
//   out.hidden;                                        // [2, D] final-norm states of rows 4 and 11
//
// On a GPU (the run's device; the weights move there once at load):
//
//   LlamaOptions o{at::kBFloat16};
//   o.device = at::Device(at::kCUDA, local_rank);
//   auto gpu = models::llama::LlamaModel::load("models/tiny", o);  // generic ATen path (kernel_choice.h)
//
// Thread safety: const methods may run concurrently. With activation
// checkpointing the model must outlive the backward pass of its outputs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "models/llama/kernel_choice.h"
#include "models/llama/llama_config.h"

namespace llmsrec::checkpoint {
class SafetensorsReader;
}

namespace llmsrec::models::llama {

struct LlamaOptions {
  at::ScalarType dtype = at::kFloat;     // compute dtype: kFloat, kBFloat16 (kDouble for tests)
  bool activation_checkpointing = false;  // recompute each layer in backward instead of storing activations
  at::Device device = at::kCPU;           // where the weights live and the forward runs (the caller's run device)
  Kernels kernels = Kernels::kAuto;       // fast CPU kernels where they apply, or the generic path (kernel_choice.h)
};

// Parses "fp32" | "bf16" | "fp64" (ConfigError otherwise).
at::ScalarType parse_compute_dtype(const std::string& name);

struct LlmConfig;
// The options that the `llm` config section asks for (dtype, checkpointing,
// kernels); the device stays CPU: the caller sets its run's device.
LlamaOptions llama_options(const LlmConfig& cfg);

struct ForwardRequest {
  // Packed rows whose outputs to return (empty = all rows, in order). The fast
  // CPU path runs the last layer only from each sequence's first requested row
  // on (row_plan.h); the generic path gathers them after the last layer.
  std::vector<int64_t> rows;
  bool logits = false;  // also apply the lm_head
  // Per sequence, how many leading rows take inputs that need no gradient
  // (empty = none). Under autograd inputs_embeds gets no gradient there, on
  // every path; the fast CPU path also runs those rows without autograd and
  // the backward skips them (row_plan.h). Outputs are unchanged.
  std::vector<int64_t> constant_prefix;
};

struct ForwardResult {
  at::Tensor hidden;  // [R, D] final-norm hidden states (compute dtype)
  at::Tensor logits;  // [R, vocab] when requested, else undefined
};

class LlamaModel {
 public:
  // `dir`: config.json + model.safetensors (or a sharded index). Throws
  // DataError/ShapeError naming the file and tensor for any missing,
  // unexpected or mis-shaped tensor.
  static LlamaModel load(const std::string& dir, const LlamaOptions& options = {});
  LlamaModel(const LlamaConfig& config, const checkpoint::SafetensorsReader& weights, const LlamaOptions& options);
  ~LlamaModel();
  LlamaModel(LlamaModel&&) noexcept;
  LlamaModel& operator=(LlamaModel&&) noexcept;

  const LlamaConfig& config() const;
  at::ScalarType dtype() const;
  at::Device device() const;
  // True when forward runs the fast CPU kernels, false for the generic path.
  bool fast_kernels() const;

  // Token embeddings [..., D] in the compute dtype for int64 ids [...]; throws
  // ShapeError on an id outside [0, vocab).
  at::Tensor embed_tokens(const at::Tensor& ids) const;

  // Packed batch: inputs_embeds [T, D] on the model's device (ShapeError
  // otherwise); sequence b is rows [offsets[b], offsets[b+1]).
  ForwardResult forward(const at::Tensor& inputs_embeds, const std::vector<int64_t>& offsets,
                        const ForwardRequest& request = {}) const;

  // Right-padded batch: inputs_embeds [B, S, D], sequence b = its first lengths[b]
  // rows. Padding rows are dropped before the first layer, so their content
  // never matters. `request.rows` index the flattened [B*S] grid (must be real
  // positions); without rows, hidden/logits come back as [B, S, .] with zeros at padding.
  ForwardResult forward_padded(const at::Tensor& inputs_embeds, const std::vector<int64_t>& lengths,
                               const ForwardRequest& request = {}) const;

  // lm_head on final-norm hidden states [..., D] -> [..., vocab].
  at::Tensor logits(const at::Tensor& hidden) const;

  // Every weight tensor (frozen: requires_grad is false), for checks and hashes.
  std::vector<at::Tensor> weights() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmsrec::models::llama
