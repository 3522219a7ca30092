// Amazon Reviews 2023 (McAuley lab): the raw review JSONL and the benchmark
// CSV splits, with titles from meta_*.jsonl. Files may be gzip-compressed.
//   reviews:  {"user_id": "...", "parent_asin": "...", "timestamp": 1588687728923, ...}
//   meta:     {"parent_asin": "...", "title": "...", ...}
//   csv:      user_id,parent_asin,rating,timestamp[,history]   (train/valid/test files)
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "core/error.h"
#include "core/log.h"
#include "data/line_reader.h"
#include "data/readers.h"
#include "data/text.h"

namespace llmsrec::data {

namespace {

bool ends_with(const std::string& s, const char* suffix) {
  std::string_view sv(suffix);
  return s.size() >= sv.size() && s.compare(s.size() - sv.size(), sv.size(), sv) == 0;
}
bool is_jsonl(const std::string& n) { return ends_with(n, ".jsonl") || ends_with(n, ".jsonl.gz"); }
bool is_meta_jsonl(const std::string& n) { return n.rfind("meta_", 0) == 0 && is_jsonl(n); }
bool is_review_jsonl(const std::string& n) { return n.rfind("meta_", 0) != 0 && is_jsonl(n); }
bool is_train_csv(const std::string& n) { return ends_with(n, "train.csv") || ends_with(n, "train.csv.gz"); }
bool is_valid_csv(const std::string& n) { return ends_with(n, "valid.csv") || ends_with(n, "valid.csv.gz"); }
bool is_test_csv(const std::string& n) { return ends_with(n, "test.csv") || ends_with(n, "test.csv.gz"); }

// The configured file (relative to data.path) or the single match of `pred`.
std::string pick(const DataConfig& cfg, const std::string& configured, bool (*pred)(const std::string&),
                 const char* what, const char* key, bool optional) {
  if (!configured.empty()) return input_file(cfg, configured, "", key);
  return find_input_file(cfg, pred, what, optional);
}

// A JSON object field as a non-empty string, or nullptr.
const std::string* string_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return nullptr;
  const auto* s = it->get_ptr<const std::string*>();
  return s->empty() ? nullptr : s;
}

// Calls fn(object, line) for every non-blank line that is a JSON object; other lines are bad.
template <typename Fn>
void for_each_json_object(LineReader& in, BadLines& bad, Fn&& fn) {
  std::string_view line;
  nlohmann::json j;
  while (in.next(line)) {
    if (trim(line).empty()) continue;
    j = nlohmann::json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      bad.report(in, fmt::format("expected one JSON object per line (valid UTF-8), found {}", excerpt(line)));
      continue;
    }
    fn(j, line);
  }
}

void read_reviews(const std::string& path, BadLines& bad, RawInteractions& raw, core::ProgressReporter* progress) {
  LineReader in(path, progress);
  for_each_json_object(in, bad, [&](const nlohmann::json& j, std::string_view line) {
    const std::string* user = string_field(j, "user_id");
    const std::string* item = string_field(j, "parent_asin");
    auto ts = j.find("timestamp");
    if (!user || !item || ts == j.end() || !ts->is_number_integer()) {
      bad.report(in, fmt::format("expected non-empty strings \"user_id\", \"parent_asin\" and an integer "
                                 "\"timestamp\" (ms), found {}",
                                 excerpt(line)));
      return;
    }
    raw.rows.push_back({raw.users.intern(*user), raw.items.intern(*item), ts->get<int64_t>(), kSplitNone});
  });
  if (in.line_number() == 0) throw DataError(fmt::format("{}: empty file, expected JSON lines of reviews", path));
  raw.sources.push_back(in.source());
}

void read_split_csv(const std::string& path, uint8_t label, BadLines& bad, RawInteractions& raw,
                    core::ProgressReporter* progress) {
  LineReader in(path, progress);
  std::string_view line;
  std::vector<std::string_view> cols;
  std::vector<std::string> storage;
  constexpr const char* kHeader = "'user_id,parent_asin,rating,timestamp' (column order free, extra columns ignored)";
  if (!in.next(line)) throw DataError(fmt::format("{}: empty file, expected the header {}", path, kHeader));
  split_csv(line, cols, storage);
  int user_col = -1, item_col = -1, ts_col = -1;
  for (size_t c = 0; c < cols.size(); ++c) {
    std::string_view name = trim(cols[c]);
    if (name == "user_id") user_col = static_cast<int>(c);
    else if (name == "parent_asin") item_col = static_cast<int>(c);
    else if (name == "timestamp") ts_col = static_cast<int>(c);
  }
  if (user_col < 0 || item_col < 0 || ts_col < 0) {
    throw DataError(fmt::format("{}: expected the header {}, found {}", in.where(), kHeader, excerpt(line)));
  }
  const size_t ncols = cols.size();
  while (in.next(line)) {
    if (line.empty()) continue;
    split_csv(line, cols, storage);
    if (cols.size() != ncols) {
      bad.report(in, fmt::format("expected {} comma-separated columns (as in the header), found {}: {}", ncols,
                                 cols.size(), excerpt(line)));
      continue;
    }
    std::string_view user = cols[user_col], item = cols[item_col];
    int64_t ts = 0;
    if (user.empty() || item.empty() || !is_valid_utf8(user) || !is_valid_utf8(item)) {
      bad.report(in, fmt::format("expected non-empty UTF-8 user_id and parent_asin, found {}", excerpt(line)));
      continue;
    }
    if (!parse_int64(cols[ts_col], ts)) {
      bad.report(in, fmt::format("timestamp {} is not an integer (ms)", excerpt(cols[ts_col])));
      continue;
    }
    raw.rows.push_back({raw.users.intern(user), raw.items.intern(item), ts, label});
  }
  raw.sources.push_back(in.source());
}

void read_optional_meta(const DataConfig& cfg, RawInteractions& raw, core::ProgressReporter* progress) {
  std::string meta = pick(cfg, cfg.items_file, is_meta_jsonl, "meta_*.jsonl[.gz] file", "items_file", true);
  if (meta.empty()) {
    LOG_WARN("{}: no meta_*.jsonl[.gz]: every item gets the title 'Empty title'", cfg.path);
    return;
  }
  read_amazon2023_meta(meta, cfg.skip_bad_lines, raw, progress);
}

}  // namespace

void read_amazon2023_meta(const std::string& path, bool skip_bad_lines, RawInteractions& raw,
                          core::ProgressReporter* progress) {
  LineReader in(path, progress);
  BadLines bad(skip_bad_lines);
  for_each_json_object(in, bad, [&](const nlohmann::json& j, std::string_view line) {
    const std::string* item = string_field(j, "parent_asin");
    if (!item) {
      bad.report(in, fmt::format("expected a non-empty string \"parent_asin\", found {}", excerpt(line)));
      return;
    }
    int32_t idx = raw.items.find(*item);
    if (idx < 0) return;  // meta files cover the whole category
    const std::string* title = string_field(j, "title");
    if (title) raw.set_title(idx, std::string(trim(*title)));
  });
  raw.skipped_lines += bad.skipped();
  raw.sources.push_back(in.source());
}

RawInteractions read_amazon2023_jsonl(const DataConfig& cfg, core::ProgressReporter* progress) {
  RawInteractions raw;
  raw.time_unit = TimeUnit::kMilliseconds;
  BadLines bad(cfg.skip_bad_lines);
  read_reviews(pick(cfg, cfg.interactions_file, is_review_jsonl, "review *.jsonl[.gz] file (not meta_*)",
                    "interactions_file", false),
               bad, raw, progress);
  raw.skipped_lines = bad.skipped();
  read_optional_meta(cfg, raw, progress);
  return raw;
}

RawInteractions read_amazon2023_csv(const DataConfig& cfg, core::ProgressReporter* progress) {
  RawInteractions raw;
  raw.time_unit = TimeUnit::kMilliseconds;
  raw.presplit = true;
  BadLines bad(cfg.skip_bad_lines);
  read_split_csv(pick(cfg, cfg.train_file, is_train_csv, "*train.csv[.gz] file", "train_file", false), kSplitTrain,
                 bad, raw, progress);
  read_split_csv(pick(cfg, cfg.valid_file, is_valid_csv, "*valid.csv[.gz] file", "valid_file", false), kSplitValid,
                 bad, raw, progress);
  read_split_csv(pick(cfg, cfg.test_file, is_test_csv, "*test.csv[.gz] file", "test_file", false), kSplitTest, bad,
                 raw, progress);
  if (raw.rows.empty()) throw DataError(fmt::format("{}: the train/valid/test CSV files hold no interactions", cfg.path));
  raw.skipped_lines = bad.skipped();
  read_optional_meta(cfg, raw, progress);
  return raw;
}

}  // namespace llmsrec::data
