// Raw-data readers, one per input format (data.format). Each returns the
// interactions in file order with their titles; prepare() does the rest.
// `progress` (optional) sees each file's KiB as they are read.
// Errors name file:line and what was expected (DataError), or the config key
// (ConfigError) when a configured file is missing.
//
//   data::RawInteractions raw = data::read_tsv(cfg.data);
#pragma once

#include <string>

#include "core/progress.h"
#include "data/data_config.h"
#include "data/raw_interactions.h"

namespace llmsrec::data {

// interactions.tsv (user_id, item_id[, timestamp], header line) + optional items.tsv (item_id, title).
RawInteractions read_tsv(const DataConfig& cfg, core::ProgressReporter* progress = nullptr);
// Amazon Reviews 2023: reviews *.jsonl[.gz] (user_id, parent_asin, timestamp in ms) + meta_*.jsonl[.gz] (title).
RawInteractions read_amazon2023_jsonl(const DataConfig& cfg, core::ProgressReporter* progress = nullptr);
// Amazon Reviews 2023 benchmark: *train/valid/test.csv[.gz] (user_id,parent_asin,rating,timestamp); split kept.
RawInteractions read_amazon2023_csv(const DataConfig& cfg, core::ProgressReporter* progress = nullptr);
// MovieLens: u.data + u.item (100K) or ratings.dat + movies.dat (1M); Latin-1 titles converted to UTF-8.
RawInteractions read_movielens(const DataConfig& cfg, core::ProgressReporter* progress = nullptr);

// Adds titles from an Amazon-2023 meta_*.jsonl[.gz] file to items already in `raw`
// (other items in the file are ignored). Shared by the JSONL and CSV readers.
void read_amazon2023_meta(const std::string& path, bool skip_bad_lines, RawInteractions& raw,
                          core::ProgressReporter* progress = nullptr);

// File helpers shared by the readers.
// `configured` (relative to cfg.path) when set, else `default_name`; must exist unless `optional`.
// Returns "" when optional and absent.
std::string input_file(const DataConfig& cfg, const std::string& configured, const std::string& default_name,
                       const char* key, bool optional = false);
// The single file in cfg.path whose name matches `pred`; "" when none and `optional`, DataError when several.
std::string find_input_file(const DataConfig& cfg, bool (*pred)(const std::string& name), const char* what,
                            bool optional);

}  // namespace llmsrec::data
