#include "data/k_core.h"

#include <cstddef>

namespace llmsrec::data {

std::vector<uint8_t> k_core_mask(const std::vector<int64_t>& offsets, const std::vector<int32_t>& items,
                                 int64_t num_items, int64_t k, KCoreStats* stats) {
  const int64_t users = static_cast<int64_t>(offsets.size()) - 1;
  std::vector<uint8_t> keep(items.size(), 1);
  KCoreStats st;
  if (k > 1) {
    std::vector<int64_t> user_count(static_cast<std::size_t>(users)), item_count(static_cast<std::size_t>(num_items), 0);
    for (int64_t u = 0; u < users; ++u) user_count[u] = offsets[u + 1] - offsets[u];
    for (int32_t it : items) ++item_count[it];
    std::vector<uint8_t> item_alive(static_cast<std::size_t>(num_items), 1), user_alive(static_cast<std::size_t>(users), 1);
    // Each pass drops every currently deficient user and item at once, then
    // recounts; a pass that drops nothing ends the loop (a fixed point).
    for (bool changed = true; changed;) {
      changed = false;
      ++st.rounds;
      for (int64_t i = 0; i < num_items; ++i) {
        if (item_alive[i] && item_count[i] < k) item_alive[i] = 0, changed = true;
      }
      for (int64_t u = 0; u < users; ++u) {
        if (user_alive[u] && user_count[u] < k) user_alive[u] = 0, changed = true;
      }
      if (!changed) break;
      for (int64_t u = 0; u < users; ++u) {
        for (int64_t e = offsets[u]; e < offsets[u + 1]; ++e) {
          if (!keep[e]) continue;
          if (!user_alive[u] || !item_alive[items[e]]) {
            keep[e] = 0;
            --user_count[u];
            --item_count[items[e]];
            ++st.removed_interactions;
          }
        }
      }
    }
    for (int64_t u = 0; u < users; ++u) st.removed_users += (!user_alive[u] && offsets[u + 1] > offsets[u]);
    std::vector<uint8_t> occurs(static_cast<std::size_t>(num_items), 0);
    for (int32_t it : items) occurs[it] = 1;
    for (int64_t i = 0; i < num_items; ++i) st.removed_items += (occurs[i] && !item_alive[i]);
  }
  if (stats) *stats = st;
  return keep;
}

}  // namespace llmsrec::data
