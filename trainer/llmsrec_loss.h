// The LLM-SRec objective (paper eq. 5-7; reference models/seqllm4rec.py):
//   rec        = cross-entropy over raw dot products f_item(h_i) . f_user(h_u)
//                of each user's candidates (positive first), no temperature;
//   distill    = MSE between L2-normalised f_user(h_u) and f_CF-user(O_u)
//                (mean over elements) — or InfoNCE with a temperature;
//   uniformity = mean_{i<j} exp(-2 ||x_i - x_j||^2) on each normalised set.
//
// Data parallel: every term is normalised by the GLOBAL batch (sums divided by
// the global count), so summing gradients over ranks (allreduce SUM) gives
// exactly the single-process gradient of the global batch. The uniformity
// term is computed over the local batch (as the reference does; each rank's
// share is divided by the world size) or over the all-gathered global batch.
//
//   trainer::LossInputs in{user_vec, item_vecs, cf_vec};
//   trainer::LossParts loss = trainer::llmsrec_loss(in, cfg.loss, norm, &comm);
//   loss.total.backward();
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "trainer/loss_config.h"

namespace llmsrec::cluster {
class Communicator;
}

namespace llmsrec::trainer {

struct LossInputs {
  at::Tensor user;   // [b, k] f_user(h_u) of this rank's users (unnormalised)
  at::Tensor items;  // [b, C, k] f_item(h_i) of each user's candidates, positive first
  at::Tensor cf;     // [b, k] f_CF-user(O_u) (unnormalised)
};

struct LossNorm {
  int64_t global_count = 0;   // users in the global batch
  int64_t global_offset = 0;  // where this rank's users start in it
  int world = 1;
};

struct LossParts {
  at::Tensor total;  // this rank's share: backward + allreduce(SUM) = gradient of the global loss
  // Values of the GLOBAL loss terms (identical on every rank when scope is global;
  // local scope reports this rank's uniformity).
  double rec = 0, distill = 0, uniformity = 0;
};

// Collective when uniformity_scope is global or `comm` has more than one rank
// (the reported values are reduced): every rank, same order.
LossParts llmsrec_loss(const LossInputs& in, const LossConfig& cfg, const LossNorm& norm, cluster::Communicator* comm);

// mean_{i<j} exp(-2 ||x_i - x_j||^2) over the rows of x (0 for fewer than 2 rows).
at::Tensor uniformity(const at::Tensor& x);

}  // namespace llmsrec::trainer
