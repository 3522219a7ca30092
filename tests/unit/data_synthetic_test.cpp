// The synthetic generator's signal: order predicts the next item. A first-order
// transition-count model (prev -> next, counted on train) must beat popularity
// on valid HR@10 with the fixed negatives, and that margin must (nearly) vanish
// once each train sequence is shuffled.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>

#include "core/progress.h"
#include "core/rng.h"
#include "data/prepare.h"
#include "data/synthetic.h"

namespace {

using llmsrec::data::Dataset;

// Train sequences per user (optionally shuffled).
std::vector<std::vector<int32_t>> train_sequences(const Dataset& ds, bool shuffle) {
  std::vector<std::vector<int32_t>> seqs;
  llmsrec::core::Rng rng(12345);
  for (int64_t u = 0; u < ds.num_users(); ++u) {
    auto t = ds.train_items(u);
    std::vector<int32_t> s(t.begin(), t.end());
    if (shuffle) {
      for (int64_t i = static_cast<int64_t>(s.size()) - 1; i > 0; --i) std::swap(s[i], s[rng.uniform(i + 1)]);
    }
    seqs.push_back(std::move(s));
  }
  return seqs;
}

struct HitRates {
  double popularity = 0, transition = 0;
};

// HR@10 on valid: a hit when fewer than 10 of the 99 negatives outscore the target (ties count half).
HitRates valid_hr10(const Dataset& ds, const std::vector<std::vector<int32_t>>& seqs) {
  std::vector<double> pop(ds.num_items() + 1, 0);
  std::map<std::pair<int32_t, int32_t>, double> trans;
  for (const auto& s : seqs) {
    for (size_t i = 0; i < s.size(); ++i) {
      pop[s[i]] += 1;
      if (i > 0) trans[{s[i - 1], s[i]}] += 1;
    }
  }
  auto hit = [](double target, const std::vector<double>& negs) {
    double rank = 0;
    for (double n : negs) rank += n > target ? 1.0 : (n == target ? 0.5 : 0.0);
    return rank < 10 ? 1.0 : 0.0;
  };
  HitRates hr;
  const auto& ev = ds.valid;
  for (size_t r = 0; r < ev.users.size(); ++r) {
    const auto& s = seqs[ev.users[r]];
    const int32_t prev = s.back();
    auto trans_score = [&](int32_t item) {
      auto it = trans.find({prev, item});
      return (it == trans.end() ? 0.0 : it->second) + 1e-6 * pop[item];  // popularity breaks ties
    };
    std::vector<double> np, nt;
    for (int32_t n : ev.negatives_of(static_cast<int64_t>(r))) {
      np.push_back(pop[n]);
      nt.push_back(trans_score(n));
    }
    hr.popularity += hit(pop[ev.targets[r]], np);
    hr.transition += hit(trans_score(ev.targets[r]), nt);
  }
  hr.popularity /= static_cast<double>(ev.users.size());
  hr.transition /= static_cast<double>(ev.users.size());
  return hr;
}

TEST(DataSynthetic, OrderCarriesSignalThatShufflingRemoves) {
  llmsrec::data::DataConfig cfg;  // the demo defaults
  llmsrec::core::NullProgress progress;
  auto raw = llmsrec::data::generate_synthetic(cfg.synthetic, 7);
  Dataset ds = llmsrec::data::build_dataset(raw, cfg, 7, progress);
  ASSERT_GT(ds.valid.users.size(), 1000u);
  HitRates ordered = valid_hr10(ds, train_sequences(ds, false));
  HitRates shuffled = valid_hr10(ds, train_sequences(ds, true));
  std::printf("valid HR@10: popularity %.3f, transition %.3f; shuffled train: popularity %.3f, transition %.3f\n",
              ordered.popularity, ordered.transition, shuffled.popularity, shuffled.transition);
  const double margin = ordered.transition - ordered.popularity;
  const double margin_shuffled = shuffled.transition - shuffled.popularity;
  EXPECT_GT(margin, 0.2) << "the transition baseline should clearly beat popularity";
  EXPECT_LT(margin_shuffled, 0.25 * margin) << "shuffling train order should remove most of the margin";
}

TEST(DataSynthetic, DeterministicAndSeedSensitive) {
  llmsrec::data::SyntheticConfig cfg;
  cfg.users = 50;
  auto a = llmsrec::data::generate_synthetic(cfg, 1);
  auto b = llmsrec::data::generate_synthetic(cfg, 1);
  auto c = llmsrec::data::generate_synthetic(cfg, 2);
  ASSERT_EQ(a.rows.size(), b.rows.size());
  bool differs = a.rows.size() != c.rows.size();
  for (size_t i = 0; i < a.rows.size(); ++i) {
    EXPECT_EQ(a.rows[i].item, b.rows[i].item);
    EXPECT_EQ(a.rows[i].timestamp, b.rows[i].timestamp);
    if (i < c.rows.size() && a.rows[i].item != c.rows[i].item) differs = true;
  }
  EXPECT_TRUE(differs);
  // Titles name their topic; timestamps are plausible unix seconds and increase per user.
  EXPECT_NE(a.title(0).find("Astronomy"), std::string::npos) << a.title(0);
  for (size_t i = 1; i < a.rows.size(); ++i) {
    EXPECT_GE(a.rows[i].timestamp, cfg.start_time_s);
    if (a.rows[i].user == a.rows[i - 1].user) EXPECT_GT(a.rows[i].timestamp, a.rows[i - 1].timestamp);
  }
}

}  // namespace
