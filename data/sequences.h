// Raw interactions -> per-user chronological sequences (CSR over the raw
// interned ids): grouped by user in order of first appearance, stably sorted
// by (source split label, timestamp) so ties keep file order, and deduplicated
// per (user, item) keeping the earliest interaction.
//
//   data::Sequences seq = data::build_sequences(raw);
//   for (int64_t k = seq.offsets[u]; k < seq.offsets[u + 1]; ++k) use(seq.items[k]);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/raw_interactions.h"

namespace llmsrec::data {

struct Sequences {
  std::vector<int64_t> offsets;     // [raw users + 1]
  std::vector<int32_t> items;       // raw interned item index
  std::vector<int64_t> timestamps;  // as read (unit: RawInteractions::time_unit)
  std::vector<uint8_t> split;       // SplitLabel per entry (all kSplitNone unless presplit)
  int64_t duplicates = 0;           // (user, item) repeats dropped
  int64_t num_users() const { return static_cast<int64_t>(offsets.size()) - 1; }
};

Sequences build_sequences(const RawInteractions& raw);

// Keeps the entries with keep[k] != 0 (users may become empty).
Sequences filter_sequences(const Sequences& seq, const std::vector<uint8_t>& keep);

// How to read the timestamp column: the kind stored in dataset.h5 and the
// divisor that turns the column into unix seconds (1 or 1000; unused for order).
struct TimeInterpretation {
  TimeKind kind = TimeKind::kOrderIndex;
  int64_t divisor = 1;
  std::string reason;  // for the log: why auto chose this
};
// `setting` is data.timestamps (auto | unix_s | unix_ms | order). auto: the
// reader's unit when it knows it; otherwise an order index when every user's
// values are 0, 1, 2, ... in file order, milliseconds when values reach 1e11
// (year 5138 in seconds), else seconds.
TimeInterpretation interpret_timestamps(const RawInteractions& raw, const std::string& setting);

}  // namespace llmsrec::data
