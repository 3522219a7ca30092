#include "trainer/ranking_metrics.h"

#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "core/error.h"

namespace llmsrec::trainer {

RankingCounts::RankingCounts(int64_t max_k) : hits_(static_cast<size_t>(std::max<int64_t>(max_k, 1)), 0) {}

void RankingCounts::add(int64_t rank) {
  LLMSREC_ASSERT(rank >= 0, "negative rank");
  ++users_;
  if (rank < max_k()) ++hits_[static_cast<size_t>(rank)];
}

void RankingCounts::set_counts(std::vector<int64_t> rank_histogram, int64_t users) {
  LLMSREC_ASSERT(rank_histogram.size() == hits_.size(), "rank histogram width differs");
  hits_ = std::move(rank_histogram);
  users_ = users;
}

void RankingCounts::merge(const RankingCounts& other) {
  if (other.max_k() != max_k()) {
    throw ShapeError(fmt::format("RankingCounts::merge: max_k {} vs {}", max_k(), other.max_k()));
  }
  for (size_t r = 0; r < hits_.size(); ++r) hits_[r] += other.hits_[r];
  users_ += other.users_;
}

double RankingCounts::hr(int64_t k) const {
  LLMSREC_ASSERT(k <= max_k(), "HR@k beyond max_k");
  if (users_ == 0) return 0.0;
  int64_t hits = 0;
  for (int64_t r = 0; r < k; ++r) hits += hits_[static_cast<size_t>(r)];
  return static_cast<double>(hits) / static_cast<double>(users_);
}

double RankingCounts::ndcg(int64_t k) const {
  LLMSREC_ASSERT(k <= max_k(), "NDCG@k beyond max_k");
  if (users_ == 0) return 0.0;
  double sum = 0;
  for (int64_t r = 0; r < k; ++r) sum += static_cast<double>(hits_[static_cast<size_t>(r)]) / std::log2(r + 2.0);
  return sum / static_cast<double>(users_);
}

nlohmann::json RankingCounts::to_json(const std::vector<int64_t>& ks) const {
  nlohmann::json j = nlohmann::json::object();
  for (int64_t k : ks) {
    j[fmt::format("ndcg@{}", k)] = ndcg(k);
    j[fmt::format("hr@{}", k)] = hr(k);
  }
  j["users"] = users_;
  return j;
}

int64_t rank_among_sampled(float target, const float* negatives, int64_t n) {
  int64_t rank = 0;
  for (int64_t i = 0; i < n; ++i) rank += negatives[i] >= target;
  return rank;
}

int64_t rank_among_all(const float* scores, int64_t num_items, int32_t target, const int32_t* excluded,
                       int64_t num_excluded) {
  LLMSREC_ASSERT(target >= 1 && target <= num_items, "target item out of range");
  const float t = scores[target];
  int64_t rank = 0;
  for (int64_t i = 1; i <= num_items; ++i) rank += scores[i] >= t;
  rank -= 1;  // the target itself
  // Excluded items (history) that were counted come back out; each counted once.
  std::vector<int32_t> ex(excluded, excluded + num_excluded);
  std::sort(ex.begin(), ex.end());
  ex.erase(std::unique(ex.begin(), ex.end()), ex.end());
  for (int32_t i : ex) {
    if (i != target && i >= 1 && i <= num_items && scores[i] >= t) --rank;
  }
  return rank;
}

}  // namespace llmsrec::trainer
