// Which users each rank trains on, step by step. The order is a permutation of
// the training users keyed by (seed, epoch) only, so it is the same whatever
// the world size: global step s covers permutation[s*G, (s+1)*G) with
// G = world * per_rank_batch, and rank r takes the r-th block of b users of
// it. Every rank runs the same number of steps; the last global batch may be
// short, and then some ranks hold fewer (possibly zero) users, which is why a
// step's loss is normalised by the GLOBAL count (see StepSlice).
//
//   sharding::EpochPlan plan(train_users, seed, epoch, world, rank, per_rank_batch);
//   for (int64_t s = plan.start_step(); s < plan.steps(); ++s) {
//     sharding::StepSlice slice = plan.step(s);   // slice.users, slice.global_count
//   }
#pragma once

#include <cstdint>
#include <vector>

namespace llmsrec::sharding {

struct StepSlice {
  std::vector<int64_t> users;  // this rank's users for the step (may be empty on a short last step)
  int64_t global_offset = 0;   // position of users[0] within the global batch
  int64_t global_count = 0;    // users in the global batch (all ranks together)
};

class EpochPlan {
 public:
  EpochPlan(std::vector<int64_t> users, uint64_t seed, int64_t epoch, int world, int rank, int64_t per_rank_batch);

  int64_t steps() const { return steps_; }
  int64_t global_batch() const { return global_batch_; }
  StepSlice step(int64_t s) const;
  // Every user of global step s, in order (rank 0's block first).
  std::vector<int64_t> global_step_users(int64_t s) const;
  const std::vector<int64_t>& order() const { return order_; }

 private:
  std::vector<int64_t> order_;
  int world_, rank_;
  int64_t per_rank_batch_, global_batch_, steps_;
};

// Deterministic Fisher-Yates permutation of `values` keyed by (seed, epoch).
std::vector<int64_t> shuffled(std::vector<int64_t> values, uint64_t seed, int64_t epoch);

}  // namespace llmsrec::sharding
