#include "data/sequences.h"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "core/error.h"

namespace llmsrec::data {

Sequences build_sequences(const RawInteractions& raw) {
  const int64_t users = raw.users.size();
  const int64_t n = static_cast<int64_t>(raw.rows.size());
  Sequences seq;
  // Counting sort by user keeps file order inside each user.
  std::vector<int64_t> start(static_cast<size_t>(users) + 1, 0);
  for (const auto& r : raw.rows) ++start[static_cast<size_t>(r.user) + 1];
  for (int64_t u = 0; u < users; ++u) start[u + 1] += start[u];
  std::vector<int64_t> order(static_cast<size_t>(n));
  {
    std::vector<int64_t> pos(start.begin(), start.end() - 1);
    for (int64_t i = 0; i < n; ++i) order[pos[raw.rows[i].user]++] = i;
  }
  seq.offsets.assign(static_cast<size_t>(users) + 1, 0);
  seq.items.reserve(static_cast<size_t>(n));
  seq.timestamps.reserve(static_cast<size_t>(n));
  seq.split.reserve(static_cast<size_t>(n));
  // last_seen[item] = the user that last added it: O(1) dedupe per user without clearing.
  std::vector<int32_t> last_seen(static_cast<size_t>(raw.items.size()), -1);
  for (int64_t u = 0; u < users; ++u) {
    auto b = order.begin() + start[u], e = order.begin() + start[u + 1];
    std::stable_sort(b, e, [&](int64_t x, int64_t y) {
      const auto &rx = raw.rows[x], &ry = raw.rows[y];
      if (rx.split != ry.split) return rx.split < ry.split;
      return rx.timestamp < ry.timestamp;
    });
    for (auto it = b; it != e; ++it) {
      const auto& r = raw.rows[*it];
      if (last_seen[r.item] == u) {
        ++seq.duplicates;
        continue;
      }
      last_seen[r.item] = static_cast<int32_t>(u);
      seq.items.push_back(r.item);
      seq.timestamps.push_back(r.timestamp);
      seq.split.push_back(r.split);
    }
    seq.offsets[u + 1] = static_cast<int64_t>(seq.items.size());
  }
  return seq;
}

Sequences filter_sequences(const Sequences& seq, const std::vector<uint8_t>& keep) {
  Sequences out;
  out.duplicates = seq.duplicates;
  out.offsets.assign(seq.offsets.size(), 0);
  for (int64_t u = 0; u < seq.num_users(); ++u) {
    for (int64_t k = seq.offsets[u]; k < seq.offsets[u + 1]; ++k) {
      if (!keep[k]) continue;
      out.items.push_back(seq.items[k]);
      out.timestamps.push_back(seq.timestamps[k]);
      out.split.push_back(seq.split[k]);
    }
    out.offsets[u + 1] = static_cast<int64_t>(out.items.size());
  }
  return out;
}

TimeInterpretation interpret_timestamps(const RawInteractions& raw, const std::string& setting) {
  if (setting == "order") return {TimeKind::kOrderIndex, 1, "data.timestamps: order"};
  if (setting == "unix_s") return {TimeKind::kUnixSeconds, 1, "data.timestamps: unix_s"};
  if (setting == "unix_ms") return {TimeKind::kUnixSeconds, 1000, "data.timestamps: unix_ms"};
  if (setting != "auto") throw ConfigError(fmt::format("config key 'data.timestamps': unknown value '{}'", setting));
  switch (raw.time_unit) {
    case TimeUnit::kSeconds: return {TimeKind::kUnixSeconds, 1, "the format stores unix seconds"};
    case TimeUnit::kMilliseconds: return {TimeKind::kUnixSeconds, 1000, "the format stores unix milliseconds"};
    case TimeUnit::kNone: return {TimeKind::kOrderIndex, 1, "no timestamp column: file order"};
    case TimeUnit::kUnknown: break;
  }
  std::vector<int64_t> seen(static_cast<size_t>(raw.users.size()), 0);
  bool order = true;
  int64_t max_ts = 0;
  for (const auto& r : raw.rows) {
    if (r.timestamp != seen[r.user]++) order = false;
    max_ts = std::max(max_ts, r.timestamp);
  }
  if (order) return {TimeKind::kOrderIndex, 1, "every user's timestamps are 0, 1, 2, ... (a position index)"};
  if (max_ts >= 100000000000LL) return {TimeKind::kUnixSeconds, 1000, "values reach 1e11: unix milliseconds"};
  return {TimeKind::kUnixSeconds, 1, "integer timestamps below 1e11: unix seconds"};
}

}  // namespace llmsrec::data
