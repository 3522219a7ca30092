#include "data/negatives.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/rng.h"

namespace llmsrec::data {

EvalCandidates sample_eval_candidates(const Dataset& ds, EvalSplit split, int64_t num_negatives, uint64_t seed) {
  EvalCandidates ev;
  ev.num_negatives = num_negatives;
  const int64_t num_items = ds.num_items();
  // mark[i] == stamp <=> item i is taken (in the history, or already drawn) for the current user.
  std::vector<int64_t> mark(static_cast<size_t>(num_items) + 1, -1);
  std::vector<int32_t> pool;
  for (int64_t u = 0; u < ds.num_users(); ++u) {
    Span<int32_t> range = split == EvalSplit::kValid ? ds.valid_items(u) : ds.test_items(u);
    if (range.empty()) continue;
    Span<int32_t> history = ds.user_items(u);
    for (int32_t it : history) mark[it] = u;
    const int64_t available = num_items - history.size();  // sequences hold each item once per user
    if (available < num_negatives) {
      throw DataError(fmt::format(
          "cannot sample {} {} negatives for user '{}': only {} of {} items were never interacted with (lower "
          "data.eval_negatives: the catalogue is too small for it)",
          num_negatives, split == EvalSplit::kValid ? "valid" : "test", ds.user_raw_ids[u], available, num_items));
    }
    core::Rng rng(core::stream_seed(seed, core::Stream::kEvalNegatives, static_cast<uint64_t>(split),
                                    static_cast<uint64_t>(u)));
    ev.users.push_back(u);
    ev.targets.push_back(range[0]);
    if (available >= 4 * num_negatives) {
      // Rejection: cheap when most items are free (expected < 4/3 draws per negative).
      for (int64_t k = 0; k < num_negatives;) {
        auto cand = static_cast<int32_t>(1 + rng.uniform(static_cast<uint64_t>(num_items)));
        if (mark[cand] == u) continue;
        mark[cand] = u;
        ev.negatives.push_back(cand);
        ++k;
      }
    } else {
      // Dense histories: partial Fisher-Yates over the explicit complement.
      pool.clear();
      for (int32_t i = 1; i <= num_items; ++i) {
        if (mark[i] != u) pool.push_back(i);
      }
      for (int64_t k = 0; k < num_negatives; ++k) {
        auto j = static_cast<int64_t>(k + rng.uniform(static_cast<uint64_t>(pool.size() - k)));
        std::swap(pool[k], pool[j]);
        ev.negatives.push_back(pool[k]);
      }
    }
  }
  return ev;
}

}  // namespace llmsrec::data
