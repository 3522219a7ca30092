// Iterative k-core filtering: repeatedly drop users and items with fewer than
// k interactions until every remaining user and item has at least k (dropping
// an item can push a user below k, and so on).
//
//   std::vector<uint8_t> keep = data::k_core_mask(seq.offsets, seq.items, raw.items.size(), 5);
//   seq = data::filter_sequences(seq, keep);
#pragma once

#include <cstdint>
#include <vector>

namespace llmsrec::data {

struct KCoreStats {
  int64_t rounds = 0;          // passes until stable
  int64_t removed_users = 0;   // users that had interactions and lost all
  int64_t removed_items = 0;   // items that occurred and were dropped
  int64_t removed_interactions = 0;
};

// keep[k] for every entry of the CSR (offsets over users, items over raw item
// indices < num_items). k <= 1 keeps everything. Entries are assumed unique per
// (user, item) (build_sequences dedupes).
std::vector<uint8_t> k_core_mask(const std::vector<int64_t>& offsets, const std::vector<int32_t>& items,
                                 int64_t num_items, int64_t k, KCoreStats* stats = nullptr);

}  // namespace llmsrec::data
