// RowPlan: which rows run with autograd, which are constants, and which rows
// the last layer computes (models/llama/row_plan.h).
#include <gtest/gtest.h>

#include "core/error.h"
#include "models/llama/row_plan.h"

namespace {

using llmsrec::models::llama::RowPlan;
using V = std::vector<int64_t>;

TEST(RowPlan, SplitsPrefixesAndTrimsTheLastLayer) {
  const RowPlan p = RowPlan::make({0, 5, 12}, {3, 4}, {11, 4});
  EXPECT_EQ(p.constant_rows, (V{0, 1, 2, 5, 6, 7, 8}));
  EXPECT_EQ(p.constant_offsets, (V{0, 3, 7}));
  EXPECT_EQ(p.grad_rows, (V{3, 4, 9, 10, 11}));
  EXPECT_EQ(p.grad_offsets, (V{0, 2, 5}));
  // kv_order indexes [constant rows; grad rows] back into batch order.
  EXPECT_EQ(p.kv_order, (V{0, 1, 2, 7, 8, 3, 4, 5, 6, 9, 10, 11}));
  EXPECT_EQ(p.tail_rows, (V{1, 4}));
  EXPECT_EQ(p.tail_offsets, (V{0, 1, 2}));
  EXPECT_EQ(p.output_rows, (V{1, 0}));  // request order
}

TEST(RowPlan, APrefixStopsBeforeARequestedRowAndTheTailStartsAtTheFirst) {
  // Sequence 0 asks for rows 1 and 3: the prefix of 3 is cut to 1, the last
  // layer computes rows 1..4 of it. Sequence 1 asks for nothing: no tail rows.
  const RowPlan p = RowPlan::make({0, 5, 8}, {3, 2}, {3, 1});
  EXPECT_EQ(p.constant_rows, (V{0, 5, 6}));
  EXPECT_EQ(p.grad_rows, (V{1, 2, 3, 4, 7}));
  EXPECT_EQ(p.tail_rows, (V{0, 1, 2, 3}));
  EXPECT_EQ(p.tail_offsets, (V{0, 4, 4}));
  EXPECT_EQ(p.output_rows, (V{2, 0}));
}

TEST(RowPlan, NoPrefixAndEveryRowRequestedIsTheWholeBatch) {
  const RowPlan p = RowPlan::make({0, 2, 5}, {}, {0, 1, 2, 3, 4});
  EXPECT_FALSE(p.has_constant_rows());
  EXPECT_EQ(p.grad_rows, (V{0, 1, 2, 3, 4}));
  EXPECT_EQ(p.tail_rows, p.grad_rows);
  EXPECT_EQ(p.output_rows, (V{0, 1, 2, 3, 4}));
}

TEST(RowPlan, BadInputIsAShapeError) {
  EXPECT_THROW(RowPlan::make({0, 2, 5}, {1}, {4}), llmsrec::ShapeError);     // one prefix for two sequences
  EXPECT_THROW(RowPlan::make({0, 2, 5}, {3, 0}, {4}), llmsrec::ShapeError);  // longer than its sequence
  EXPECT_THROW(RowPlan::make({0, 2, 5}, {}, {5}), llmsrec::ShapeError);      // outside the batch
}

}  // namespace
