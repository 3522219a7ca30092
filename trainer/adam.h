// Adam with PyTorch's update rule (torch.optim.Adam, no weight decay). On the
// CPU it is fused into one pass per parameter over raw float memory (one read
// of p, g, m, v and one write of p, m, v, instead of ~8 tensor ops); on any
// other device, or with `generic`, it runs as ATen tensor ops (the same
// formula, tests/unit/adam_test.cpp holds the two equal). State (m, v, step)
// lives on the parameters' device and is exposed for checkpoints.
//
//   Adam opt(params, {.lr = 1e-3, .beta2 = 0.98});
//   loss.backward();  opt.step();   // consumes and clears the gradients
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace llmsrec::trainer {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  bool generic = false;  // ATen ops even on the CPU (llm.kernels: generic)
};

class Adam {
 public:
  Adam(std::vector<at::Tensor> params, const AdamOptions& opt);
  // One update from params' .grad() (float32); parameters without a gradient
  // are skipped, as in PyTorch. Gradients are released afterwards.
  void step();
  int64_t steps() const { return steps_; }
  void set_steps(int64_t s) { steps_ = s; }
  double lr() const { return opt_.lr; }
  void set_lr(double lr) { opt_.lr = lr; }  // schedules (LLM-SRec decays lr after each validation)
  std::vector<at::Tensor>& exp_avg() { return m_; }
  std::vector<at::Tensor>& exp_avg_sq() { return v_; }

 private:
  std::vector<at::Tensor> params_, m_, v_;
  AdamOptions opt_;
  int64_t steps_ = 0;
};

}  // namespace llmsrec::trainer
