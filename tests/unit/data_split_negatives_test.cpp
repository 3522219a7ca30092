#include <gtest/gtest.h>

#include <set>

#include "data/negatives.h"
#include "data_fixtures.h"

namespace {

using namespace llmsrec::data;
using namespace llmsrec::data::testing;

// 60 users with lengths 1..60 over 300 items; rows in shuffled time order.
RawInteractions many_users() {
  RawInteractions raw;
  raw.time_unit = TimeUnit::kSeconds;
  for (int i = 0; i < 300; ++i) raw.items.intern("item" + std::to_string(i));
  for (int u = 0; u < 60; ++u) {
    int32_t user = raw.users.intern("user" + std::to_string(u));
    for (int k = u; k >= 0; --k) {  // newest first in the file
      raw.rows.push_back({user, (u * 7 + k * 13) % 300, 1000 + k, kSplitNone});
    }
  }
  return raw;
}

TEST(DataSplit, DedupeKeepsEarliestAndSortIsStable) {
  RawInteractions raw;
  raw.time_unit = TimeUnit::kSeconds;
  auto add = [&](const char* i, int64_t ts) { raw.rows.push_back({raw.users.intern("u"), raw.items.intern(i), ts, 0}); };
  add("c", 30), add("a", 10), add("b", 20), add("a", 5), add("d", 20);  // a twice; b and d tie at 20
  Dataset ds = build(raw, config_for("tsv", ""));
  ASSERT_EQ(ds.num_interactions(), 4);
  std::vector<std::string> order;
  for (int32_t it : ds.user_items(0)) order.push_back(ds.item_raw_ids[it]);
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "d", "c"})) << "ties keep file order";
  EXPECT_EQ(ds.user_timestamps(0)[0], 5) << "the earliest duplicate is kept";
}

TEST(DataSplit, LeaveLastOut) {
  Dataset ds = build(many_users(), config_for("tsv", ""));
  ASSERT_EQ(ds.num_users(), 60);
  int64_t eval_users = 0;
  for (int64_t u = 0; u < ds.num_users(); ++u) {
    const int64_t len = ds.user_items(u).size();
    if (len < 3) {
      EXPECT_EQ(ds.train_items(u).size(), len);
      EXPECT_TRUE(ds.valid_items(u).empty());
      EXPECT_TRUE(ds.test_items(u).empty());
    } else {
      ++eval_users;
      EXPECT_EQ(ds.train_items(u).size(), len - 2);
      ASSERT_EQ(ds.valid_items(u).size(), 1);
      ASSERT_EQ(ds.test_items(u).size(), 1);
      EXPECT_EQ(ds.test_items(u)[0], ds.user_items(u).back());
      // chronological: timestamps increase through train, valid, test
      auto ts = ds.user_timestamps(u);
      for (int64_t k = 1; k < ts.size(); ++k) EXPECT_LT(ts[k - 1], ts[k]);
    }
  }
  EXPECT_EQ(eval_users, 58);
  EXPECT_EQ(static_cast<int64_t>(ds.valid.users.size()), 58);
}

void check_candidates(const Dataset& ds, const EvalCandidates& ev, bool valid, int64_t n) {
  ASSERT_EQ(ev.num_negatives, n);
  for (size_t r = 0; r < ev.users.size(); ++r) {
    const int64_t u = ev.users[r];
    EXPECT_EQ(ev.targets[r], valid ? ds.valid_items(u)[0] : ds.test_items(u)[0]);
    std::set<int32_t> history(ds.user_items(u).begin(), ds.user_items(u).end());
    std::set<int32_t> negs;
    for (int32_t x : ev.negatives_of(static_cast<int64_t>(r))) {
      EXPECT_GE(x, 1);
      EXPECT_LE(x, ds.num_items());
      EXPECT_EQ(history.count(x), 0u) << "negative " << x << " is in user " << u << "'s history";
      EXPECT_NE(x, ev.targets[r]);
      negs.insert(x);
    }
    EXPECT_EQ(static_cast<int64_t>(negs.size()), n) << "duplicate negatives for user " << u;
  }
}

TEST(DataNegatives, Invariants) {
  DataConfig cfg = config_for("tsv", "");
  cfg.eval_negatives = 99;
  Dataset ds = build(many_users(), cfg);
  check_candidates(ds, ds.valid, true, 99);
  check_candidates(ds, ds.test, false, 99);
  // Dense users (60 items seen of 300, 240 free < 4 * 99) use the complement path; sparse ones rejection.
  cfg.eval_negatives = 230;
  Dataset dense = build(many_users(), cfg);
  check_candidates(dense, dense.valid, true, 230);
}

TEST(DataNegatives, SameSeedSameArraysOtherSeedDiffers) {
  DataConfig cfg = config_for("tsv", "");
  cfg.eval_negatives = 20;
  Dataset a = build(many_users(), cfg, 5), b = build(many_users(), cfg, 5), c = build(many_users(), cfg, 6);
  EXPECT_EQ(a.items, b.items);
  EXPECT_EQ(a.offsets, b.offsets);
  EXPECT_EQ(a.valid.negatives, b.valid.negatives);
  EXPECT_EQ(a.test.negatives, b.test.negatives);
  EXPECT_NE(a.valid.negatives, c.valid.negatives);
  EXPECT_NE(a.valid.negatives, a.test.negatives) << "valid and test use different streams";
}

TEST(DataNegatives, IndependentOfOtherUsers) {
  // A user's negatives depend on (seed, split, user index) and its own history only.
  DataConfig cfg = config_for("tsv", "");
  cfg.eval_negatives = 10;
  Dataset a = build(many_users(), cfg, 5);
  RawInteractions raw = many_users();
  for (auto& r : raw.rows) {
    if (raw.users.name(r.user) == "user59") r.timestamp += 1;  // the last user changes its times only
  }
  Dataset b = build(raw, cfg, 5);
  EXPECT_EQ(a.valid.negatives, b.valid.negatives);
}

TEST(DataNegatives, TooFewFreeItemsIsAClearError) {
  DataConfig cfg = config_for("tsv", "");
  cfg.eval_negatives = 250;  // user50 is the first with fewer than 250 free items (51 seen)
  std::string err = error_of([&] { build(many_users(), cfg); });
  EXPECT_NE(err.find("cannot sample 250 valid negatives for user 'user50'"), std::string::npos) << err;
  EXPECT_NE(err.find("only 249 of 300 items"), std::string::npos) << err;
  EXPECT_NE(err.find("data.eval_negatives"), std::string::npos) << err;
}

TEST(DataTimestamps, OrderIndexIsDetectedAndKept) {
  RawInteractions raw;
  for (int u = 0; u < 3; ++u) {
    for (int k = 0; k < 4; ++k) {
      raw.rows.push_back({raw.users.intern("u" + std::to_string(u)), raw.items.intern("i" + std::to_string(k + u)), k, 0});
    }
  }
  Dataset ds = build(raw, config_for("tsv", ""));
  EXPECT_EQ(ds.time_kind, TimeKind::kOrderIndex);
  raw.rows[1].timestamp = 1600000000;  // no longer 0,1,2,...
  raw.rows[2].timestamp = 1600000001;
  raw.rows[3].timestamp = 1600000002;
  ds = build(raw, config_for("tsv", ""));
  EXPECT_EQ(ds.time_kind, TimeKind::kUnixSeconds);
  for (auto& r : raw.rows) r.timestamp = 1600000000000LL + r.timestamp;  // milliseconds
  ds = build(raw, config_for("tsv", ""));
  EXPECT_EQ(ds.time_kind, TimeKind::kUnixSeconds);
  EXPECT_EQ(ds.user_timestamps(1)[0], 1600000000) << "milliseconds are converted to seconds";
}

}  // namespace
