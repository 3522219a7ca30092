// Canonical TSV: interactions.tsv ("user_id<TAB>item_id[<TAB>timestamp]"
// header, then one interaction per line) and optional items.tsv
// ("item_id<TAB>title" header). The layout of ../shared/data/*.
#include <fmt/format.h>

#include "core/error.h"
#include "core/log.h"
#include "data/line_reader.h"
#include "data/readers.h"
#include "data/text.h"

namespace llmsrec::data {

namespace {

constexpr const char* kInteractionsHeader = "'user_id<TAB>item_id<TAB>timestamp' (timestamp optional)";

bool check_id(std::string_view id, const char* what, const LineReader& in, BadLines& bad) {
  if (id.empty()) {
    bad.report(in, fmt::format("empty {}", what));
    return false;
  }
  if (!is_valid_utf8(id)) {
    bad.report(in, fmt::format("{} {} is not valid UTF-8", what, excerpt(id)));
    return false;
  }
  return true;
}

void read_interactions(const std::string& path, BadLines& bad, RawInteractions& raw, core::ProgressReporter* progress) {
  LineReader in(path, progress);
  std::string_view line;
  std::vector<std::string_view> cols;
  if (!in.next(line)) throw DataError(fmt::format("{}: empty file, expected the header {}", path, kInteractionsHeader));
  split(line, '\t', cols);
  const bool header_ok = (cols.size() == 2 || cols.size() == 3) && cols[0] == "user_id" && cols[1] == "item_id" &&
                         (cols.size() == 2 || cols[2] == "timestamp");
  if (!header_ok) {
    throw DataError(fmt::format("{}: expected the header {}, found {}", in.where(), kInteractionsHeader, excerpt(line)));
  }
  const size_t ncols = cols.size();
  raw.time_unit = ncols == 3 ? TimeUnit::kUnknown : TimeUnit::kNone;
  while (in.next(line)) {
    if (line.empty()) continue;
    split(line, '\t', cols);
    if (cols.size() != ncols) {
      bad.report(in, fmt::format("expected {} tab-separated columns (as in the header), found {}: {}", ncols,
                                 cols.size(), excerpt(line)));
      continue;
    }
    if (!check_id(cols[0], "user_id", in, bad) || !check_id(cols[1], "item_id", in, bad)) continue;
    int64_t ts = static_cast<int64_t>(raw.rows.size());
    if (ncols == 3 && !parse_int64(cols[2], ts)) {
      bad.report(in, fmt::format("timestamp {} is not an integer", excerpt(cols[2])));
      continue;
    }
    raw.rows.push_back({raw.users.intern(cols[0]), raw.items.intern(cols[1]), ts, kSplitNone});
  }
  if (raw.rows.empty()) throw DataError(fmt::format("{}: no interactions after the header", path));
  raw.sources.push_back(in.source());
}

void read_titles(const std::string& path, BadLines& bad, RawInteractions& raw, core::ProgressReporter* progress) {
  LineReader in(path, progress);
  std::string_view line;
  if (!in.next(line)) throw DataError(fmt::format("{}: empty file, expected the header 'item_id<TAB>title'", path));
  if (line != "item_id\ttitle") {
    throw DataError(fmt::format("{}: expected the header 'item_id<TAB>title', found {}", in.where(), excerpt(line)));
  }
  int64_t unknown = 0;
  while (in.next(line)) {
    if (line.empty()) continue;
    size_t tab = line.find('\t');
    if (tab == std::string_view::npos || line.find('\t', tab + 1) != std::string_view::npos) {
      bad.report(in, fmt::format("expected 2 tab-separated columns (item_id, title): {}", excerpt(line)));
      continue;
    }
    std::string_view id = line.substr(0, tab), title = line.substr(tab + 1);
    if (!check_id(id, "item_id", in, bad)) continue;
    if (!is_valid_utf8(title)) {
      bad.report(in, fmt::format("title {} is not valid UTF-8", excerpt(title)));
      continue;
    }
    int32_t item = raw.items.find(id);
    if (item < 0) {
      ++unknown;
      continue;
    }
    raw.set_title(item, std::string(trim(title)));
  }
  if (unknown > 0) LOG_INFO("{}: {} items have a title but no interaction (ignored)", path, unknown);
  raw.sources.push_back(in.source());
}

}  // namespace

RawInteractions read_tsv(const DataConfig& cfg, core::ProgressReporter* progress) {
  RawInteractions raw;
  BadLines bad(cfg.skip_bad_lines);
  read_interactions(input_file(cfg, cfg.interactions_file, "interactions.tsv", "interactions_file"), bad, raw, progress);
  std::string items = input_file(cfg, cfg.items_file, "items.tsv", "items_file", /*optional=*/true);
  if (items.empty()) LOG_INFO("{}: no items.tsv: every item gets the title 'Empty title'", cfg.path);
  else read_titles(items, bad, raw, progress);
  raw.skipped_lines = bad.skipped();
  return raw;
}

}  // namespace llmsrec::data
