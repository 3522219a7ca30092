// The prepared dataset (the contents of dataset.h5) in memory.
//
// Ids: users are 0..num_users()-1; items are 1..num_items(), and item id 0 is
// the padding id (SASRec's convention), so arrays indexed by item id have
// num_items()+1 rows and row 0 is a placeholder. Each user's interactions are
// chronological and stored CSR-style; the split is a pair of cut points per
// user: train = [begin, train_end), valid = [train_end, valid_end),
// test = [valid_end, end). Leave-last-out gives one valid and one test item
// (users with fewer than 3 interactions are train-only).
//
//   data::Dataset ds = data::load_dataset("runs/demo/dataset.h5");
//   for (int64_t u = 0; u < ds.num_users(); ++u) {
//     auto train = ds.train_items(u);          // span of item ids
//     ...
//   }
#pragma once

#include "core/span.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llmsrec::data {

// A read-only view of contiguous values (core/span.h).
template <typename T>
using Span = core::Span<T>;

// What the timestamp column means.
enum class TimeKind {
  kUnixSeconds,  // real time: prompts may show dates
  kOrderIndex,   // only an order (0, 1, 2, ...): prompts omit dates
};

// Fixed evaluation candidates for one split: user u = users[r] is scored on
// targets[r] against negatives[r * num_negatives .. + num_negatives).
struct EvalCandidates {
  std::vector<int64_t> users;
  std::vector<int32_t> targets;
  std::vector<int32_t> negatives;  // row-major [users.size(), num_negatives]
  int64_t num_negatives = 0;
  Span<int32_t> negatives_of(int64_t row) const {
    return {negatives.data() + row * num_negatives, num_negatives};
  }
};

// One raw input file, recorded in dataset.h5 so a result can be traced to its source.
struct SourceFile {
  std::string path;    // as given in the config (relative to the working directory)
  int64_t bytes = 0;   // size on disk
  uint32_t crc32 = 0;  // zlib CRC-32 of the (decompressed) content
};

struct Dataset {
  std::vector<std::string> user_raw_ids;  // [U]
  std::vector<std::string> item_raw_ids;  // [I+1]; [0] = "" (padding)
  std::vector<std::string> item_titles;   // [I+1]; [0] = "" (padding); missing titles are "Empty title"
  std::vector<int64_t> offsets;           // [U+1] into items/timestamps
  std::vector<int32_t> items;             // [N] item ids 1..I, chronological per user
  std::vector<int64_t> timestamps;        // [N] unix seconds, or an order index (see time_kind)
  std::vector<int64_t> train_end;         // [U] absolute index into items
  std::vector<int64_t> valid_end;         // [U] absolute index into items
  TimeKind time_kind = TimeKind::kOrderIndex;
  EvalCandidates valid, test;

  // Provenance (also stored as attributes of dataset.h5).
  std::string name;           // e.g. "amazon2018_scientific", "synthetic"
  std::string resolved_config;  // YAML of the run that made it
  uint64_t seed = 0;
  int64_t empty_titles = 0;   // items whose title was missing or empty
  int64_t skipped_lines = 0;  // malformed input lines skipped (data.skip_bad_lines)
  std::vector<SourceFile> sources;  // raw input files (empty for synthetic data)

  int64_t num_users() const { return static_cast<int64_t>(user_raw_ids.size()); }
  int64_t num_items() const { return static_cast<int64_t>(item_raw_ids.size()) - 1; }
  int64_t num_interactions() const { return static_cast<int64_t>(items.size()); }

  Span<int32_t> user_items(int64_t u) const { return {items.data() + offsets[u], offsets[u + 1] - offsets[u]}; }
  Span<int64_t> user_timestamps(int64_t u) const {
    return {timestamps.data() + offsets[u], offsets[u + 1] - offsets[u]};
  }
  Span<int32_t> train_items(int64_t u) const { return {items.data() + offsets[u], train_end[u] - offsets[u]}; }
  Span<int32_t> valid_items(int64_t u) const { return {items.data() + train_end[u], valid_end[u] - train_end[u]}; }
  Span<int32_t> test_items(int64_t u) const { return {items.data() + valid_end[u], offsets[u + 1] - valid_end[u]}; }
  int64_t num_train_interactions() const;
};

const char* time_kind_name(TimeKind k);  // "unix_seconds" | "order_index"

// Checks every invariant documented above (shapes, monotonic offsets, id
// ranges, cut points inside each user's range, eval rows). Throws DataError
// naming `where` and the first violation.
void validate_dataset(const Dataset& ds, const std::string& where);

// Reads and validates dataset.h5 (schema name/version, shapes, id ranges).
// Throws IoError/DataError saying what is wrong and how to fix it.
Dataset load_dataset(const std::string& path);

// Writes dataset.h5 atomically (temp file, fsync, rename). Schema: docs/dataset_h5.md.
void save_dataset(const Dataset& ds, const std::string& path);

}  // namespace llmsrec::data
