#include "models/heads/mlp_head.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/rng.h"

namespace llmsrec::models::heads {

at::Tensor xavier_normal(int64_t out, int64_t in, uint64_t seed) {
  core::Rng rng(seed);
  const double std = std::sqrt(2.0 / static_cast<double>(in + out));
  std::vector<float> v(static_cast<size_t>(out * in));
  for (auto& x : v) x = static_cast<float>(rng.normal() * std);
  return at::from_blob(v.data(), {out, in}, at::kFloat).clone();
}

at::Tensor uniform_bias(int64_t out, int64_t in, uint64_t seed) {
  core::Rng rng(seed);
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  std::vector<float> v(static_cast<size_t>(out));
  for (auto& x : v) x = static_cast<float>((rng.uniform01() * 2.0 - 1.0) * bound);
  return at::from_blob(v.data(), {out}, at::kFloat).clone();
}

MlpHead::MlpHead(std::string name, int64_t in, int64_t hidden, int64_t out, Activation act, uint64_t seed,
                 uint64_t head_id, c10::Device device)
    : name_(std::move(name)), act_(act) {
  auto key = [&](uint64_t part) { return core::stream_seed(seed, core::Stream::kInit, head_id, part); };
  auto param = [&](const at::Tensor& host) { return host.to(device).requires_grad_(true); };
  w1_ = param(xavier_normal(hidden, in, key(0)));
  b1_ = param(uniform_bias(hidden, in, key(1)));
  ln_w_ = param(at::ones({hidden}));
  ln_b_ = param(at::zeros({hidden}));
  w2_ = param(xavier_normal(out, hidden, key(2)));
  b2_ = param(uniform_bias(out, hidden, key(3)));
}

at::Tensor MlpHead::forward(const at::Tensor& x) const {
  at::Tensor h = at::linear(x, w1_, b1_);
  h = at::layer_norm(h, {w1_.size(0)}, ln_w_, ln_b_, 1e-5);
  h = act_ == Activation::kGelu ? at::gelu(h) : at::leaky_relu(h, 0.01);
  return at::linear(h, w2_, b2_);
}

std::vector<std::pair<std::string, at::Tensor>> MlpHead::named_parameters() const {
  return {{name_ + "/0.weight", w1_}, {name_ + "/0.bias", b1_}, {name_ + "/1.weight", ln_w_},
          {name_ + "/1.bias", ln_b_}, {name_ + "/3.weight", w2_}, {name_ + "/3.bias", b2_}};
}

}  // namespace llmsrec::models::heads
