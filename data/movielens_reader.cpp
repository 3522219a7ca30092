// MovieLens: ml-100k (u.data: user<TAB>item<TAB>rating<TAB>unix seconds;
// u.item: id|title|release date|...) or ml-1m (ratings.dat:
// UserID::MovieID::Rating::Timestamp; movies.dat: MovieID::Title::Genres).
// GroupLens ships the item files in Latin-1: titles are converted to UTF-8.
#include <fmt/format.h>

#include "core/error.h"
#include "data/line_reader.h"
#include "data/readers.h"
#include "data/text.h"

namespace llmsrec::data {

namespace {

bool is_dat(const std::string& path) { return path.size() >= 4 && path.compare(path.size() - 4, 4, ".dat") == 0; }

// ml-1m .dat files separate fields with "::", ml-100k files with `sep`.
void split_fields(std::string_view line, bool dat, char sep, std::vector<std::string_view>& cols) {
  if (dat) split(line, std::string_view("::"), cols);
  else split(line, sep, cols);
}

void read_ratings(const std::string& path, BadLines& bad, RawInteractions& raw, core::ProgressReporter* progress) {
  LineReader in(path, progress);
  const bool dat = is_dat(path);
  const char* layout = dat ? "UserID::MovieID::Rating::Timestamp" : "user<TAB>item<TAB>rating<TAB>timestamp";
  std::string_view line;
  std::vector<std::string_view> cols;
  while (in.next(line)) {
    if (line.empty()) continue;
    split_fields(line, dat, '\t', cols);
    if (cols.size() != 4) {
      bad.report(in, fmt::format("expected 4 fields {}, found {}: {}", layout, cols.size(), excerpt(line)));
      continue;
    }
    int64_t user = 0, item = 0, ts = 0;
    if (!parse_int64(cols[0], user) || !parse_int64(cols[1], item)) {
      bad.report(in, fmt::format("expected integer user and item ids ({}), found {}", layout, excerpt(line)));
      continue;
    }
    if (!parse_int64(cols[3], ts)) {
      bad.report(in, fmt::format("timestamp {} is not an integer (unix seconds)", excerpt(cols[3])));
      continue;
    }
    raw.rows.push_back({raw.users.intern(cols[0]), raw.items.intern(cols[1]), ts, kSplitNone});
  }
  if (in.line_number() == 0) throw DataError(fmt::format("{}: empty file, expected lines {}", path, layout));
  raw.sources.push_back(in.source());
}

void read_movies(const std::string& path, BadLines& bad, RawInteractions& raw) {
  LineReader in(path);
  const bool dat = is_dat(path);
  std::string_view line;
  std::vector<std::string_view> cols;
  while (in.next(line)) {
    if (line.empty()) continue;
    split_fields(line, dat, '|', cols);
    if (cols.size() < 2 || (dat && cols.size() != 3)) {
      bad.report(in, fmt::format("expected {}, found {} fields: {}",
                                 dat ? "3 fields MovieID::Title::Genres" : "at least 2 fields id|title|...",
                                 cols.size(), excerpt(line)));
      continue;
    }
    int32_t item = raw.items.find(cols[0]);
    if (item >= 0) raw.set_title(item, latin1_to_utf8(trim(cols[1])));
  }
  raw.sources.push_back(in.source());
}

}  // namespace

RawInteractions read_movielens(const DataConfig& cfg, core::ProgressReporter* progress) {
  RawInteractions raw;
  raw.time_unit = TimeUnit::kSeconds;
  BadLines bad(cfg.skip_bad_lines);
  // ml-100k names unless the directory holds ml-1m's ratings.dat.
  std::string ratings = cfg.interactions_file;
  if (ratings.empty()) {
    ratings = input_file(cfg, "", "u.data", "interactions_file", true).empty() ? "ratings.dat" : "u.data";
  }
  const std::string ratings_path = input_file(cfg, ratings, ratings, "interactions_file");
  read_ratings(ratings_path, bad, raw, progress);
  std::string movies = cfg.items_file.empty() ? (is_dat(ratings_path) ? "movies.dat" : "u.item") : cfg.items_file;
  read_movies(input_file(cfg, movies, movies, "items_file"), bad, raw);
  raw.skipped_lines = bad.skipped();
  return raw;
}

}  // namespace llmsrec::data
