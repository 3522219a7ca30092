#include "trainer/llmsrec_loss.h"

#include <ATen/ATen.h>

#include "cluster/communicator.h"

namespace llmsrec::trainer {
namespace {

// Pairwise kernel exp(-2 d^2) for the global-scope uniformity: pairs inside
// `own` (i<j; gradient flows to both rows) and pairs between `own` and
// `others` (constants). Summed over ranks, each row gets its full derivative.
struct PairSums {
  at::Tensor within, cross;
};
PairSums pair_kernel_sums(const at::Tensor& own, const at::Tensor& others) {
  PairSums s{at::zeros({}, own.options()), at::zeros({}, own.options())};
  if (own.size(0) >= 2) s.within = at::pdist(own, 2).pow(2).mul(-2).exp().sum();
  if (own.size(0) >= 1 && others.defined() && others.size(0) >= 1) {
    s.cross = at::cdist(own, others).pow(2).mul(-2).exp().sum();
  }
  return s;
}

at::Tensor l2_normalize(const at::Tensor& x) { return x / x.norm(2, {1}, true).clamp_min(1e-12); }

// Rows of the global batch that are not this rank's, as constants.
at::Tensor others_of(const at::Tensor& local, cluster::Communicator& comm) {
  // Ranks may hold different row counts on a short last step: pad to the max.
  int64_t rows = local.size(0);
  int64_t max_rows = rows;
  comm.allreduce(&max_rows, 1, cluster::ReduceOp::kMax);
  at::Tensor padded = at::zeros({max_rows, local.size(1)}, local.options());
  padded.narrow(0, 0, rows).copy_(local.detach());
  at::Tensor counts = at::tensor({rows}).to(local.device());
  at::Tensor all = comm.allgather(padded);      // [world, max_rows, k]
  at::Tensor all_counts = comm.allgather(counts);  // [world, 1]
  std::vector<at::Tensor> parts;
  for (int r = 0; r < comm.size(); ++r) {
    if (r == comm.rank()) continue;
    parts.push_back(all[r].narrow(0, 0, all_counts[r][0].item<int64_t>()));
  }
  return parts.empty() ? at::Tensor() : at::cat(parts, 0);
}

}  // namespace

at::Tensor uniformity(const at::Tensor& x) {
  if (x.size(0) < 2) return at::zeros({}, x.options());
  return at::pdist(x, 2).pow(2).mul(-2).exp().mean();
}

LossParts llmsrec_loss(const LossInputs& in, const LossConfig& cfg, const LossNorm& norm,
                       cluster::Communicator* comm) {
  const int64_t b = in.user.size(0);
  const double global = static_cast<double>(std::max<int64_t>(norm.global_count, 1));
  LossParts parts;
  at::Tensor total = at::zeros({}, in.user.options());

  // Retrieval: candidates [b, C, k] . user [b, k] -> logits [b, C]; target index 0.
  at::Tensor logits = at::bmm(in.items, in.user.unsqueeze(2)).squeeze(2);
  at::Tensor labels = at::zeros({b}, in.user.options().dtype(at::kLong));
  at::Tensor rec_sum = b > 0 ? at::cross_entropy_loss(logits, labels, {}, at::Reduction::Sum) : at::zeros({}, total.options());
  total = total + cfg.rec_weight * rec_sum / global;

  at::Tensor u = l2_normalize(in.user);
  at::Tensor c = l2_normalize(in.cf);
  at::Tensor distill_sum = at::zeros({}, total.options());
  if (cfg.distill == "mse") {
    distill_sum = (u - c).pow(2).sum() / static_cast<double>(u.size(1));
  } else if (b > 0) {
    // InfoNCE within the local batch: user i's positive is its own teacher vector.
    at::Tensor sim = at::matmul(u, c.t()) / cfg.temperature;
    distill_sum = at::cross_entropy_loss(sim, at::arange(b, at::kLong), {}, at::Reduction::Sum);
  }
  total = total + cfg.distill_weight * distill_sum / global;

  at::Tensor uni_share = at::zeros({}, total.options());
  double uni_value = 0;  // this rank's part of the reported global value
  const bool global_scope = cfg.uniformity_scope == "global" && comm && comm->size() > 1;
  if (global_scope) {
    const double pairs = global * (global - 1) / 2;
    for (const at::Tensor& x : {u, c}) {
      PairSums s = pair_kernel_sums(x, others_of(x, *comm));
      if (pairs > 0) {
        uni_share = uni_share + (s.within + s.cross) / pairs;
        // Cross pairs are seen from both sides: count half on each.
        uni_value += (s.within.item<double>() + 0.5 * s.cross.item<double>()) / pairs;
      }
    }
  } else {
    const double world = comm ? comm->size() : 1;
    uni_share = (uniformity(u) + uniformity(c)) / world;
    uni_value = uni_share.item<double>();
  }
  total = total + cfg.uniformity_weight * uni_share;
  parts.total = total;

  // Reported values of the global loss terms, reduced across ranks.
  double values[3] = {rec_sum.item<double>() / global, distill_sum.item<double>() / global, uni_value};
  if (comm && comm->size() > 1) comm->allreduce(values, 3, cluster::ReduceOp::kSum);
  parts.rec = values[0];
  parts.distill = values[1];
  parts.uniformity = values[2];
  return parts;
}

}  // namespace llmsrec::trainer
