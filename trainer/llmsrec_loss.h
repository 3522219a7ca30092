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

#include "core/config.h"

namespace llmsrec::cluster {
class Communicator;
}

namespace llmsrec::trainer {

struct LossConfig : core::ConfigSection {
  double rec_weight = 1.0;         // weight of the next-item retrieval cross-entropy
  double distill_weight = 1.0;     // weight of the distillation term (0 = ablation "no distill")
  double uniformity_weight = 1.0;  // weight of the uniformity terms (0 = ablation "no uniformity")
  std::string distill = "mse";     // mse (paper) | contrastive (InfoNCE ablation)
  double temperature = 0.07;       // InfoNCE temperature (contrastive only)
  std::string uniformity_scope = "local";  // local (reference) | global (all-gathered batch)

  void visit(core::ConfigVisitor& v) override {
    v.field("rec_weight", rec_weight, "weight of the next-item retrieval cross-entropy");
    v.field("distill_weight", distill_weight, "weight of the distillation term; 0 disables it");
    v.field("uniformity_weight", uniformity_weight, "weight of the two uniformity terms; 0 disables them");
    v.choice("distill", distill, {"mse", "contrastive"}, "distillation loss: MSE (paper) or InfoNCE (ablation)");
    v.field("temperature", temperature, "InfoNCE temperature (distill: contrastive)");
    v.choice("uniformity_scope", uniformity_scope, {"local", "global"},
             "uniformity over each rank's batch (reference) or over the all-gathered global batch");
  }
};

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
