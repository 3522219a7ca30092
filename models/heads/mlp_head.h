// The 2-layer MLP shape every LLM-SRec head shares:
//   Linear(in, hidden) -> LayerNorm(hidden) -> activation -> Linear(hidden, out)
// with xavier-normal weights on both Linears (as the reference initialises
// them), default-style uniform biases and an identity LayerNorm. Values come
// from core::Rng keyed by (seed, kInit, head_id), so initial weights are the
// same on every machine and rank.
//
//   heads::MlpHead f_user("f_user", 3072, 2048, 128, heads::Activation::kLeakyRelu, seed, 1);
//   at::Tensor y = f_user.forward(h_u);   // [B, 128]
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace llmsrec::models::heads {

enum class Activation { kLeakyRelu, kGelu };

class MlpHead {
 public:
  MlpHead() = default;
  // Initial values are drawn on the host (the same on every machine), then the
  // parameters live on `device`.
  MlpHead(std::string name, int64_t in, int64_t hidden, int64_t out, Activation act, uint64_t seed, uint64_t head_id,
          c10::Device device = c10::Device(c10::kCPU));

  at::Tensor forward(const at::Tensor& x) const;
  // ("f_user/0.weight", tensor) ... in a fixed order; tensors require grad.
  std::vector<std::pair<std::string, at::Tensor>> named_parameters() const;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  Activation act_ = Activation::kLeakyRelu;
  at::Tensor w1_, b1_, ln_w_, ln_b_, w2_, b2_;
};

// xavier-normal [out, in] and uniform(+-1/sqrt(in)) [out] from core::Rng.
at::Tensor xavier_normal(int64_t out, int64_t in, uint64_t seed);
at::Tensor uniform_bias(int64_t out, int64_t in, uint64_t seed);

}  // namespace llmsrec::models::heads
