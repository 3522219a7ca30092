#include <cmath>

#include <gtest/gtest.h>

#include "trainer/ranking_metrics.h"

namespace llmsrec::trainer {
namespace {

TEST(RankingMetrics, HandComputedRanks) {
  RankingCounts c(20);
  for (int64_t r : {0, 1, 5, 15, 30}) c.add(r);
  EXPECT_EQ(c.users(), 5);
  EXPECT_DOUBLE_EQ(c.hr(10), 3.0 / 5);
  EXPECT_DOUBLE_EQ(c.hr(20), 4.0 / 5);
  EXPECT_NEAR(c.ndcg(10), (1.0 + 1.0 / std::log2(3.0) + 1.0 / std::log2(7.0)) / 5, 1e-12);
  EXPECT_NEAR(c.ndcg(20), (1.0 + 1.0 / std::log2(3.0) + 1.0 / std::log2(7.0) + 1.0 / std::log2(17.0)) / 5, 1e-12);
  auto j = c.to_json();
  EXPECT_DOUBLE_EQ(j["hr@10"].get<double>(), 0.6);
  EXPECT_EQ(j["users"].get<int64_t>(), 5);
}

TEST(RankingMetrics, EmptyIsZeroNotNaN) {
  RankingCounts c(20);
  EXPECT_EQ(c.hr(10), 0.0);
  EXPECT_EQ(c.ndcg(10), 0.0);
}

TEST(RankingMetrics, MergeEqualsOneAccumulator) {
  RankingCounts a(20), b(20), all(20);
  for (int64_t r = 0; r < 50; ++r) {
    ((r % 3) ? a : b).add(r % 23);
    all.add(r % 23);
  }
  a.merge(b);
  EXPECT_EQ(a.rank_histogram(), all.rank_histogram());
  EXPECT_EQ(a.users(), all.users());
  EXPECT_EQ(a.ndcg(10), all.ndcg(10));  // bit-identical: computed from the same integer counts
  RankingCounts other(10);
  EXPECT_THROW(a.merge(other), std::exception);
}

TEST(RankingMetrics, TiesCountAgainstTheTarget) {
  const float neg[] = {0.5f, 0.1f, 0.9f};
  EXPECT_EQ(rank_among_sampled(0.5f, neg, 3), 2);
  EXPECT_EQ(rank_among_sampled(1.0f, neg, 3), 0);
  const float same[] = {0.0f, 0.0f, 0.0f};
  EXPECT_EQ(rank_among_sampled(0.0f, same, 3), 3);  // a constant model gets no credit
}

TEST(RankingMetrics, FullRankingSkipsPaddingTargetAndHistory) {
  // items 1..5; index 0 is padding (huge score must be ignored).
  const float scores[] = {100.f, 0.2f, 0.9f, 0.5f, 0.7f, 0.1f};
  EXPECT_EQ(rank_among_all(scores, 5, 3, nullptr, 0), 2);  // items 2 and 4 beat item 3
  const int32_t hist[] = {2, 2, 5};                          // duplicates count once; 5 scores below anyway
  EXPECT_EQ(rank_among_all(scores, 5, 3, hist, 3), 1);
  const int32_t hist2[] = {3};                               // the target in the history is not removed
  EXPECT_EQ(rank_among_all(scores, 5, 3, hist2, 1), 2);
}

}  // namespace
}  // namespace llmsrec::trainer
