#include "models/llama/row_plan.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/error.h"

namespace llmsrec::models::llama {

RowPlan RowPlan::make(const std::vector<int64_t>& offsets, std::vector<int64_t> constant_prefix,
                      const std::vector<int64_t>& requested) {
  const int64_t B = static_cast<int64_t>(offsets.size()) - 1, T = offsets.back();
  if (constant_prefix.empty()) constant_prefix.assign(static_cast<size_t>(B), 0);
  if (static_cast<int64_t>(constant_prefix.size()) != B) {
    throw ShapeError(fmt::format("constant_prefix has {} entries for {} sequences", constant_prefix.size(), B));
  }
  auto sequence_of = [&](int64_t r) {
    return static_cast<int64_t>(std::upper_bound(offsets.begin(), offsets.end(), r) - offsets.begin()) - 1;
  };
  // First requested position of each sequence (its length when none is).
  std::vector<int64_t> tail_start(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    const int64_t L = offsets[b + 1] - offsets[b];
    if (constant_prefix[b] < 0 || constant_prefix[b] > L) {
      throw ShapeError(fmt::format("constant_prefix[{}] = {} outside [0, {}] (the sequence's length)", b,
                                   constant_prefix[b], L));
    }
    tail_start[b] = L;
  }
  for (int64_t r : requested) {
    if (r < 0 || r >= T) throw ShapeError(fmt::format("requested row {} outside the batch of {} rows", r, T));
    const int64_t b = sequence_of(r);
    tail_start[b] = std::min(tail_start[b], r - offsets[b]);
  }
  RowPlan p;
  p.offsets = offsets;
  p.constant_offsets = {0};
  p.grad_offsets = {0};
  p.tail_offsets = {0};
  for (int64_t b = 0; b < B; ++b) {
    const int64_t c = std::min(constant_prefix[b], tail_start[b]);
    for (int64_t r = offsets[b]; r < offsets[b + 1]; ++r) (r - offsets[b] < c ? p.constant_rows : p.grad_rows).push_back(r);
    for (int64_t t = tail_start[b]; t < offsets[b + 1] - offsets[b]; ++t) {
      p.tail_rows.push_back(p.grad_offsets.back() + t - c);
    }
    p.constant_offsets.push_back(static_cast<int64_t>(p.constant_rows.size()));
    p.grad_offsets.push_back(static_cast<int64_t>(p.grad_rows.size()));
    p.tail_offsets.push_back(static_cast<int64_t>(p.tail_rows.size()));
  }
  const int64_t Tc = static_cast<int64_t>(p.constant_rows.size());
  p.kv_order.assign(static_cast<size_t>(T), 0);
  for (int64_t i = 0; i < Tc; ++i) p.kv_order[p.constant_rows[i]] = i;
  for (size_t i = 0; i < p.grad_rows.size(); ++i) p.kv_order[p.grad_rows[i]] = Tc + static_cast<int64_t>(i);
  for (int64_t r : requested) {
    const int64_t b = sequence_of(r);
    p.output_rows.push_back(p.tail_offsets[b] + r - offsets[b] - tail_start[b]);
  }
  return p;
}

}  // namespace llmsrec::models::llama
