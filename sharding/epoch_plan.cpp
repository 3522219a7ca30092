#include "sharding/epoch_plan.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/error.h"
#include "core/rng.h"

namespace llmsrec::sharding {

std::vector<int64_t> shuffled(std::vector<int64_t> values, uint64_t seed, int64_t epoch) {
  core::Rng rng(core::stream_seed(seed, core::Stream::kShuffle, static_cast<uint64_t>(epoch)));
  for (size_t i = values.size(); i > 1; --i) {
    size_t j = static_cast<size_t>(rng.uniform(i));
    std::swap(values[i - 1], values[j]);
  }
  return values;
}

EpochPlan::EpochPlan(std::vector<int64_t> users, uint64_t seed, int64_t epoch, int world, int rank,
                     int64_t per_rank_batch)
    : order_(shuffled(std::move(users), seed, epoch)), world_(world), rank_(rank), per_rank_batch_(per_rank_batch) {
  if (world < 1 || rank < 0 || rank >= world) {
    throw ConfigError(fmt::format("EpochPlan: rank {} is not in a world of {}", rank, world));
  }
  if (per_rank_batch < 1) throw ConfigError(fmt::format("per-rank batch must be >= 1, found {}", per_rank_batch));
  global_batch_ = per_rank_batch_ * world_;
  const auto n = static_cast<int64_t>(order_.size());
  steps_ = (n + global_batch_ - 1) / global_batch_;
}

StepSlice EpochPlan::step(int64_t s) const {
  LLMSREC_ASSERT(s >= 0 && s < steps_, fmt::format("step {} outside [0, {})", s, steps_));
  const auto n = static_cast<int64_t>(order_.size());
  const int64_t global_begin = s * global_batch_;
  const int64_t global_end = std::min(n, global_begin + global_batch_);
  StepSlice slice;
  slice.global_count = global_end - global_begin;
  const int64_t begin = std::min(global_end, global_begin + rank_ * per_rank_batch_);
  const int64_t end = std::min(global_end, begin + per_rank_batch_);
  slice.global_offset = begin - global_begin;
  slice.users.assign(order_.begin() + begin, order_.begin() + end);
  return slice;
}

std::vector<int64_t> EpochPlan::global_step_users(int64_t s) const {
  const auto n = static_cast<int64_t>(order_.size());
  const int64_t begin = s * global_batch_;
  const int64_t end = std::min(n, begin + global_batch_);
  return std::vector<int64_t>(order_.begin() + begin, order_.begin() + end);
}

}  // namespace llmsrec::sharding
