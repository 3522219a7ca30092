#include "models/llama/fused_ops.h"

#include <cmath>
#include <type_traits>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
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
    // Four element-wise passes, no temporaries (silu_backward may run in place).
    at::silu_out(du, g).mul_(dy);              // d up = dy * silu(g)
    at::mul_out(dg, dy, u);
    at::silu_backward_out(dg, dg, g);          // d gate = dy * u * silu'(g)
    return {d};
  }
};

// What the rows compute in: double for double, float for float and bf16 (a
// bf16 row is widened element by element and rounded once on the way out).
template <typename T>
using compute_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

// y = x * rstd * w per row, rstd = 1 / sqrt(mean(x^2) + eps) accumulated in
// double; one pass to sum and one to write.
template <typename T>
void rms_norm_rows(const T* x, const T* w, T* y, compute_t<T>* rstd, int64_t rows, int64_t D, double eps) {
  using C = compute_t<T>;
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T* xr = x + r * D;
      double ss = 0;
      for (int64_t i = 0; i < D; ++i) {
        const double xi = static_cast<C>(xr[i]);
        ss += xi * xi;
      }
      const C s = static_cast<C>(1.0 / std::sqrt(ss / static_cast<double>(D) + eps));
      rstd[r] = s;
      T* yr = y + r * D;
      for (int64_t i = 0; i < D; ++i) yr[i] = static_cast<T>(static_cast<C>(w[i]) * (static_cast<C>(xr[i]) * s));
    }
  });
}

// dx = rstd * (g w) - x * rstd^3 * mean(g w x), per row.
template <typename T>
void rms_norm_rows_backward(const T* x, const T* w, const compute_t<T>* rstd, const T* g, T* dx, int64_t rows,
                            int64_t D) {
  using C = compute_t<T>;
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T *xr = x + r * D, *gr = g + r * D;
      double dot = 0;
      for (int64_t i = 0; i < D; ++i) {
        dot += static_cast<double>(static_cast<C>(gr[i])) * static_cast<C>(w[i]) * static_cast<C>(xr[i]);
      }
      const C s = rstd[r];
      const C c = static_cast<C>(dot / static_cast<double>(D) * s * s * s);
      T* dr = dx + r * D;
      for (int64_t i = 0; i < D; ++i) {
        dr[i] = static_cast<T>(s * (static_cast<C>(gr[i]) * static_cast<C>(w[i])) - static_cast<C>(xr[i]) * c);
      }
    }
  });
}

struct RmsNorm : public torch::autograd::Function<RmsNorm> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight, double eps) {
    const int64_t D = x.size(-1), rows = x.numel() / D;
    const at::ScalarType compute = x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
    at::Tensor y = at::empty_like(x), rstd = at::empty({rows}, x.options().dtype(compute));
    AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, x.scalar_type(), "rms_norm", [&] {
      rms_norm_rows<scalar_t>(x.data_ptr<scalar_t>(), weight.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(),
                              rstd.data_ptr<compute_t<scalar_t>>(), rows, D, eps);
    });
    ctx->save_for_backward({x, weight, rstd});
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &weight = saved[1], &rstd = saved[2];
    const at::Tensor g = grads[0].contiguous();
    const int64_t D = x.size(-1), rows = x.numel() / D;
    at::Tensor dx = at::empty_like(x);
    AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, x.scalar_type(), "rms_norm_backward", [&] {
      rms_norm_rows_backward<scalar_t>(x.data_ptr<scalar_t>(), weight.data_ptr<scalar_t>(),
                                       rstd.data_ptr<compute_t<scalar_t>>(), g.data_ptr<scalar_t>(),
                                       dx.data_ptr<scalar_t>(), rows, D);
    });
    return {dx, at::Tensor(), at::Tensor()};
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

at::Tensor rms_norm_frozen(const at::Tensor& x, const at::Tensor& weight, double eps) {
  LLMSREC_ASSERT(fused_ops_supported(x.scalar_type()) && weight.scalar_type() == x.scalar_type(),
                 "rms_norm_frozen: float32/float64/bfloat16 x and weight of one dtype");
  LLMSREC_ASSERT(x.device().is_cpu() && weight.device().is_cpu(), "rms_norm_frozen: CPU tensors only");
  LLMSREC_ASSERT(weight.dim() == 1 && weight.size(0) == x.size(-1) && !weight.requires_grad(),
                 "rms_norm_frozen: weight [D] that needs no gradient");
  return RmsNorm::apply(x.contiguous(), weight.contiguous(), eps);
}

bool fused_ops_supported(at::ScalarType dtype) {
  return dtype == at::kFloat || dtype == at::kDouble || dtype == at::kBFloat16;
}

at::Tensor swiglu(const at::Tensor& gate_up) {
  LLMSREC_ASSERT(gate_up.dim() == 2 && gate_up.size(1) % 2 == 0, "swiglu: gate_up must be [N, 2I]");
  return SwiGlu::apply(gate_up);
}

}  // namespace llmsrec::models::llama
