// Wall-clock split of LLM-SRec training steps into their phases, for the
// `llmsrec bench train` command and the train summary. CPU execution is
// synchronous, so a phase's wall time is its compute time; on a GPU the
// profile synchronises the device at every phase boundary (set_sync), which
// bench train turns on and train leaves off (no stalls in real runs).
//
//   StepProfile prof;
//   { PhaseTimer t(prof, StepPhase::kLlmForward); hidden = model.encode(...); }
//   prof.finish_step(tokens);
//   nlohmann::json j = prof.to_json();   // seconds and share per phase, tokens/s
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <utility>

#include <nlohmann/json.hpp>

namespace llmsrec::trainer {

enum class StepPhase {
  kData,           // prompts, negative sampling, teacher rows (host work before the LLM)
  kLlmForward,     // the frozen LLM over user and item prompts (f_I and the splice included)
  kHeads,          // f_user, f_item, f_CF-user and the loss (the global uniformity's allgather included)
  kBackwardHeads,  // backward from the loss down to the LLM outputs
  kBackwardLlm,    // backward through the frozen LLM to inputs_embeds, f_I and the tokens
  kAllreduce,      // the fused gradient allreduce
  kOptimizer,      // Adam / SGD update
  kCheckpointIo,   // checkpoint writes and metrics.jsonl
  kCount
};

const char* phase_name(StepPhase p);

class StepProfile {
 public:
  using Clock = std::chrono::steady_clock;
  void add(StepPhase p, double seconds) { seconds_[static_cast<size_t>(p)] += seconds; }
  void finish_step(int64_t tokens, double model_flops = 0) {
    ++steps_;
    tokens_ += tokens;
    model_flops_ += model_flops;
  }
  // Called at every phase boundary (e.g. a CUDA device synchronize); empty = none.
  void set_sync(std::function<void()> sync) { sync_ = std::move(sync); }
  void sync() const {
    if (sync_) sync_();
  }
  int64_t steps() const { return steps_; }
  int64_t tokens() const { return tokens_; }
  double seconds(StepPhase p) const { return seconds_[static_cast<size_t>(p)]; }
  double total_seconds() const;
  // {"steps", "tokens", "seconds", "tokens_per_s", "step_ms",
  //  "model_flops_per_step", "achieved_flops_per_s",
  //  "phases": [{"phase", "seconds", "ms_per_step", "share"}, ...]} in StepPhase order
  nlohmann::json to_json() const;
  void reset() {
    auto sync = std::move(sync_);
    *this = StepProfile();
    sync_ = std::move(sync);
  }

 private:
  std::array<double, static_cast<size_t>(StepPhase::kCount)> seconds_{};
  int64_t steps_ = 0, tokens_ = 0;
  double model_flops_ = 0;
  std::function<void()> sync_;
};

// Adds the scope's wall time to one phase.
class PhaseTimer {
 public:
  PhaseTimer(StepProfile& profile, StepPhase phase)
      : profile_(profile), phase_(phase), start_((profile.sync(), StepProfile::Clock::now())) {}
  ~PhaseTimer() {
    profile_.sync();
    profile_.add(phase_, std::chrono::duration<double>(StepProfile::Clock::now() - start_).count());
  }
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;

 private:
  StepProfile& profile_;
  StepPhase phase_;
  StepProfile::Clock::time_point start_;
};

}  // namespace llmsrec::trainer
