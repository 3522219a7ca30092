// HR@K and NDCG@K with exact, mergeable state: a histogram of the target's
// 0-based rank (ranks >= max_k share one bucket) plus the user count. Integer
// counts merge exactly across ranks (sum the arrays: allreduce-friendly), and
// the metrics are computed from the merged counts, so a distributed evaluation
// equals a single-process one bit for bit.
//
// Ties count against the target (rank = number of candidates scoring >= it),
// so a constant model scores 0, not 1.
//
//   RankingCounts c(20);
//   c.add(rank_among_sampled(scores[0], scores + 1, 100));
//   double ndcg10 = c.ndcg(10), hr10 = c.hr(10);
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

namespace llmsrec::trainer {

class RankingCounts {
 public:
  explicit RankingCounts(int64_t max_k = 20);
  void add(int64_t rank);                   // 0-based rank of the target
  void merge(const RankingCounts& other);   // same max_k required
  // Replaces the state with a reduced histogram (e.g. summed over ranks).
  void set_counts(std::vector<int64_t> rank_histogram, int64_t users);
  int64_t users() const { return users_; }
  int64_t max_k() const { return static_cast<int64_t>(hits_.size()); }
  // hits_[r] = users whose target had rank r (r < max_k); the flat form for allreduce.
  const std::vector<int64_t>& rank_histogram() const { return hits_; }
  double hr(int64_t k) const;    // fraction of users with rank < k; 0 when empty
  double ndcg(int64_t k) const;  // mean of 1/log2(rank+2) over users with rank < k
  // {"ndcg@10", "hr@10", "ndcg@20", "hr@20", "users"} for ks = {10, 20}.
  nlohmann::json to_json(const std::vector<int64_t>& ks = {10, 20}) const;

 private:
  std::vector<int64_t> hits_;
  int64_t users_ = 0;
};

// Rank of `target` among `n` negative scores: how many negatives score >= target.
int64_t rank_among_sampled(float target, const float* negatives, int64_t n);

// Rank of item `target` among all items 1..num_items given scores[0..num_items]
// (index 0 = padding, ignored): how many items other than the target, not
// excluded, score >= scores[target]. `excluded` (sorted or not) are skipped.
int64_t rank_among_all(const float* scores, int64_t num_items, int32_t target, const int32_t* excluded,
                       int64_t num_excluded);

}  // namespace llmsrec::trainer
