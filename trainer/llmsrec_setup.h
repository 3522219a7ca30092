// Everything an LLM-SRec stage (train, embed, eval) loads before it runs:
// dataset.h5, the teacher's targets.h5, the frozen LLM, its tokenizer, the
// prompt builder and the trainable model. Every rank loads the same.
//
//   trainer::LlmSrecSetup s = trainer::load_llmsrec(sections, ctx);   // on ctx.device()
//   s.model->user_vectors(...);
#pragma once

#include "trainer/llmsrec_sections.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <memory>

#include "data/dataset.h"

namespace llmsrec::cluster {
class RunContext;
}
namespace llmsrec::models::llama {
class LlamaModel;
class Tokenizer;
}  // namespace llmsrec::models::llama
namespace llmsrec::models::prompt {
class PromptBuilder;
}

namespace llmsrec::trainer {

class LlmSrecModel;

struct LlmSrecSetup {
  data::Dataset dataset;
  c10::Device device = c10::Device(c10::kCPU);  // the run's: LLM, heads and targets live here
  at::Tensor teacher_items;       // [I+1, d_teacher] raw rows E (on device)
  at::Tensor teacher_train_user;  // [U, d_teacher] O_u on train[:-1] (training targets, on device)
  std::unique_ptr<models::llama::LlamaModel> llm;
  std::unique_ptr<models::llama::Tokenizer> tokenizer;
  std::unique_ptr<models::prompt::PromptBuilder> prompts;
  std::unique_ptr<LlmSrecModel> model;
  int64_t history_items = 10;  // prompt.history_items

  int64_t llm_hidden_size() const;
  at::ScalarType llm_dtype() const;
  int64_t prompt_history_items() const { return history_items; }

  LlmSrecSetup();
  ~LlmSrecSetup();
  LlmSrecSetup(LlmSrecSetup&&) noexcept;
  LlmSrecSetup& operator=(LlmSrecSetup&&) noexcept;
};

// Everything on ctx.device() in the LLM's compute dtype (llm.dtype). Throws
// ConfigError (missing llm.path), IoError/DataError naming the file (missing or
// mismatched dataset/targets: e.g. a teacher trained on another dataset).
LlmSrecSetup load_llmsrec(const LlmSrecSections& cfg, const cluster::RunContext& ctx);

// Loads trained heads and tokens into s.model from a checkpoint (`best`: the
// best-by-validation copy when the checkpoint has one). Returns the path used:
// `checkpoint`, or run.dir/latest when `checkpoint` is empty.
std::string load_trained(LlmSrecSetup& s, const LlmSrecSections& cfg, const std::string& checkpoint, bool best);

}  // namespace llmsrec::trainer
