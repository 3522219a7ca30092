// How `llmsrec embed` deals rows to ranks: whole batches, contiguous, covering
// every row once, so each LLM forward packs the same prompts at any world size.
#include <gtest/gtest.h>

#include "trainer/llmsrec_embed.h"

using llmsrec::trainer::embed_rows_of;

TEST(EmbedRows, WholeBatchesTileEveryRowOnceAtAnyWorldSize) {
  for (int64_t n : {0, 1, 7, 32, 33, 143, 240, 1000}) {
    for (int64_t batch : {1, 7, 10, 32}) {
      for (int world : {1, 2, 3, 8, 64}) {
        int64_t next = 0, most = 0;
        for (int r = 0; r < world; ++r) {
          auto [b, e] = embed_rows_of(n, batch, r, world);
          ASSERT_LE(b, e);
          if (e > b) {
            EXPECT_EQ(b, next) << "rank " << r << " does not continue where rank " << r - 1 << " stopped";
            EXPECT_EQ(b % batch, 0) << "rank " << r << " starts inside a batch: n " << n << " batch " << batch;
            EXPECT_TRUE(e == n || (e - b) % batch == 0) << "rank " << r << " ends inside a batch";
            next = e;
          }
          const int64_t batches = (e - b + batch - 1) / batch;
          if (r == 0) most = batches;
          EXPECT_LE(batches, most) << "rank 0 must have the most batches (it sets the number of rounds)";
        }
        EXPECT_EQ(next, n) << "n " << n << " batch " << batch << " world " << world;
      }
    }
  }
}

TEST(EmbedRows, SplitsEvenly) {
  EXPECT_EQ(embed_rows_of(143, 10, 0, 2), (std::pair<int64_t, int64_t>{0, 80}));
  EXPECT_EQ(embed_rows_of(143, 10, 1, 2), (std::pair<int64_t, int64_t>{80, 143}));
  EXPECT_EQ(embed_rows_of(5, 10, 1, 2), (std::pair<int64_t, int64_t>{5, 5})) << "no batch left for rank 1";
}
