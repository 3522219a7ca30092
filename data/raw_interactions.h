// The common output of every raw-data reader (and of the synthetic
// generator): interactions in file order with interned string ids, titles,
// and what is known about the timestamp column. prepare() turns it into a
// Dataset (dedupe, sort, k-core, split, negatives).
//
//   RawInteractions raw;
//   int32_t u = raw.users.intern("A2SUAM1J3GNN3B");
//   raw.rows.push_back({u, raw.items.intern("B000JMLBHU"), 1335398400, kSplitNone});
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "data/dataset.h"

namespace llmsrec::data {

// Raw string ids -> dense indices 0..size()-1 in order of first appearance.
class IdTable {
 public:
  int32_t intern(std::string_view s);
  int32_t find(std::string_view s) const;  // -1 when absent
  const std::string& name(int32_t i) const { return names_[static_cast<size_t>(i)]; }
  int32_t size() const { return static_cast<int32_t>(names_.size()); }

 private:
  std::unordered_map<std::string, int32_t> index_;
  std::vector<std::string> names_;
};

// A split given by the source (Amazon-2023 benchmark CSVs); kSplitNone = leave-last-out decides.
enum SplitLabel : uint8_t { kSplitNone = 0, kSplitTrain = 0, kSplitValid = 1, kSplitTest = 2 };

struct RawInteraction {
  int32_t user = 0;
  int32_t item = 0;
  int64_t timestamp = 0;  // in the unit of RawInteractions::time_unit
  uint8_t split = kSplitNone;
};

// What a reader knows about its timestamp column.
enum class TimeUnit {
  kUnknown,       // a column of integers; data.timestamps (auto) decides
  kSeconds,       // unix seconds (MovieLens, synthetic)
  kMilliseconds,  // unix milliseconds (Amazon Reviews 2023)
  kNone,          // no column: file order is the only order
};

struct RawInteractions {
  IdTable users, items;
  std::vector<RawInteraction> rows;  // file order (ties in time keep it)
  std::vector<std::string> titles;   // by item index; shorter than items or "" = missing
  TimeUnit time_unit = TimeUnit::kUnknown;
  bool presplit = false;             // rows carry kSplitTrain/Valid/Test labels to keep
  int64_t skipped_lines = 0;
  std::vector<SourceFile> sources;

  void set_title(int32_t item, std::string title);
  const std::string& title(int32_t item) const;  // "" when missing
};

}  // namespace llmsrec::data
