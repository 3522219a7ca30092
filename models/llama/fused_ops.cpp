#include "models/llama/fused_ops.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include "core/error.h"

namespace llmsrec::models::llama {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// out = rotate(x) by the angles whose cos/sin halves are c, s ([N, 1, half]);
// sign -1 rotates back (the backward). x and out: [N, heads, hd] (x may be strided).
void rotate_into(at::Tensor out, const at::Tensor& x, const at::Tensor& c, const at::Tensor& s, double sign) {
  const int64_t half = x.size(-1) / 2;
  const at::Tensor x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
  at::Tensor o1 = out.narrow(-1, 0, half), o2 = out.narrow(-1, half, half);
  at::mul_out(o1, x1, c).addcmul_(x2, s, -sign);  // x1 cos - x2 sin
  at::mul_out(o2, x2, c).addcmul_(x1, s, sign);   // x2 cos + x1 sin
}

struct RopeSplitQkv : public torch::autograd::Function<RopeSplitQkv> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& qkv, int64_t H, int64_t KV, int64_t hd,
                               const at::Tensor& cos, const at::Tensor& sin) {
    const int64_t N = qkv.size(0), half = hd / 2;
    const at::Tensor c = cos.narrow(-1, 0, half).unsqueeze(1), s = sin.narrow(-1, 0, half).unsqueeze(1);
    const at::Tensor x = qkv.view({N, H + 2 * KV, hd});
    at::Tensor q = at::empty({N, H, hd}, qkv.options()), k = at::empty({N, KV, hd}, qkv.options());
    rotate_into(q, x.narrow(1, 0, H), c, s, 1);
    rotate_into(k, x.narrow(1, H, KV), c, s, 1);
    at::Tensor v = x.narrow(1, H + KV, KV).contiguous();
    ctx->save_for_backward({c, s});
    ctx->saved_data["H"] = H;
    ctx->saved_data["KV"] = KV;
    return {q, k, v};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &c = saved[0], &s = saved[1];
    const int64_t H = ctx->saved_data["H"].toInt(), KV = ctx->saved_data["KV"].toInt();
    // Any of the three may be undefined when its output was not used.
    const at::Tensor& ref = grads[0].defined() ? grads[0] : grads[1].defined() ? grads[1] : grads[2];
    const int64_t N = ref.size(0), hd = ref.size(2);
    at::Tensor dx = at::empty({N, H + 2 * KV, hd}, ref.options());
    auto fill = [&](int64_t start, int64_t n, const at::Tensor& g, bool rotate) {
      at::Tensor slot = dx.narrow(1, start, n);
      if (!g.defined()) slot.zero_();
      else if (rotate) rotate_into(slot, g, c, s, -1);
      else slot.copy_(g);
    };
    fill(0, H, grads[0], true);
    fill(H, KV, grads[1], true);
    fill(H + KV, KV, grads[2], false);
    return {dx.view({N, (H + 2 * KV) * hd}), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

struct SwiGlu : public torch::autograd::Function<SwiGlu> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& gate_up) {
    const int64_t I = gate_up.size(1) / 2;
    ctx->save_for_backward({gate_up});
    return at::silu(gate_up.narrow(1, 0, I)).mul_(gate_up.narrow(1, I, I));
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor gate_up = ctx->get_saved_variables()[0];
    const int64_t I = gate_up.size(1) / 2;
    const at::Tensor g = gate_up.narrow(1, 0, I), u = gate_up.narrow(1, I, I), dy = grads[0];
    at::Tensor d = at::empty_like(gate_up);
    at::Tensor dg = d.narrow(1, 0, I), du = d.narrow(1, I, I);
    const at::Tensor sig = at::sigmoid(g);
    at::Tensor silu = g * sig;
    at::mul_out(du, dy, silu);  // d up = dy * silu(g)
    // silu'(g) = sig * (1 + g (1 - sig)) = sig + silu (1 - sig)
    at::Tensor dsilu = silu.mul_(1 - sig).add_(sig);
    at::mul_out(dg, dy, u).mul_(dsilu);
    return {d};
  }
};

}  // namespace

std::tuple<at::Tensor, at::Tensor, at::Tensor> rope_split_qkv(const at::Tensor& qkv, int64_t heads, int64_t kv_heads,
                                                              int64_t head_dim, const at::Tensor& cos,
                                                              const at::Tensor& sin) {
  LLMSREC_ASSERT(qkv.dim() == 2 && qkv.size(1) == (heads + 2 * kv_heads) * head_dim && head_dim % 2 == 0,
                 "rope_split_qkv: qkv must be [N, (H + 2 KV) * hd] with an even hd");
  LLMSREC_ASSERT(cos.size(0) == qkv.size(0) && cos.size(1) == head_dim, "rope_split_qkv: cos/sin must be [N, hd]");
  auto out = RopeSplitQkv::apply(qkv.contiguous(), heads, kv_heads, head_dim, cos, sin);
  return {out[0], out[1], out[2]};
}

bool fused_ops_supported(at::ScalarType dtype) { return dtype == at::kFloat || dtype == at::kDouble; }

at::Tensor swiglu(const at::Tensor& gate_up) {
  LLMSREC_ASSERT(gate_up.dim() == 2 && gate_up.size(1) % 2 == 0, "swiglu: gate_up must be [N, 2I]");
  return SwiGlu::apply(gate_up);
}

}  // namespace llmsrec::models::llama
