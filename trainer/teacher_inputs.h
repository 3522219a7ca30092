// Which history a teacher representation is computed from, and how it is laid
// out: the last maxlen items, right-aligned, 0 = padding (SASRec's layout).
//
//   fill_right_aligned(teacher_input(ds, u, TeacherInput::kTrain), maxlen, row);
#pragma once

#include <algorithm>
#include <cstdint>

#include "data/dataset.h"

namespace llmsrec::trainer {

enum class TeacherInput {
  kTrainMinusLast,  // train[:-1]: LLM-SRec's training target (predicts the last train item)
  kTrain,           // train: validation input
  kTrainValid,      // train + valid: test input
};

inline data::Span<int32_t> teacher_input(const data::Dataset& ds, int64_t u, TeacherInput which) {
  const int32_t* begin = ds.items.data() + ds.offsets[u];
  switch (which) {
    case TeacherInput::kTrainMinusLast: return {begin, std::max<int64_t>(0, ds.train_end[u] - ds.offsets[u] - 1)};
    case TeacherInput::kTrain: return {begin, ds.train_end[u] - ds.offsets[u]};
    case TeacherInput::kTrainValid: return {begin, ds.valid_end[u] - ds.offsets[u]};
  }
  return {begin, 0};
}

// Writes the last min(n, len) items right-aligned into out[0..len), zeros before.
inline void fill_right_aligned(data::Span<int32_t> items, int64_t len, int64_t* out) {
  const int64_t n = std::min<int64_t>(items.size(), len);
  std::fill(out, out + (len - n), int64_t{0});
  for (int64_t k = 0; k < n; ++k) out[len - n + k] = items[items.size() - n + k];
}

}  // namespace llmsrec::trainer
