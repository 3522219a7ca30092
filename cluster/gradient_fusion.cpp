#include "cluster/gradient_fusion.h"

#include <ATen/ATen.h>

#include <fmt/format.h>

#include "core/error.h"

namespace llmsrec::cluster {

struct GradientFusion::Impl {
  std::vector<at::Tensor> params;
  at::Tensor buffer;  // flat, params' dtype/device
};

GradientFusion::GradientFusion(const std::vector<at::Tensor>& params) : impl_(std::make_unique<Impl>()) {
  impl_->params = params;
  int64_t total = 0;
  for (const auto& p : params) {
    if (p.scalar_type() != params.front().scalar_type() || p.device() != params.front().device()) {
      throw ShapeError("GradientFusion: every trainable parameter must share one dtype and device");
    }
    total += p.numel();
  }
  impl_->buffer = params.empty() ? at::empty({0}) : at::zeros({total}, params.front().options());
}

GradientFusion::~GradientFusion() = default;
GradientFusion::GradientFusion(GradientFusion&&) noexcept = default;
GradientFusion& GradientFusion::operator=(GradientFusion&&) noexcept = default;

int64_t GradientFusion::numel() const { return impl_->buffer.numel(); }

void GradientFusion::allreduce(Communicator& comm, ReduceOp op) {
  at::NoGradGuard no_grad;
  at::Tensor& buf = impl_->buffer;
  int64_t offset = 0;
  for (const auto& p : impl_->params) {
    at::Tensor view = buf.narrow(0, offset, p.numel());
    if (p.grad().defined()) view.copy_(p.grad().reshape({-1}));
    else view.zero_();
    offset += p.numel();
  }
  comm.allreduce(buf, op);  // a host buffer on NCCL is staged by the communicator (communicator.h)
  offset = 0;
  for (auto& p : impl_->params) {
    at::Tensor view = buf.narrow(0, offset, p.numel()).view(p.sizes());
    if (p.grad().defined()) p.mutable_grad().copy_(view);
    else p.mutable_grad() = view.clone();
    offset += p.numel();
  }
}

uint64_t parameter_hash(const std::vector<at::Tensor>& params) {
  uint64_t h = 1469598103934665603ull;
  for (const auto& p : params) {
    at::Tensor c = p.detach().contiguous().cpu();
    const auto* bytes = static_cast<const unsigned char*>(c.data_ptr());
    const size_t n = static_cast<size_t>(c.numel()) * c.element_size();
    for (size_t i = 0; i < n; ++i) {
      h ^= bytes[i];
      h *= 1099511628211ull;
    }
  }
  return h;
}

void require_identical_across_ranks(Communicator& comm, uint64_t hash, const std::string& what) {
  std::vector<uint64_t> all(static_cast<size_t>(comm.size()));
  comm.allgather_bytes(&hash, sizeof(hash), all.data());
  std::string bad;
  for (int r = 1; r < comm.size(); ++r) {
    if (all[static_cast<size_t>(r)] != all[0]) bad += (bad.empty() ? "" : ", ") + std::to_string(r);
  }
  if (!bad.empty()) {
    throw CommError(fmt::format("{} differs between ranks: rank(s) {} disagree with rank 0 (hash {:016x})", what, bad,
                                all[0]));
  }
}

}  // namespace llmsrec::cluster
