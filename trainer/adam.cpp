#include "trainer/adam.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>

#include "core/error.h"

namespace llmsrec::trainer {

Adam::Adam(std::vector<at::Tensor> params, const AdamOptions& opt)
    : params_(std::move(params)), opt_(opt) {
  for (auto& p : params_) {
    LLMSREC_ASSERT(p.is_contiguous() && (p.scalar_type() == at::kFloat || !p.device().is_cpu() || opt.generic),
                   "Adam's CPU kernel needs contiguous float32 params");
    m_.push_back(at::zeros_like(p));
    v_.push_back(at::zeros_like(p));
  }
}

void Adam::step() {
  ++steps_;
  const double t = static_cast<double>(steps_);
  const float b1 = static_cast<float>(opt_.beta1), b2 = static_cast<float>(opt_.beta2);
  const float step_size = static_cast<float>(opt_.lr / (1.0 - std::pow(opt_.beta1, t)));
  const float inv_bc2_sqrt = static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(opt_.beta2, t)));
  const float eps = static_cast<float>(opt_.eps);
  for (size_t i = 0; i < params_.size(); ++i) {
    at::Tensor& p = params_[i];
    at::Tensor g = p.mutable_grad();
    if (!g.defined()) continue;
    g = g.contiguous();
    if (opt_.generic || !p.device().is_cpu()) {
      // torch.optim.Adam's single-tensor formula, as tensor ops.
      at::NoGradGuard no_grad;
      m_[i].mul_(opt_.beta1).add_(g, 1.0 - opt_.beta1);
      v_[i].mul_(opt_.beta2).addcmul_(g, g, 1.0 - opt_.beta2);
      at::Tensor denom = (v_[i].sqrt() * inv_bc2_sqrt).add_(opt_.eps);
      p.addcdiv_(m_[i], denom, -static_cast<double>(step_size));
      p.mutable_grad().reset();
      continue;
    }
    float* pp = p.data_ptr<float>();
    const float* gp = g.data_ptr<float>();
    float* mp = m_[i].data_ptr<float>();
    float* vp = v_[i].data_ptr<float>();
    at::parallel_for(0, p.numel(), 16384, [&](int64_t begin, int64_t end) {
      for (int64_t j = begin; j < end; ++j) {
        const float gj = gp[j];
        const float m = mp[j] = b1 * mp[j] + (1.0f - b1) * gj;
        const float v = vp[j] = b2 * vp[j] + (1.0f - b2) * gj * gj;
        pp[j] -= step_size * m / (std::sqrt(v) * inv_bc2_sqrt + eps);
      }
    });
    p.mutable_grad().reset();
  }
}

}  // namespace llmsrec::trainer
