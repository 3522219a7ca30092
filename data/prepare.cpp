#include "data/prepare.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include <fmt/format.h>

#include "core/error.h"
#include "core/log.h"
#include "core/run_section.h"
#include "data/k_core.h"
#include "data/negatives.h"
#include "data/readers.h"
#include "data/sequences.h"
#include "data/split.h"
#include "data/synthetic.h"
#include "data/text.h"

namespace llmsrec::data {

namespace {

constexpr const char* kEmptyTitle = "Empty title";

// Item ids: when the kept raw item ids are exactly the integers 1..I (as in
// SASRec's preprocessed files) they are used unchanged, so results map back
// trivially; otherwise items are numbered in order of first appearance walking
// the users' sequences. Returns raw item index -> id (0 = not kept).
std::vector<int32_t> item_ids(const RawInteractions& raw, const Sequences& seq) {
  std::vector<int32_t> id(static_cast<size_t>(raw.items.size()), 0);
  int32_t next = 0;
  for (int32_t r : seq.items) {
    if (id[r] == 0) id[r] = ++next;
  }
  std::vector<int32_t> numeric(id.size(), 0);
  std::vector<uint8_t> taken(static_cast<size_t>(next) + 1, 0);
  for (int32_t r = 0; r < raw.items.size(); ++r) {
    if (id[r] == 0) continue;
    int64_t v = 0;
    if (!parse_int64(raw.items.name(r), v) || v < 1 || v > next || taken[v] ||
        std::to_string(v) != raw.items.name(r)) {
      return id;  // not 1..I written canonically: first appearance
    }
    taken[v] = 1;
    numeric[r] = static_cast<int32_t>(v);
  }
  return numeric;
}

// Users keep their order of first appearance (emptied ones are dropped).
void assign_ids(const RawInteractions& raw, const Sequences& seq, TimeInterpretation time, Dataset& ds) {
  const std::vector<int32_t> item_id = item_ids(raw, seq);
  int32_t num_items = 0;
  for (int32_t v : item_id) num_items = std::max(num_items, v);
  ds.item_raw_ids.assign(static_cast<size_t>(num_items) + 1, "");
  ds.item_titles.assign(static_cast<size_t>(num_items) + 1, "");
  for (int32_t r = 0; r < raw.items.size(); ++r) {
    if (item_id[r] == 0) continue;
    ds.item_raw_ids[item_id[r]] = raw.items.name(r);
    const std::string& t = raw.title(r);
    if (t.empty()) ++ds.empty_titles;
    ds.item_titles[item_id[r]] = t.empty() ? kEmptyTitle : t;
  }
  ds.offsets = {0};
  for (int64_t u = 0; u < seq.num_users(); ++u) {
    const int64_t b = seq.offsets[u], e = seq.offsets[u + 1];
    if (b == e) continue;
    ds.user_raw_ids.push_back(raw.users.name(static_cast<int32_t>(u)));
    for (int64_t k = b; k < e; ++k) {
      ds.items.push_back(item_id[seq.items[k]]);
      ds.timestamps.push_back(time.kind == TimeKind::kOrderIndex ? k - b : seq.timestamps[k] / time.divisor);
    }
    ds.offsets.push_back(static_cast<int64_t>(ds.items.size()));
  }
}

}  // namespace

Dataset build_dataset(const RawInteractions& raw, const DataConfig& cfg, uint64_t seed,
                      core::ProgressReporter& progress, PrepareStats* stats_out) {
  PrepareStats stats;
  stats.raw_interactions = static_cast<int64_t>(raw.rows.size());
  if (raw.rows.empty()) throw DataError("no interactions in the input");
  TimeInterpretation time = interpret_timestamps(raw, cfg.timestamps);
  stats.time_reason = time.reason;

  Sequences seq = build_sequences(raw);
  stats.duplicates = seq.duplicates;
  LOG_INFO("sorted {} users' sequences, dropped {} duplicate (user, item) pairs", seq.num_users(), seq.duplicates);

  if (cfg.k_core > 1) {
    KCoreStats kc;
    auto keep = k_core_mask(seq.offsets, seq.items, raw.items.size(), cfg.k_core, &kc);
    seq = filter_sequences(seq, keep);
    LOG_INFO("{}-core: {} rounds removed {} users, {} items, {} interactions", cfg.k_core, kc.rounds,
             kc.removed_users, kc.removed_items, kc.removed_interactions);
    stats.k_core_rounds = kc.rounds;
    stats.k_core_removed_users = kc.removed_users;
    stats.k_core_removed_items = kc.removed_items;
    stats.k_core_removed_interactions = kc.removed_interactions;
    if (seq.items.empty()) {
      throw DataError(fmt::format("the {}-core filter removed every interaction ({} read): lower data.k_core",
                                  cfg.k_core, stats.raw_interactions));
    }
  }

  Dataset ds;
  ds.time_kind = time.kind;
  ds.seed = seed;
  ds.skipped_lines = raw.skipped_lines;
  ds.sources = raw.sources;
  assign_ids(raw, seq, time, ds);
  if (raw.presplit) {
    // seq.split lines up with ds.items: assign_ids walks the same entries and
    // emptied users contribute none.
    split_from_labels(ds.offsets, seq.split, ds.train_end, ds.valid_end);
  } else {
    leave_last_out(ds.offsets, ds.train_end, ds.valid_end);
  }

  progress.start("eval negatives", 2, "splits");
  ds.valid = sample_eval_candidates(ds, EvalSplit::kValid, cfg.eval_negatives, seed);
  progress.advance(1);
  ds.test = sample_eval_candidates(ds, EvalSplit::kTest, cfg.eval_negatives, seed);
  progress.advance(1);
  progress.finish();
  if (stats_out) *stats_out = stats;
  return ds;
}

RawInteractions read_raw(const DataConfig& cfg, uint64_t seed, core::ProgressReporter* progress) {
  if (cfg.format == "tsv") return read_tsv(cfg, progress);
  if (cfg.format == "amazon2023_jsonl") return read_amazon2023_jsonl(cfg, progress);
  if (cfg.format == "amazon2023_csv") return read_amazon2023_csv(cfg, progress);
  if (cfg.format == "movielens") return read_movielens(cfg, progress);
  if (cfg.format == "synthetic") return generate_synthetic(cfg.synthetic, seed);
  throw ConfigError(fmt::format("config key 'data.format': unknown format '{}'", cfg.format));
}

uint64_t data_seed(const DataConfig& data, const core::RunSection& run) {
  return static_cast<uint64_t>(data.seed >= 0 ? data.seed : run.seed);
}

PrepareResult prepare(const DataConfig& dc, const core::RunSection& run, core::ProgressReporter& progress) {
  auto t0 = std::chrono::steady_clock::now();
  const uint64_t seed = data_seed(dc, run);
  PrepareResult r;
  r.output = run.output_path(dc.output);

  LOG_INFO("prepare: reading {} data from '{}'", dc.format, dc.format == "synthetic" ? "(generated)" : dc.path);
  RawInteractions raw = read_raw(dc, seed, &progress);
  LOG_INFO("read {} interactions ({} users, {} items, {} bad lines skipped)", raw.rows.size(), raw.users.size(),
           raw.items.size(), raw.skipped_lines);
  r.dataset = build_dataset(raw, dc, seed, progress, &r.stats);
  Dataset& ds = r.dataset;
  ds.resolved_config = run.resolved_yaml;
  ds.name = !dc.name.empty()         ? dc.name
            : dc.format == "synthetic" ? std::string("synthetic")
                                       : std::filesystem::path(dc.path).lexically_normal().filename().string();
  if (ds.name.empty()) ds.name = std::filesystem::path(dc.path).parent_path().filename().string();
  LOG_INFO("timestamps: {} ({})", time_kind_name(ds.time_kind), r.stats.time_reason);
  save_dataset(ds, r.output);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  LOG_INFO("wrote {} ({} users, {} items, {} interactions) in {:.2f}s", r.output, ds.num_users(), ds.num_items(),
           ds.num_interactions(), r.seconds);
  return r;
}

nlohmann::json prepare_summary(const PrepareResult& r) {
  const Dataset& ds = r.dataset;
  return {
      {"output", r.output},
      {"name", ds.name},
      {"users", ds.num_users()},
      {"items", ds.num_items()},
      {"interactions", ds.num_interactions()},
      {"train_interactions", ds.num_train_interactions()},
      {"valid_users", static_cast<int64_t>(ds.valid.users.size())},
      {"test_users", static_cast<int64_t>(ds.test.users.size())},
      {"eval_negatives", ds.valid.num_negatives},
      {"time_kind", time_kind_name(ds.time_kind)},
      {"empty_titles", ds.empty_titles},
      {"skipped_lines", ds.skipped_lines},
      {"raw_interactions", r.stats.raw_interactions},
      {"duplicates_removed", r.stats.duplicates},
      {"k_core_rounds", r.stats.k_core_rounds},
      {"k_core_removed_users", r.stats.k_core_removed_users},
      {"k_core_removed_items", r.stats.k_core_removed_items},
      {"seed", ds.seed},
      {"seconds", r.seconds},
  };
}

}  // namespace llmsrec::data
