// Train/valid/test cut points per user (see Dataset): leave-last-out, or the
// split the source already made (Amazon-2023 benchmark CSVs).
//
//   data::leave_last_out(ds.offsets, ds.train_end, ds.valid_end);
#pragma once

#include <cstdint>
#include <vector>

namespace llmsrec::data {

// Last item = test, second last = valid, the rest train; users with fewer than
// 3 interactions are train-only (train_end = valid_end = end), as in SASRec.
void leave_last_out(const std::vector<int64_t>& offsets, std::vector<int64_t>& train_end,
                    std::vector<int64_t>& valid_end);

// Cut points from per-entry labels (0 train, 1 valid, 2 test), already sorted
// by label within each user.
void split_from_labels(const std::vector<int64_t>& offsets, const std::vector<uint8_t>& labels,
                       std::vector<int64_t>& train_end, std::vector<int64_t>& valid_end);

}  // namespace llmsrec::data
