// trainer::Adam: the fused CPU kernel and the generic ATen path (the one every
// non-CPU device runs) follow torch.optim.Adam's formula, checked against a
// float64 reference written out here, and agree with each other.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

#include "trainer/adam.h"

namespace llmsrec::trainer {
namespace {

struct Reference {  // torch.optim.Adam (no weight decay) in float64
  std::vector<double> p, m, v;
  int64_t t = 0;
  void step(const std::vector<double>& g, const AdamOptions& o) {
    ++t;
    const double bc1 = 1 - std::pow(o.beta1, t), bc2 = 1 - std::pow(o.beta2, t);
    for (size_t j = 0; j < p.size(); ++j) {
      m[j] = o.beta1 * m[j] + (1 - o.beta1) * g[j];
      v[j] = o.beta2 * v[j] + (1 - o.beta2) * g[j] * g[j];
      p[j] -= o.lr / bc1 * m[j] / (std::sqrt(v[j]) / std::sqrt(bc2) + o.eps);
    }
  }
};

std::vector<double> values(const at::Tensor& t) {
  at::Tensor d = t.detach().cpu().to(at::kDouble).contiguous();
  return {d.data_ptr<double>(), d.data_ptr<double>() + d.numel()};
}

// Ten steps with gradients that change sign and scale; returns the final parameters.
at::Tensor run(bool generic, Reference* ref) {
  at::manual_seed(3);
  at::Tensor p = at::randn({257}).requires_grad_(true);  // not a multiple of any vector width
  AdamOptions o{.lr = 1e-2, .beta1 = 0.9, .beta2 = 0.98, .eps = 1e-8, .generic = generic};
  if (ref) ref->p = values(p), ref->m.assign(257, 0), ref->v.assign(257, 0);
  Adam adam({p}, o);
  for (int s = 0; s < 10; ++s) {
    at::Tensor g = at::randn({257}) * (s % 2 ? -0.5 : 2.0);
    p.mutable_grad() = g;
    if (ref) ref->step(values(g), o);
    adam.step();
    EXPECT_FALSE(p.grad().defined()) << "step " << s << ": Adam must release the gradient";
  }
  EXPECT_EQ(adam.steps(), 10);
  return p.detach();
}

TEST(Adam, CpuKernelFollowsTorchFormula) {
  Reference ref;
  at::Tensor p = run(false, &ref);
  std::vector<double> got = values(p);
  for (size_t j = 0; j < got.size(); ++j) {
    ASSERT_NEAR(got[j], ref.p[j], 1e-5) << "index " << j;
  }
}

TEST(Adam, GenericPathFollowsTorchFormula) {
  Reference ref;
  at::Tensor p = run(true, &ref);
  std::vector<double> got = values(p);
  for (size_t j = 0; j < got.size(); ++j) {
    ASSERT_NEAR(got[j], ref.p[j], 1e-5) << "index " << j;
  }
}

TEST(Adam, GenericEqualsCpuKernel) {
  at::Tensor a = run(false, nullptr), b = run(true, nullptr);
  const double diff = (a - b).abs().max().item<double>();
  EXPECT_LT(diff, 1e-6) << "fused CPU kernel and generic path differ by " << diff;
}

TEST(Adam, ParameterWithoutGradientIsSkipped) {
  at::Tensor p = at::ones({4}).requires_grad_(true);
  Adam adam({p}, {.lr = 0.1});
  adam.step();
  EXPECT_TRUE(at::equal(p.detach(), at::ones({4})));
}

}  // namespace
}  // namespace llmsrec::trainer
