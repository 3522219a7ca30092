#include <gtest/gtest.h>

#include "data/k_core.h"
#include "data_fixtures.h"

namespace {

using namespace llmsrec::data;
using namespace llmsrec::data::testing;

// Four users, k = 2. D has one item -> D goes; then i4 has one user -> i4
// goes; then C has one item -> C goes; then i3 has one user -> i3 goes.
// Only the cascade (not a single pass) reaches A = B = {i1, i2}.
RawInteractions cascade() {
  RawInteractions raw;
  auto add = [&](const char* u, const char* i, int64_t ts) {
    raw.rows.push_back({raw.users.intern(u), raw.items.intern(i), ts, kSplitNone});
  };
  add("A", "i1", 1), add("A", "i2", 2);
  add("B", "i1", 1), add("B", "i2", 2), add("B", "i3", 3);
  add("C", "i3", 1), add("C", "i4", 2);
  add("D", "i4", 1);
  raw.time_unit = TimeUnit::kSeconds;
  return raw;
}

TEST(DataKCore, IterativeCascade) {
  RawInteractions raw = cascade();
  DataConfig cfg = config_for("tsv", "");
  cfg.k_core = 2;
  Dataset ds = build(raw, cfg);
  ASSERT_EQ(ds.num_users(), 2);
  EXPECT_EQ(ds.user_raw_ids[0], "A");
  EXPECT_EQ(ds.user_raw_ids[1], "B");
  ASSERT_EQ(ds.num_items(), 2);
  EXPECT_EQ(ds.item_raw_ids[1], "i1");
  EXPECT_EQ(ds.item_raw_ids[2], "i2");
  EXPECT_EQ(ds.num_interactions(), 4);
}

TEST(DataKCore, MaskStatsAndSinglePassIsNotEnough) {
  RawInteractions raw = cascade();
  // CSR by hand: users A,B,C,D; items i1=0,i2=1,i3=2,i4=3.
  std::vector<int64_t> offsets = {0, 2, 5, 7, 8};
  std::vector<int32_t> items = {0, 1, 0, 1, 2, 2, 3, 3};
  KCoreStats st;
  auto keep = k_core_mask(offsets, items, 4, 2, &st);
  EXPECT_EQ(keep, (std::vector<uint8_t>{1, 1, 1, 1, 0, 0, 0, 0}));
  EXPECT_EQ(st.removed_users, 2);
  EXPECT_EQ(st.removed_items, 2);
  EXPECT_EQ(st.removed_interactions, 4);
  EXPECT_GE(st.rounds, 3) << "the cascade needs several passes";
  // k = 0 and 1 keep everything.
  EXPECT_EQ(k_core_mask(offsets, items, 4, 0), std::vector<uint8_t>(8, 1));
  EXPECT_EQ(k_core_mask(offsets, items, 4, 1), std::vector<uint8_t>(8, 1));
}

TEST(DataKCore, EverythingRemovedIsAnError) {
  DataConfig cfg = config_for("tsv", "");
  cfg.k_core = 10;
  std::string err = error_of([&] { build(cascade(), cfg); });
  EXPECT_NE(err.find("10-core filter removed every interaction"), std::string::npos) << err;
}

}  // namespace
