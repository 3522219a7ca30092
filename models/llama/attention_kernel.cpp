#include "models/llama/attention_kernel.h"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <limits>

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

// Runs fn(n, kv) for every (sequence, kv head) block with work (`work[n]` > 0).
// Threads pull blocks from a shared counter, largest first, so uneven lengths
// still balance.
template <typename Fn>
void for_each_block(const std::vector<int64_t>& work, int64_t KV, const Fn& fn) {
  std::vector<int64_t> order;
  for (size_t n = 0; n < work.size(); ++n) {
    if (work[n] > 0) order.push_back(static_cast<int64_t>(n));
  }
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return work[a] > work[b]; });
  SingleThreadedBlas one_blas_thread;
  std::atomic<int64_t> next{0};
  const int64_t blocks = static_cast<int64_t>(order.size()) * KV;
  at::parallel_for(0, at::get_num_threads(), 1, [&](int64_t, int64_t) {
    for (int64_t i = next++; i < blocks; i = next++) fn(order[static_cast<size_t>(i / KV)], i % KV);
  });
}

// Sequence n of a batch: kv rows [r0, r0 + L), and its query rows, the last Lq
// of them, at [qr0, qr0 + Lq) of q. Query i sees keys 0 .. i + L - Lq.
struct Block {
  int64_t r0, L, qr0, Lq;
};

struct Blocks {
  std::vector<int64_t> offsets, q_offsets;
  Block operator[](int64_t n) const {
    return {offsets[n], offsets[n + 1] - offsets[n], q_offsets[n], q_offsets[n + 1] - q_offsets[n]};
  }
  int64_t size() const { return static_cast<int64_t>(offsets.size()) - 1; }
  int64_t max_len() const {
    int64_t S = 0;
    for (int64_t n = 0; n < size(); ++n) S = std::max(S, (*this)[n].L);
    return S;
  }
  // Score cells per sequence: how much work its blocks are.
  std::vector<int64_t> work() const {
    std::vector<int64_t> w;
    for (int64_t n = 0; n < size(); ++n) w.push_back((*this)[n].L * (*this)[n].Lq);
    return w;
  }
  // Start of sequence n's probabilities in the flat buffer: H [Lq, L] blocks per sequence.
  std::vector<int64_t> prob_offsets(int64_t H) const {
    std::vector<int64_t> base{0};
    for (int64_t n = 0; n < size(); ++n) base.push_back(base.back() + H * (*this)[n].L * (*this)[n].Lq);
    return base;
  }
};

// Rows [r0, r0 + L) of head `head` in a packed [T, heads, hd] tensor: an [L, hd]
// matrix whose row stride is heads * hd, which BLAS reads and writes in place.
at::Tensor head_rows(const at::Tensor& x, int64_t head, int64_t r0, int64_t L) {
  return x.select(1, head).narrow(0, r0, L);
}

struct PackedCausalAttention : public torch::autograd::Function<PackedCausalAttention> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& q, const at::Tensor& k,
                            const at::Tensor& v, std::vector<int64_t> offsets, std::vector<int64_t> q_offsets,
                            double scale) {
    const Blocks blocks{std::move(offsets), std::move(q_offsets)};
    const int64_t Tq = q.size(0), H = q.size(1), hd = q.size(2), KV = k.size(1), G = H / KV;
    const int64_t S = blocks.max_len();
    const at::Tensor causal =
        at::full({S, S}, -std::numeric_limits<double>::infinity(), q.options()).triu_(1);
    const std::vector<int64_t> base = blocks.prob_offsets(H);
    at::Tensor probs = at::empty({base.back()}, q.options());
    at::Tensor out = at::empty({Tq, H, hd}, q.options());
    for_each_block(blocks.work(), KV, [&](int64_t n, int64_t h) {
      const auto [r0, L, qr0, Lq] = blocks[n];
      const at::Tensor kb = head_rows(k, h, r0, L), vb = head_rows(v, h, r0, L);
      const at::Tensor mask = causal.narrow(0, L - Lq, Lq).narrow(1, 0, L);
      for (int64_t hq = h * G; hq < (h + 1) * G; ++hq) {
        at::Tensor p = probs.narrow(0, base[n] + hq * Lq * L, Lq * L).view({Lq, L});
        p.copy_(mask).addmm_(head_rows(q, hq, qr0, Lq), kb.t(), /*beta=*/1, /*alpha=*/scale);
        p.sub_(p.amax(-1, /*keepdim=*/true)).exp_();  // masked cells: exp(-inf) = 0
        p.div_(p.sum(-1, /*keepdim=*/true));
        at::Tensor o = head_rows(out, hq, qr0, Lq);
        at::mm_out(o, p, vb);
      }
    });
    ctx->save_for_backward({q, k, v, probs});
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["offsets"] = blocks.offsets;
    ctx->saved_data["q_offsets"] = blocks.q_offsets;
    return out.view({Tq, H * hd});
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &q = saved[0], &k = saved[1], &v = saved[2], &probs = saved[3];
    const double scale = ctx->saved_data["scale"].toDouble();
    const Blocks blocks{ctx->saved_data["offsets"].toIntVector(), ctx->saved_data["q_offsets"].toIntVector()};
    const int64_t Tq = q.size(0), H = q.size(1), hd = q.size(2), KV = k.size(1), G = H / KV;
    const at::Tensor dout = grads[0].contiguous().view({Tq, H, hd});
    const std::vector<int64_t> base = blocks.prob_offsets(H);
    at::Tensor dq = at::empty_like(q), dk = at::zeros_like(k), dv = at::zeros_like(v);
    for_each_block(blocks.work(), KV, [&](int64_t n, int64_t h) {
      const auto [r0, L, qr0, Lq] = blocks[n];
      const at::Tensor kb = head_rows(k, h, r0, L), vb = head_rows(v, h, r0, L);
      at::Tensor dkb = head_rows(dk, h, r0, L), dvb = head_rows(dv, h, r0, L);
      at::Tensor ds = at::empty({Lq, L}, q.options());
      for (int64_t hq = h * G; hq < (h + 1) * G; ++hq) {
        const at::Tensor p = probs.narrow(0, base[n] + hq * Lq * L, Lq * L).view({Lq, L});
        const at::Tensor go = head_rows(dout, hq, qr0, Lq), qh = head_rows(q, hq, qr0, Lq);
        dvb.addmm_(p.t(), go);        // dV += P^T dO
        at::mm_out(ds, go, vb.t());   // dP = dO V^T
        // softmax backward: dS = P * (dP - rowsum(dP * P)); masked cells have P = 0.
        at::Tensor row = (ds * p).sum(-1, /*keepdim=*/true);
        ds.sub_(row).mul_(p);
        at::Tensor dqh = head_rows(dq, hq, qr0, Lq);
        at::mm_out(dqh, ds, kb).mul_(scale);                  // dQ = dS K * scale
        dkb.addmm_(ds.t(), qh, /*beta=*/1, /*alpha=*/scale);  // dK += dS^T Q * scale
      }
    });
    return {dq, dk, dv, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

bool packed_attention_supports(at::ScalarType dtype) {
  return dtype == at::kFloat || dtype == at::kDouble || dtype == at::kBFloat16;
}

at::Tensor packed_causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                   std::vector<int64_t> offsets, double scale, std::vector<int64_t> q_offsets) {
  LLMSREC_ASSERT(q.dim() == 3 && k.dim() == 3 && v.dim() == 3,
                 "packed_causal_attention: q, k, v must be [T, heads, hd]");
  LLMSREC_ASSERT(q.is_contiguous() && k.is_contiguous() && v.is_contiguous(),
                 "packed_causal_attention: inputs must be contiguous");
  LLMSREC_ASSERT(k.sizes() == v.sizes() && k.size(2) == q.size(2) && q.size(1) % k.size(1) == 0,
                 "packed_causal_attention: k, v [T, KV, hd] with KV dividing q's heads");
  LLMSREC_ASSERT(packed_attention_supports(q.scalar_type()) && k.scalar_type() == q.scalar_type() &&
                     v.scalar_type() == q.scalar_type(),
                 "packed_causal_attention: float32/float64/bfloat16 only, one dtype");
  LLMSREC_ASSERT(q.device().is_cpu() && k.device().is_cpu() && v.device().is_cpu(),
                 "packed_causal_attention: CPU tensors only (generic_causal_attention runs anywhere)");
  if (q_offsets.empty()) q_offsets = offsets;
  LLMSREC_ASSERT(offsets.size() >= 2 && offsets.front() == 0 && offsets.back() == k.size(0),
                 "packed_causal_attention: offsets must run from 0 to k's rows");
  LLMSREC_ASSERT(q_offsets.size() == offsets.size() && q_offsets.front() == 0 && q_offsets.back() == q.size(0),
                 "packed_causal_attention: q_offsets must have one entry per offset and run from 0 to q's rows");
  for (size_t n = 0; n + 1 < offsets.size(); ++n) {
    const int64_t L = offsets[n + 1] - offsets[n], Lq = q_offsets[n + 1] - q_offsets[n];
    LLMSREC_ASSERT(L >= 0 && Lq >= 0 && Lq <= L,
                   "packed_causal_attention: every sequence needs 0 <= query rows <= key rows");
  }
  if (q.scalar_type() == at::kBFloat16) {
    // Widened once here (autograd narrows the gradients back): one pass over
    // q, k, v each way, small next to the layer's GEMMs.
    return PackedCausalAttention::apply(q.to(at::kFloat), k.to(at::kFloat), v.to(at::kFloat), std::move(offsets),
                                        std::move(q_offsets), scale)
        .to(at::kBFloat16);
  }
  return PackedCausalAttention::apply(q, k, v, std::move(offsets), std::move(q_offsets), scale);
}

}  // namespace llmsrec::models::llama
