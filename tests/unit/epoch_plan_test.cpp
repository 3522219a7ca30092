#include <gtest/gtest.h>

#include <numeric>
#include <set>

#include "sharding/epoch_plan.h"

using llmsrec::sharding::EpochPlan;

namespace {

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(EpochPlan, RanksTogetherCoverEveryUserOnceInGlobalOrder) {
  const int world = 3;
  const int64_t b = 4, n = 53;  // 53 = 4 full global batches of 12 + 5
  std::vector<EpochPlan> plans;
  for (int r = 0; r < world; ++r) plans.emplace_back(iota(n), 7, 2, world, r, b);
  EXPECT_EQ(plans[0].steps(), 5);
  for (int r = 1; r < world; ++r) EXPECT_EQ(plans[r].steps(), plans[0].steps()) << "equal step counts";
  std::vector<int64_t> seen;
  for (int64_t s = 0; s < plans[0].steps(); ++s) {
    std::vector<int64_t> step_users;
    for (int r = 0; r < world; ++r) {
      auto slice = plans[r].step(s);
      EXPECT_EQ(slice.global_offset, static_cast<int64_t>(step_users.size()));
      step_users.insert(step_users.end(), slice.users.begin(), slice.users.end());
      EXPECT_EQ(slice.global_count, s < 4 ? 12 : 5);
    }
    EXPECT_EQ(step_users, plans[0].global_step_users(s));
    seen.insert(seen.end(), step_users.begin(), step_users.end());
  }
  EXPECT_EQ(seen, plans[0].order());
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), static_cast<size_t>(n));
  // Short last step: 5 users over ranks of 4 -> rank 0 has 4, rank 1 has 1, rank 2 none.
  EXPECT_EQ(plans[2].step(4).users.size(), 0u);
  EXPECT_EQ(plans[1].step(4).users.size(), 1u);
}

TEST(EpochPlan, OrderDependsOnSeedAndEpochNotOnWorldSize) {
  EpochPlan one(iota(100), 11, 3, 1, 0, 8);
  EpochPlan four(iota(100), 11, 3, 4, 2, 2);
  EXPECT_EQ(one.order(), four.order());
  EXPECT_EQ(one.global_step_users(0), four.global_step_users(0));  // global batch 8 both
  EpochPlan next_epoch(iota(100), 11, 4, 1, 0, 8);
  EpochPlan other_seed(iota(100), 12, 3, 1, 0, 8);
  EXPECT_NE(one.order(), next_epoch.order());
  EXPECT_NE(one.order(), other_seed.order());
}

TEST(EpochPlan, RejectsBadWorld) {
  EXPECT_ANY_THROW(EpochPlan(iota(10), 1, 0, 2, 2, 4));
  EXPECT_ANY_THROW(EpochPlan(iota(10), 1, 0, 2, 0, 0));
}

}  // namespace
