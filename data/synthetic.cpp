#include "data/synthetic.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "core/rng.h"

namespace llmsrec::data {

namespace {

struct TopicWords {
  const char* name;
  const char* words[4];
};

// Topic names and four words each: titles combine them, so items of one topic read alike.
constexpr TopicWords kTopics[40] = {
    {"Astronomy", {"star charts", "telescopes", "nebulae", "planets"}},
    {"Baking", {"sourdough", "pastry", "bread ovens", "cakes"}},
    {"Chess", {"openings", "endgames", "tactics", "grandmasters"}},
    {"Gardening", {"roses", "compost", "vegetable beds", "pruning"}},
    {"Jazz", {"saxophone", "bebop", "big bands", "improvisation"}},
    {"Hiking", {"trail maps", "mountain passes", "backpacks", "campsites"}},
    {"Photography", {"lenses", "portraits", "darkrooms", "light"}},
    {"Woodworking", {"chisels", "joinery", "oak furniture", "lathes"}},
    {"Cycling", {"road bikes", "gears", "climbs", "touring"}},
    {"Coffee", {"espresso", "roasting", "grinders", "latte art"}},
    {"Knitting", {"wool", "sweaters", "patterns", "needles"}},
    {"Sailing", {"knots", "harbours", "regattas", "navigation"}},
    {"Robotics", {"servos", "sensors", "controllers", "arms"}},
    {"Birdwatching", {"warblers", "binoculars", "migration", "field notes"}},
    {"Pottery", {"glazes", "wheels", "kilns", "stoneware"}},
    {"Mythology", {"heroes", "gods", "epics", "monsters"}},
    {"Origami", {"cranes", "folds", "paper", "modular forms"}},
    {"Fishing", {"fly tying", "rivers", "lures", "trout"}},
    {"Cooking", {"spices", "stews", "knives", "sauces"}},
    {"Geology", {"minerals", "volcanoes", "fossils", "strata"}},
    {"Poetry", {"sonnets", "verse", "haiku", "ballads"}},
    {"Running", {"marathons", "sprints", "shoes", "training plans"}},
    {"Painting", {"watercolour", "oils", "brushes", "landscapes"}},
    {"Climbing", {"ropes", "boulders", "belays", "crags"}},
    {"Beekeeping", {"hives", "honey", "queens", "swarms"}},
    {"Calligraphy", {"inks", "nibs", "scripts", "letterforms"}},
    {"Electronics", {"circuits", "soldering", "oscillators", "amplifiers"}},
    {"Tea", {"oolong", "green tea", "teapots", "ceremonies"}},
    {"Archery", {"bows", "arrows", "targets", "release"}},
    {"Magic", {"card tricks", "illusions", "sleight of hand", "stagecraft"}},
    {"Sewing", {"quilts", "fabrics", "seams", "machines"}},
    {"Cinema", {"noir", "directors", "screenplays", "westerns"}},
    {"Surfing", {"waves", "boards", "reef breaks", "tides"}},
    {"Philosophy", {"ethics", "logic", "stoics", "metaphysics"}},
    {"Aviation", {"gliders", "cockpits", "navigation charts", "airfields"}},
    {"Wine", {"vineyards", "cellars", "tasting", "grapes"}},
    {"Skiing", {"slopes", "powder", "bindings", "alpine resorts"}},
    {"Cartography", {"atlases", "projections", "surveys", "old maps"}},
    {"Genetics", {"genomes", "heredity", "mutations", "sequencing"}},
    {"Opera", {"arias", "sopranos", "librettos", "overtures"}},
};

constexpr const char* kForms[4] = {"guide", "handbook", "collection", "workbook"};

// Index in [0, weights.size()) with probability proportional to weights (cumulative array).
int64_t draw(core::Rng& rng, const std::vector<double>& cumulative) {
  double x = rng.uniform01() * cumulative.back();
  return std::upper_bound(cumulative.begin(), cumulative.end(), x) - cumulative.begin();
}

std::vector<double> zipf_cumulative(int64_t n, double exponent, core::Rng& rng) {
  std::vector<int64_t> rank(static_cast<size_t>(n));
  std::iota(rank.begin(), rank.end(), 0);
  for (int64_t i = n - 1; i > 0; --i) std::swap(rank[i], rank[rng.uniform(static_cast<uint64_t>(i + 1))]);
  std::vector<double> cum(static_cast<size_t>(n));
  double total = 0;
  for (int64_t i = 0; i < n; ++i) cum[i] = total += 1.0 / std::pow(1.0 + rank[i], exponent);
  return cum;
}

}  // namespace

RawInteractions generate_synthetic(const SyntheticConfig& cfg, uint64_t seed) {
  RawInteractions raw;
  raw.time_unit = TimeUnit::kSeconds;
  core::Rng world(core::stream_seed(seed, core::Stream::kSynthetic, 0, 0));
  const int64_t topics = cfg.topics;

  // Items: topic t owns the series first_item[t] .. first_item[t+1]-1, in reading order.
  std::vector<int64_t> first_item(static_cast<size_t>(topics) + 1);
  for (int64_t t = 0; t <= topics; ++t) first_item[t] = t * cfg.items / topics;
  std::vector<int32_t> item_index(static_cast<size_t>(cfg.items));
  for (int64_t t = 0; t < topics; ++t) {
    const TopicWords& tw = kTopics[t];
    for (int64_t i = first_item[t]; i < first_item[t + 1]; ++i) {
      int64_t k = i - first_item[t];
      item_index[i] = raw.items.intern(fmt::format("i{:05d}", i));
      raw.set_title(item_index[i], fmt::format("{} {}: {} and {}, vol. {}", tw.name, kForms[k % 4],
                                               tw.words[k % 4], tw.words[(k / 4 + 1 + k) % 4], k + 1));
    }
  }
  // Topic chain: three distinct successors with probabilities .6/.3/.1.
  std::vector<std::vector<double>> succ_cum(static_cast<size_t>(topics), std::vector<double>(topics, 0.0));
  for (int64_t t = 0; t < topics; ++t) {
    std::vector<double> w(static_cast<size_t>(topics), 0.0);
    const double probs[3] = {0.6, 0.3, 0.1};
    for (double p : probs) {
      if (topics == 1) { w[0] = 1; break; }
      int64_t s;
      do s = static_cast<int64_t>(world.uniform(static_cast<uint64_t>(topics))); while (s == t || w[s] > 0);
      w[s] = p;
      if (topics == 2) break;
    }
    std::partial_sum(w.begin(), w.end(), succ_cum[t].begin());
  }
  const auto topic_pop = zipf_cumulative(topics, 0.8, world);
  const auto item_pop = zipf_cumulative(cfg.items, 1.0, world);

  std::vector<int64_t> next_pos(static_cast<size_t>(topics));
  std::vector<uint8_t> seen(static_cast<size_t>(cfg.items));
  for (int64_t u = 0; u < cfg.users; ++u) {
    core::Rng rng(core::stream_seed(seed, core::Stream::kSynthetic, 1, static_cast<uint64_t>(u)));
    const int32_t user = raw.users.intern(fmt::format("u{:05d}", u));
    const int64_t length = cfg.min_length + static_cast<int64_t>(rng.uniform(
                                                static_cast<uint64_t>(cfg.max_length - cfg.min_length + 1)));
    // Where this user would enter each topic's series: early volumes are likelier.
    for (int64_t t = 0; t < topics; ++t) {
      int64_t n = first_item[t + 1] - first_item[t];
      next_pos[t] = static_cast<int64_t>(rng.uniform(static_cast<uint64_t>(std::max<int64_t>(1, n / 3))));
    }
    std::fill(seen.begin(), seen.end(), 0);
    int64_t topic = draw(rng, topic_pop);
    int64_t ts = cfg.start_time_s + static_cast<int64_t>(rng.uniform(365ull * 86400));
    int64_t produced = 0;
    bool stay = true;  // the first item comes from the start topic
    for (int attempts = 0; produced < length && attempts < 50 * length; ++attempts) {
      double r = rng.uniform01();
      int64_t item = -1;
      if (r < cfg.noise_prob) {
        item = draw(rng, item_pop);
      } else {
        if (!stay) topic = draw(rng, succ_cum[topic]);
        int64_t pos = first_item[topic] + next_pos[topic];
        while (pos < first_item[topic + 1] && seen[pos]) ++pos;
        if (pos >= first_item[topic + 1]) {  // series finished: move on
          stay = false;
          continue;
        }
        item = pos;
        // Usually the next volume, sometimes one is skipped.
        next_pos[topic] = pos - first_item[topic] + (rng.uniform01() < 0.15 ? 2 : 1);
      }
      stay = rng.uniform01() < cfg.stay_prob;
      if (seen[item]) continue;
      seen[item] = 1;
      ts += 60 + static_cast<int64_t>(-std::log(1.0 - rng.uniform01()) * static_cast<double>(cfg.mean_gap_s));
      raw.rows.push_back({user, item_index[item], ts, kSplitNone});
      ++produced;
    }
  }
  return raw;
}

}  // namespace llmsrec::data
