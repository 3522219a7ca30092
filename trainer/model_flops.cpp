#include "trainer/model_flops.h"

namespace llmsrec::trainer {

double llm_step_flops(const models::llama::LlamaConfig& cfg, const std::vector<SequenceShape>& seqs, bool backward) {
  const double d = static_cast<double>(cfg.hidden_size), q = static_cast<double>(cfg.q_dim()),
               kv = static_cast<double>(cfg.kv_dim()), inter = static_cast<double>(cfg.intermediate_size);
  const double gemm_per_row = 2 * d * (q + 2 * kv) + 2 * q * d + 6 * d * inter;
  auto tri = [](double n) { return n * (n + 1) / 2; };
  double per_layer = 0;
  for (const SequenceShape& s : seqs) {
    const double l = static_cast<double>(s.rows), c = static_cast<double>(s.constant);
    per_layer += l * gemm_per_row + 4 * q * tri(l);
    if (backward) per_layer += (l - c) * gemm_per_row + 8 * q * (tri(l) - tri(c));
  }
  return per_layer * static_cast<double>(cfg.num_hidden_layers);
}

}  // namespace llmsrec::trainer
