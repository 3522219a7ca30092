// `llmsrec train`: LLM-SRec training, data parallel over the ranks of a
// RunContext. One step: this rank's users (sharding::EpochPlan) -> user
// prompts (history before the last train item) and item prompts (the target
// and `negatives` sampled items) -> one packed LLM forward each -> heads ->
// loss normalised by the global batch -> backward -> ONE fused allreduce(SUM)
// -> Adam. Randomness is keyed by (seed, epoch, user), never by rank, so the
// result does not depend on the world size. Validation 10x per epoch (lr
// decay, early stop on HR@10), checkpoints run/ckpt-STEP.h5 (rank 0, atomic),
// exact resume, preemption (exit 3) and cross-rank parameter hash checks.
//
//   auto ctx = app::create_run_context(cfg, &argc, &argv);   // Collective
//   nlohmann::json summary = trainer::train_llmsrec(app::llmsrec_sections(cfg), *ctx, {.resume = true});
#pragma once

#include "trainer/llmsrec_sections.h"

#include <nlohmann/json.hpp>

namespace llmsrec::core {
class ProgressReporter;
}  // namespace llmsrec::core
namespace llmsrec::cluster {
class RunContext;
}

namespace llmsrec::trainer {

struct TrainOptions {
  bool resume = false;                         // continue from run.dir/latest if it exists
  core::ProgressReporter* progress = nullptr;  // rank 0's progress display (may be null)
  bool bench = false;                          // steps only: no validation, no checkpoints (bench train)
  int64_t bench_warmup_steps = 0;              // bench: the step profile restarts after these steps
};

// Collective: every rank of `ctx`. Returns the summary (steps, epochs,
// best validation metrics, final checkpoint, parameter hash, seconds).
// Throws cluster::Preempted (exit 3) after checkpointing when a signal arrived.
nlohmann::json train_llmsrec(const LlmSrecSections& cfg, cluster::RunContext& ctx, const TrainOptions& options);

}  // namespace llmsrec::trainer
