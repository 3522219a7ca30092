#include "models/llama/attention_kernel.h"

#include <dlfcn.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include "core/error.h"

namespace llmsrec::models::llama {

namespace {

// OpenBLAS's thread count, looked up at run time: libtorch may be linked to
// another BLAS (then the guard does nothing).
class SingleThreadedBlas {
 public:
  SingleThreadedBlas() {
    static const auto get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    static const auto set = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    if (get && set && at::get_num_threads() > 1) {
      set_ = set;
      saved_ = get();
      if (saved_ != 1) set_(1);
    }
  }
  ~SingleThreadedBlas() {
    if (set_ && saved_ != 1) set_(saved_);
  }
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  void (*set_)(int) = nullptr;
  int saved_ = 1;
};

// Runs fn(n, kv) for every block, blocks spread over ATen's threads.
template <typename Fn>
void for_each_block(int64_t N, int64_t KV, const Fn& fn) {
  SingleThreadedBlas one_blas_thread;
  at::parallel_for(0, N * KV, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) fn(i / KV, i % KV);
  });
}

// The rows of query group g that belong to a sequence of `len` real tokens.
at::Tensor group_rows(const at::Tensor& block, int64_t g, int64_t S, int64_t len) {
  return block.narrow(0, g * S, len);
}

struct BlockedAttention : public torch::autograd::Function<BlockedAttention> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& q, const at::Tensor& k,
                            const at::Tensor& v, const at::Tensor& mask, double scale, std::vector<int64_t> lengths) {
    const int64_t N = q.size(0), KV = q.size(1), M = q.size(2), S = k.size(2), G = M / S;
    // Padding rows and columns stay zero: their outputs are never read.
    at::Tensor probs = at::zeros({N, KV, M, S}, q.options());
    at::Tensor out = at::zeros_like(q);
    for_each_block(N, KV, [&](int64_t n, int64_t h) {
      const int64_t L = lengths[n];
      const at::Tensor kb = k[n][h].narrow(0, 0, L), vb = v[n][h].narrow(0, 0, L);
      const at::Tensor m = mask[mask.size(0) == 1 ? 0 : n].narrow(0, 0, L).narrow(1, 0, L);
      for (int64_t g = 0; g < G; ++g) {
        at::Tensor p = group_rows(probs[n][h], g, S, L).narrow(1, 0, L);  // [L, L], row stride S
        p.copy_(m).addmm_(group_rows(q[n][h], g, S, L), kb.t(), /*beta=*/1, /*alpha=*/scale);
        p.sub_(p.amax(-1, /*keepdim=*/true)).exp_();  // masked cells: exp(-inf) = 0
        p.div_(p.sum(-1, /*keepdim=*/true));
        at::Tensor o = group_rows(out[n][h], g, S, L);
        at::mm_out(o, p, vb);
      }
    });
    ctx->save_for_backward({q, k, v, probs});
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["lengths"] = lengths;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &q = saved[0], &k = saved[1], &v = saved[2], &probs = saved[3];
    const double scale = ctx->saved_data["scale"].toDouble();
    const std::vector<int64_t> lengths = ctx->saved_data["lengths"].toIntVector();
    const at::Tensor dout = grads[0].contiguous();
    const int64_t N = q.size(0), KV = q.size(1), M = q.size(2), S = k.size(2), G = M / S;
    at::Tensor dq = at::zeros_like(q), dk = at::zeros_like(k), dv = at::zeros_like(v);
    at::Tensor dscores = at::empty({N, KV, M, S}, q.options());
    for_each_block(N, KV, [&](int64_t n, int64_t h) {
      const int64_t L = lengths[n];
      const at::Tensor kb = k[n][h].narrow(0, 0, L), vb = v[n][h].narrow(0, 0, L);
      at::Tensor dkb = dk[n][h].narrow(0, 0, L), dvb = dv[n][h].narrow(0, 0, L);
      for (int64_t g = 0; g < G; ++g) {
        const at::Tensor p = group_rows(probs[n][h], g, S, L).narrow(1, 0, L);
        const at::Tensor go = group_rows(dout[n][h], g, S, L), qg = group_rows(q[n][h], g, S, L);
        at::Tensor ds = group_rows(dscores[n][h], g, S, L).narrow(1, 0, L);
        dvb.addmm_(p.t(), go);   // dV += P^T dO
        at::mm_out(ds, go, vb.t());  // dP = dO V^T
        // softmax backward: dS = P * (dP - rowsum(dP * P)); masked cells have P = 0.
        at::Tensor row = (ds * p).sum(-1, /*keepdim=*/true);
        ds.sub_(row).mul_(p);
        at::Tensor dqg = group_rows(dq[n][h], g, S, L);
        at::mm_out(dqg, ds, kb).mul_(scale);            // dQ = dS K * scale
        dkb.addmm_(ds.t(), qg, /*beta=*/1, /*alpha=*/scale);  // dK += dS^T Q * scale
      }
    });
    return {dq, dk, dv, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

bool blocked_attention_supports(at::ScalarType dtype) { return dtype == at::kFloat || dtype == at::kDouble; }

at::Tensor blocked_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                             double scale, std::vector<int64_t> lengths) {
  LLMSREC_ASSERT(q.dim() == 4 && k.dim() == 4 && v.dim() == 4 && mask.dim() == 3, "blocked_attention: ranks");
  LLMSREC_ASSERT(q.is_contiguous() && k.is_contiguous() && v.is_contiguous() && mask.is_contiguous(),
                 "blocked_attention: inputs must be contiguous");
  const int64_t N = q.size(0), S = k.size(2);
  LLMSREC_ASSERT(q.size(2) % S == 0 && mask.size(1) == S && mask.size(2) == S,
                 "blocked_attention: query rows must be a multiple of the key rows; mask [., S, S]");
  LLMSREC_ASSERT(blocked_attention_supports(q.scalar_type()) && mask.scalar_type() == q.scalar_type(),
                 "blocked_attention: float32/float64 only, mask in the same dtype");
  if (lengths.empty()) lengths.assign(static_cast<size_t>(N), S);
  LLMSREC_ASSERT(static_cast<int64_t>(lengths.size()) == N, "blocked_attention: one length per sequence");
  for (int64_t len : lengths) LLMSREC_ASSERT(len >= 1 && len <= S, "blocked_attention: lengths in [1, S]");
  return BlockedAttention::apply(q, k, v, mask, scale, std::move(lengths));
}

}  // namespace llmsrec::models::llama
