// Config section `train.loss`: weights and forms of the LLM-SRec loss terms
// (trainer/llmsrec_loss.h computes them). Plain data, no ATen, so configs
// stay cheap to include.
//
//   train:
//     loss: {distill_weight: 0, uniformity_weight: 0}   # the ablation without distillation
#pragma once

#include <string>

#include "core/config.h"

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

}  // namespace llmsrec::trainer
