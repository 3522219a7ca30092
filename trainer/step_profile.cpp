#include "trainer/step_profile.h"

namespace llmsrec::trainer {

const char* phase_name(StepPhase p) {
  switch (p) {
    case StepPhase::kData: return "data";
    case StepPhase::kLlmForward: return "llm_forward";
    case StepPhase::kHeads: return "heads_and_loss";
    case StepPhase::kBackwardHeads: return "backward_heads";
    case StepPhase::kBackwardLlm: return "backward_llm";
    case StepPhase::kAllreduce: return "allreduce";
    case StepPhase::kOptimizer: return "optimizer";
    case StepPhase::kCheckpointIo: return "checkpoint_io";
    case StepPhase::kCount: break;
  }
  return "?";
}

double StepProfile::total_seconds() const {
  double s = 0;
  for (double x : seconds_) s += x;
  return s;
}

nlohmann::json StepProfile::to_json() const {
  const double total = total_seconds();
  nlohmann::json phases = nlohmann::json::array();
  for (size_t i = 0; i < seconds_.size(); ++i) {
    phases.push_back({
        {"phase", phase_name(static_cast<StepPhase>(i))},
        {"seconds", seconds_[i]},
        {"ms_per_step", steps_ > 0 ? 1e3 * seconds_[i] / static_cast<double>(steps_) : 0.0},
        {"share", total > 0 ? seconds_[i] / total : 0.0}});
  }
  return {{"steps", steps_},
          {"tokens", tokens_},
          {"seconds", total},
          {"tokens_per_s", total > 0 ? static_cast<double>(tokens_) / total : 0.0},
          {"step_ms", steps_ > 0 ? 1e3 * total / static_cast<double>(steps_) : 0.0},
          {"model_flops_per_step", steps_ > 0 ? model_flops_ / static_cast<double>(steps_) : 0.0},
          {"achieved_flops_per_s", total > 0 ? model_flops_ / total : 0.0},
          {"phases", phases}};
}

}  // namespace llmsrec::trainer
