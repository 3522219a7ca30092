// Model FLOPs of a training step of the frozen LLM, counted from its shapes
// (PaLM-style MFU: what the math needs, whatever the kernels skip or redo).
// Per decoder layer and sequence of L rows, c of them a constant prefix (text
// before the first trainable input, which gets no gradient):
//   forward   = L * G + 4 * q_dim * tri(L)
//   backward  = (L - c) * G + 8 * q_dim * (tri(L) - tri(c))   (to the inputs only:
//               the weights are frozen, so no dW; attention's dP, dQ, dK, dV)
// where G = 2 * D * (q_dim + 2 * kv_dim) + 2 * q_dim * D + 6 * D * I (the
// q/k/v, o, gate/up and down GEMMs per row, 2 FLOPs a multiply-add) and
// tri(n) = n (n + 1) / 2 (causal attention: row i reads i + 1 keys).
// Embedding lookups, norms, activations and the heads are not counted.
//
//   double f = trainer::llm_step_flops(llm.config(), {{120, 80}, {40, 12}}, /*backward=*/true);
#pragma once

#include <cstdint>
#include <vector>

#include "models/llama/llama_config.h"

namespace llmsrec::trainer {

struct SequenceShape {
  int64_t rows = 0;      // tokens of the prompt
  int64_t constant = 0;  // leading rows whose inputs need no gradient
};

// Forward FLOPs of the frozen LLM over `seqs`, plus the backward to its
// inputs when `backward`.
double llm_step_flops(const models::llama::LlamaConfig& cfg, const std::vector<SequenceShape>& seqs, bool backward);

}  // namespace llmsrec::trainer
