// A tiny in-memory dataset with a learnable sequential signal, for the teacher
// tests: user u starts at a random item and walks item -> item % I + 1, with an
// occasional random jump. Leave-last-out split; fixed eval negatives not in the
// user's history.
#pragma once

#include <algorithm>
#include <set>
#include <string>

#include "core/rng.h"
#include "data/dataset.h"

namespace llmsrec::testing {

inline data::Dataset make_walk_dataset(int64_t users, int64_t items, int64_t min_len, int64_t max_len,
                                       int64_t negatives = 20, uint64_t seed = 7) {
  data::Dataset ds;
  ds.name = "walk";
  ds.seed = seed;
  core::Rng rng(seed);
  ds.item_raw_ids.push_back("");
  ds.item_titles.push_back("");
  for (int64_t i = 1; i <= items; ++i) {
    ds.item_raw_ids.push_back("i" + std::to_string(i));
    ds.item_titles.push_back("Item " + std::to_string(i));
  }
  ds.offsets.push_back(0);
  for (int64_t u = 0; u < users; ++u) {
    ds.user_raw_ids.push_back("u" + std::to_string(u));
    const int64_t n = min_len + static_cast<int64_t>(rng.uniform(max_len - min_len + 1));
    std::set<int32_t> seen;
    int32_t cur = static_cast<int32_t>(1 + rng.uniform(items));
    std::vector<int32_t> seq;
    while (static_cast<int64_t>(seq.size()) < n) {
      if (!seen.count(cur)) {
        seq.push_back(cur);
        seen.insert(cur);
      }
      cur = rng.uniform(10) == 0 ? static_cast<int32_t>(1 + rng.uniform(items)) : static_cast<int32_t>(cur % items + 1);
    }
    for (int64_t k = 0; k < n; ++k) {
      ds.items.push_back(seq[k]);
      ds.timestamps.push_back(k);
    }
    const int64_t begin = ds.offsets.back(), end = begin + n;
    ds.offsets.push_back(end);
    ds.train_end.push_back(n >= 3 ? end - 2 : end);
    ds.valid_end.push_back(n >= 3 ? end - 1 : end);
    if (n >= 3) {
      for (auto* c : {&ds.valid, &ds.test}) {
        c->num_negatives = negatives;
        c->users.push_back(u);
        c->targets.push_back(c == &ds.valid ? seq[n - 2] : seq[n - 1]);
        for (int64_t k = 0; k < negatives; ++k) {
          int32_t neg;
          do {
            neg = static_cast<int32_t>(1 + rng.uniform(items));
          } while (seen.count(neg));
          c->negatives.push_back(neg);
        }
      }
    }
  }
  return ds;
}

}  // namespace llmsrec::testing
