// The trainable part of LLM-SRec around a frozen LLM and a frozen teacher:
//   f_I        teacher item row E_i -> LLM input embedding for each [HistoryEmb] slot
//   [UserOut], [ItemOut]  two learnable input vectors
//   f_user, f_item        LLM hidden state at the output slot -> score space
//   f_CF-user             teacher user representation O_u -> score space
// Prompts of a batch are packed into one sequence batch (no padding) and run
// through the LLM once; the slots' input rows are replaced by the trainable
// vectors, so gradients reach f_I and the two tokens through the frozen LLM.
//
//   trainer::LlmSrecModel model(llm, teacher_items, cfg.train, seed);
//   at::Tensor u = model.user_vectors(user_prompts);   // [B, 128]
//   at::Tensor i = model.item_vectors(item_prompts);   // [N, 128]
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/heads/mlp_head.h"

namespace llmsrec::models::llama {
class LlamaModel;
}
namespace llmsrec::models::prompt {
struct BuiltPrompt;
}

namespace llmsrec::trainer {

struct TrainConfig;

// Leading rows of a prompt whose inputs depend on no trainable parameter (the
// text before its first injected vector or output token).
int64_t constant_prefix(const models::prompt::BuiltPrompt& p);

class LlmSrecModel {
 public:
  // `teacher_items`: the teacher's raw item table E [I+1, d_teacher] (row 0 =
  // padding). Every trainable tensor and the table live on `device` (the
  // LLM's); initial values are drawn on the host, the same on every machine.
  LlmSrecModel(const models::llama::LlamaModel& llm, at::Tensor teacher_items, const TrainConfig& cfg, uint64_t seed,
               c10::Device device);
  c10::Device device() const { return device_; }

  // The LLM input of a batch of prompts, packed (no padding): the frozen token
  // embeddings [T, D] with each [HistoryEmb] row replaced by f_I(E_item) of its
  // item and each output slot by [UserOut] (user) or [ItemOut]; prompt b is rows
  // [offsets[b], offsets[b+1]). Throws ShapeError naming the prompt when its slots
  // do not match (emb_slots vs emb_items counts, a slot outside the prompt or on
  // another slot, no output slot).
  struct PackedInput {
    at::Tensor embeds;                     // [T, D] in the LLM's dtype; gradients reach f_I and the tokens
    std::vector<int64_t> offsets;          // [N + 1]
    std::vector<int64_t> out_rows;         // [N] row of each prompt's output slot
    std::vector<int64_t> constant_prefix;  // [N] see constant_prefix()
  };
  PackedInput pack(const std::vector<const models::prompt::BuiltPrompt*>& prompts, bool user) const;
  // Final-norm hidden states at each prompt's output slot: [N, D] float32.
  at::Tensor encode(const std::vector<const models::prompt::BuiltPrompt*>& prompts, bool user) const;
  at::Tensor user_vectors(const std::vector<const models::prompt::BuiltPrompt*>& prompts) const;
  at::Tensor item_vectors(const std::vector<const models::prompt::BuiltPrompt*>& prompts) const;
  at::Tensor cf_vectors(const at::Tensor& teacher_users) const;  // [B, d_teacher] -> [B, out_dim]
  const models::heads::MlpHead& f_user() const { return f_user_; }
  const models::heads::MlpHead& f_item() const { return f_item_; }
  const models::heads::MlpHead& f_i() const { return f_i_; }

  // Every trainable tensor with a stable name ("f_user/0.weight", "tokens/user_out", ...).
  std::vector<std::pair<std::string, at::Tensor>> named_parameters() const;
  std::vector<at::Tensor> parameters() const;

 private:
  const models::llama::LlamaModel& llm_;
  c10::Device device_;
  at::Tensor teacher_items_;
  models::heads::MlpHead f_i_, f_user_, f_item_, f_cf_user_;
  at::Tensor user_out_, item_out_;  // [D]
};

}  // namespace llmsrec::trainer
