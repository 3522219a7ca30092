#include "models/llama/fused_ops.h"

#include <cmath>
#include <optional>
#include <type_traits>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include "core/error.h"

namespace llmsrec::models::llama {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// What a pair of storage types computes in: double when either is double,
// else float (bf16 is widened element by element and rounded once).
template <typename A, typename B>
using pair_compute_t = std::conditional_t<std::is_same_v<A, double> || std::is_same_v<B, double>, double, float>;

// One pass over the rows (a parallel region each way, where the ATen formula
// on strided views takes eight and, in bf16, no vector path): q and k heads
// rotated, v copied. The backward is the same loop with sign -1 (rotating back).
// in: [N, H + 2 KV, hd] rows of `in_stride` elements; out: q [N, H, hd],
// k, v [N, KV, hd] (contiguous). A null output pointer means "zeros" in the
// backward (an unused output). cs, sn: [N, hd] tables (first half used).
template <typename In, typename Out, typename Tab>
void rope_rows(const In* in, Out* q, Out* k, Out* v, const Tab* cs, const Tab* sn, int64_t N, int64_t H, int64_t KV,
               int64_t hd, double sign) {
  using C = pair_compute_t<In, Out>;
  const int64_t half = hd / 2, width = (H + 2 * KV) * hd;
  at::parallel_for(0, N, 8, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const In* x = in + r * width;
      const Tab *c = cs + r * hd, *s = sn + r * hd;
      for (int64_t h = 0; h < H + KV; ++h) {
        Out* o = h < H ? q + (r * H + h) * hd : k + (r * KV + h - H) * hd;
        const In* xh = x + h * hd;
        for (int64_t i = 0; i < half; ++i) {
          const C x1 = static_cast<C>(xh[i]), x2 = static_cast<C>(xh[i + half]);
          const C ci = static_cast<C>(c[i]), si = static_cast<C>(s[i]) * static_cast<C>(sign);
          o[i] = static_cast<Out>(x1 * ci - x2 * si);         // x1 cos - x2 sin
          o[i + half] = static_cast<Out>(x2 * ci + x1 * si);  // x2 cos + x1 sin
        }
      }
      const In* xv = x + (H + KV) * hd;
      Out* ov = v + r * KV * hd;
      for (int64_t i = 0; i < KV * hd; ++i) ov[i] = static_cast<Out>(static_cast<C>(xv[i]));
    }
  });
}

// The backward of rope_rows: g* [N, heads, hd] (undefined = zero), dx [N, H + 2 KV, hd].
template <typename G, typename D, typename Tab>
void rope_rows_backward(const G* gq, const G* gk, const G* gv, D* dx, const Tab* cs, const Tab* sn, int64_t N,
                        int64_t H, int64_t KV, int64_t hd) {
  using C = pair_compute_t<G, D>;
  const int64_t half = hd / 2, width = (H + 2 * KV) * hd;
  at::parallel_for(0, N, 8, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      D* d = dx + r * width;
      const Tab *c = cs + r * hd, *s = sn + r * hd;
      for (int64_t h = 0; h < H + KV; ++h) {
        const G* g = h < H ? (gq ? gq + (r * H + h) * hd : nullptr) : (gk ? gk + (r * KV + h - H) * hd : nullptr);
        D* dh = d + h * hd;
        if (!g) {
          for (int64_t i = 0; i < hd; ++i) dh[i] = D(0);
          continue;
        }
        for (int64_t i = 0; i < half; ++i) {
          const C g1 = static_cast<C>(g[i]), g2 = static_cast<C>(g[i + half]);
          const C ci = static_cast<C>(c[i]), si = static_cast<C>(s[i]);
          dh[i] = static_cast<D>(g1 * ci + g2 * si);
          dh[i + half] = static_cast<D>(g2 * ci - g1 * si);
        }
      }
      D* dv = d + (H + KV) * hd;
      const G* g = gv ? gv + r * KV * hd : nullptr;
      for (int64_t i = 0; i < KV * hd; ++i) dv[i] = g ? static_cast<D>(static_cast<C>(g[i])) : D(0);
    }
  });
}

// Calls fn(In{}, Out{}, Tab{}) with the storage types of a (qkv, output, table) dtype triple.
template <typename Fn>
void dispatch_rope(at::ScalarType in, at::ScalarType out, at::ScalarType tab, const Fn& fn) {
  auto with_tab = [&](auto i, auto o) {
    if (tab == at::kDouble) fn(i, o, double{});
    else if (tab == at::kFloat) fn(i, o, float{});
    else if (tab == at::kBFloat16) fn(i, o, c10::BFloat16{});
    else LLMSREC_ASSERT(false, "rope_split_qkv: cos/sin must be float64, float32 or bf16");
  };
  if (in == at::kDouble && out == at::kDouble) with_tab(double{}, double{});
  else if (in == at::kFloat && out == at::kFloat) with_tab(float{}, float{});
  else if (in == at::kBFloat16 && out == at::kBFloat16) with_tab(c10::BFloat16{}, c10::BFloat16{});
  else if (in == at::kBFloat16 && out == at::kFloat) with_tab(c10::BFloat16{}, float{});
  else LLMSREC_ASSERT(false, "rope_split_qkv: unsupported (qkv, output) dtype pair");
}

struct RopeSplitQkv : public torch::autograd::Function<RopeSplitQkv> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& qkv, int64_t H, int64_t KV, int64_t hd,
                               const at::Tensor& cos, const at::Tensor& sin, at::ScalarType out_dtype) {
    const int64_t N = qkv.size(0);
    const auto opt = qkv.options().dtype(out_dtype);
    at::Tensor q = at::empty({N, H, hd}, opt), k = at::empty({N, KV, hd}, opt), v = at::empty({N, KV, hd}, opt);
    const at::Tensor c = cos.contiguous(), s = sin.contiguous();
    dispatch_rope(qkv.scalar_type(), out_dtype, c.scalar_type(), [&](auto i, auto o, auto t) {
      using I = decltype(i);
      using O = decltype(o);
      using T = decltype(t);
      rope_rows<I, O, T>(qkv.data_ptr<I>(), q.data_ptr<O>(), k.data_ptr<O>(), v.data_ptr<O>(), c.data_ptr<T>(),
                         s.data_ptr<T>(), N, H, KV, hd, 1.0);
    });
    ctx->save_for_backward({c, s});
    ctx->saved_data["H"] = H;
    ctx->saved_data["KV"] = KV;
    ctx->saved_data["in_dtype"] = static_cast<int64_t>(qkv.scalar_type());
    return {q, k, v};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &c = saved[0], &s = saved[1];
    const int64_t H = ctx->saved_data["H"].toInt(), KV = ctx->saved_data["KV"].toInt();
    const auto in_dtype = static_cast<at::ScalarType>(ctx->saved_data["in_dtype"].toInt());
    // Any of the three may be undefined when its output was not used.
    const at::Tensor& ref = grads[0].defined() ? grads[0] : grads[1].defined() ? grads[1] : grads[2];
    const int64_t N = ref.size(0), hd = ref.size(2);
    std::vector<at::Tensor> g(3);
    for (int i = 0; i < 3; ++i) {
      if (grads[i].defined()) g[i] = grads[i].to(ref.scalar_type()).contiguous();
    }
    at::Tensor dx = at::empty({N, (H + 2 * KV) * hd}, ref.options().dtype(in_dtype));
    dispatch_rope(in_dtype, ref.scalar_type(), c.scalar_type(), [&](auto i, auto o, auto t) {
      using I = decltype(i);
      using O = decltype(o);
      using T = decltype(t);
      auto ptr = [](const at::Tensor& x) { return x.defined() ? x.data_ptr<O>() : nullptr; };
      rope_rows_backward<O, I, T>(ptr(g[0]), ptr(g[1]), ptr(g[2]), dx.data_ptr<I>(), c.data_ptr<T>(), s.data_ptr<T>(),
                                  N, H, KV, hd);
    });
    return {dx, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
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

// bf16 SwiGLU: ATen's bf16 backward takes four strided passes, two of them
// recomputing exp. Here the forward keeps sigmoid(gate) (float32, [N, I]) and
// the backward is one exp-free loop; both compute in float32 and round once.
struct SwiGluBf16 : public torch::autograd::Function<SwiGluBf16> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& gate_up) {
    const int64_t N = gate_up.size(0), I = gate_up.size(1) / 2;
    at::Tensor y = at::empty({N, I}, gate_up.options());
    // ATen's vectorized sigmoid (a scalar exp in the loop below costs twice as much).
    at::Tensor sig = gate_up.narrow(1, 0, I).to(at::kFloat).sigmoid_();
    const auto* gu = gate_up.data_ptr<c10::BFloat16>();
    auto* yp = y.data_ptr<c10::BFloat16>();
    const float* sp = sig.data_ptr<float>();
    at::parallel_for(0, N, 4, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const c10::BFloat16 *g = gu + r * 2 * I, *u = g + I;
        for (int64_t i = 0; i < I; ++i) {
          const float gi = g[i], ui = u[i];
          yp[r * I + i] = static_cast<c10::BFloat16>(gi * sp[r * I + i] * ui);
        }
      }
    });
    ctx->save_for_backward({gate_up, sig});
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &gate_up = saved[0], &sig = saved[1];
    const at::Tensor dy = grads[0].to(at::kBFloat16).contiguous();
    const int64_t N = gate_up.size(0), I = gate_up.size(1) / 2;
    at::Tensor d = at::empty_like(gate_up);
    const auto* gu = gate_up.data_ptr<c10::BFloat16>();
    const auto* dyp = dy.data_ptr<c10::BFloat16>();
    const float* sp = sig.data_ptr<float>();
    auto* dp = d.data_ptr<c10::BFloat16>();
    at::parallel_for(0, N, 4, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const c10::BFloat16 *g = gu + r * 2 * I, *u = g + I, *dyr = dyp + r * I;
        const float* sr = sp + r * I;
        c10::BFloat16 *dg = dp + r * 2 * I, *du = dg + I;
        for (int64_t i = 0; i < I; ++i) {
          const float gi = g[i], ui = u[i], si = sr[i], dyi = dyr[i];
          du[i] = static_cast<c10::BFloat16>(dyi * gi * si);                             // dy * silu(g)
          dg[i] = static_cast<c10::BFloat16>(dyi * ui * si * (1.0f + gi * (1.0f - si)));  // dy * u * silu'(g)
        }
      }
    });
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
                                                              const at::Tensor& sin,
                                                              std::optional<at::ScalarType> out_dtype) {
  LLMSREC_ASSERT(qkv.dim() == 2 && qkv.size(1) == (heads + 2 * kv_heads) * head_dim && head_dim % 2 == 0,
                 "rope_split_qkv: qkv must be [N, (H + 2 KV) * hd] with an even hd");
  LLMSREC_ASSERT(cos.size(0) == qkv.size(0) && cos.size(1) == head_dim, "rope_split_qkv: cos/sin must be [N, hd]");
  LLMSREC_ASSERT(qkv.device().is_cpu() && cos.device().is_cpu() && sin.device().is_cpu(),
                 "rope_split_qkv: CPU tensors only");
  auto out = RopeSplitQkv::apply(qkv.contiguous(), heads, kv_heads, head_dim, cos, sin,
                                 out_dtype.value_or(qkv.scalar_type()));
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
  if (gate_up.scalar_type() == at::kBFloat16) {
    LLMSREC_ASSERT(gate_up.device().is_cpu(), "swiglu: bf16 on the CPU only (the generic path uses at::silu)");
    return SwiGluBf16::apply(gate_up.contiguous());
  }
  return SwiGlu::apply(gate_up);
}

}  // namespace llmsrec::models::llama
