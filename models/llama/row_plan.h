// Which packed rows each decoder layer computes when the caller asks for only
// some rows' outputs, and says which rows need no gradient. Both cuts are exact:
//
//  - Constant rows. The first constant_prefix[b] rows of sequence b have inputs
//    that need no gradient (LLM-SRec: prompt text before the first injected
//    vector). Causal attention makes their states at every layer constants too,
//    so they run once without autograd, and their keys and values join the
//    other rows' attention as constants: the backward never touches them.
//  - The last layer. Its outputs are needed only at the requested rows, so it
//    runs queries, output projection and MLP only from each sequence's first
//    requested row to its end (keys and values still cover every row).
//
//   auto plan = RowPlan::make({0, 5, 12}, /*constant_prefix=*/{3, 4}, /*requested=*/{4, 11});
//   plan.grad_rows;   // {3, 4, 9, 10, 11}: the rows that run with autograd
//   plan.tail_rows;   // {1, 4}: the last layer's query rows, as indices into grad_rows
#pragma once

#include <cstdint>
#include <vector>

namespace llmsrec::models::llama {

struct RowPlan {
  std::vector<int64_t> offsets;           // every row: sequence b is [offsets[b], offsets[b+1])
  std::vector<int64_t> constant_offsets;  // the constant rows, packed: sequence b's prefix
  std::vector<int64_t> grad_offsets;      // the other rows, packed: sequence b's suffix
  std::vector<int64_t> constant_rows;     // batch row of each constant row
  std::vector<int64_t> grad_rows;         // batch row of each other row
  std::vector<int64_t> kv_order;          // batch row r -> its index in [constant rows; grad rows]
  std::vector<int64_t> tail_offsets;      // the last layer's query rows, packed per sequence
  std::vector<int64_t> tail_rows;         // ... as indices into grad_rows
  std::vector<int64_t> output_rows;       // requested row i -> its index among the tail rows

  bool has_constant_rows() const { return !constant_rows.empty(); }

  // `offsets` as in LlamaModel::forward; `constant_prefix` one entry per
  // sequence, or empty for none; `requested` batch rows (non-empty). A prefix
  // that would cover a requested row is cut just before it. Throws ShapeError
  // on a prefix longer than its sequence, a wrong count or a row outside the batch.
  static RowPlan make(const std::vector<int64_t>& offsets, std::vector<int64_t> constant_prefix,
                      const std::vector<int64_t>& requested);
};

}  // namespace llmsrec::models::llama
