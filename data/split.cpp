#include "data/split.h"

#include "core/error.h"

namespace llmsrec::data {

void leave_last_out(const std::vector<int64_t>& offsets, std::vector<int64_t>& train_end,
                    std::vector<int64_t>& valid_end) {
  const size_t users = offsets.size() - 1;
  train_end.resize(users);
  valid_end.resize(users);
  for (size_t u = 0; u < users; ++u) {
    const int64_t b = offsets[u], e = offsets[u + 1];
    if (e - b < 3) {
      train_end[u] = valid_end[u] = e;
    } else {
      train_end[u] = e - 2;
      valid_end[u] = e - 1;
    }
  }
}

void split_from_labels(const std::vector<int64_t>& offsets, const std::vector<uint8_t>& labels,
                       std::vector<int64_t>& train_end, std::vector<int64_t>& valid_end) {
  const size_t users = offsets.size() - 1;
  train_end.resize(users);
  valid_end.resize(users);
  for (size_t u = 0; u < users; ++u) {
    int64_t k = offsets[u];
    const int64_t e = offsets[u + 1];
    while (k < e && labels[k] == 0) ++k;
    train_end[u] = k;
    while (k < e && labels[k] == 1) ++k;
    valid_end[u] = k;
    for (int64_t j = k; j < e; ++j) LLMSREC_ASSERT(labels[j] == 2, "split labels must be sorted per user");
  }
}

}  // namespace llmsrec::data
