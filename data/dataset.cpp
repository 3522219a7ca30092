// Dataset invariants (shared by prepare, which checks before writing, and
// load_dataset, which checks after reading).
#include "data/dataset.h"

#include <fmt/format.h>

#include "core/error.h"

namespace llmsrec::data {

const char* time_kind_name(TimeKind k) { return k == TimeKind::kUnixSeconds ? "unix_seconds" : "order_index"; }

int64_t Dataset::num_train_interactions() const {
  int64_t n = 0;
  for (int64_t u = 0; u < num_users(); ++u) n += train_end[u] - offsets[u];
  return n;
}

namespace {

template <typename... Args>
[[noreturn]] void invalid(const std::string& where, const char* fmt_str, const Args&... args) {
  throw DataError(fmt::format("{}: invalid dataset: {} (re-run `llmsrec prepare` to rebuild it)", where,
                              fmt::format(fmt::runtime(fmt_str), args...)));
}

void validate_eval(const Dataset& ds, const EvalCandidates& ev, const char* split, const std::string& where) {
  const int64_t rows = static_cast<int64_t>(ev.users.size());
  if (static_cast<int64_t>(ev.targets.size()) != rows) {
    invalid(where, "eval/{}: {} users but {} targets", split, rows, ev.targets.size());
  }
  if (ev.num_negatives < 0 || static_cast<int64_t>(ev.negatives.size()) != rows * ev.num_negatives) {
    invalid(where, "eval/{}/negatives: expected {} x {} values, found {}", split, rows, ev.num_negatives,
            ev.negatives.size());
  }
  for (int64_t r = 0; r < rows; ++r) {
    int64_t u = ev.users[r];
    if (u < 0 || u >= ds.num_users()) invalid(where, "eval/{}/users[{}] = {} out of [0, {})", split, r, u, ds.num_users());
    if (r > 0 && u <= ev.users[r - 1]) invalid(where, "eval/{}/users not strictly increasing at row {}", split, r);
    int32_t t = ev.targets[r];
    if (t < 1 || t > ds.num_items()) invalid(where, "eval/{}/targets[{}] = {} out of [1, {}]", split, r, t, ds.num_items());
    for (int32_t n : ev.negatives_of(r)) {
      if (n < 1 || n > ds.num_items()) invalid(where, "eval/{}/negatives row {} holds item {} out of [1, {}]", split, r, n, ds.num_items());
    }
  }
}

}  // namespace

void validate_dataset(const Dataset& ds, const std::string& where) {
  const int64_t users = ds.num_users(), n = ds.num_interactions();
  if (ds.item_raw_ids.empty()) invalid(where, "items/raw_ids is empty (expected the padding row 0)");
  if (ds.item_titles.size() != ds.item_raw_ids.size()) {
    invalid(where, "items/titles has {} rows, items/raw_ids {}", ds.item_titles.size(), ds.item_raw_ids.size());
  }
  if (static_cast<int64_t>(ds.offsets.size()) != users + 1) {
    invalid(where, "sequences/offsets has {} rows, expected users + 1 = {}", ds.offsets.size(), users + 1);
  }
  if (static_cast<int64_t>(ds.timestamps.size()) != n) {
    invalid(where, "sequences/timestamps has {} rows, sequences/items {}", ds.timestamps.size(), n);
  }
  if (static_cast<int64_t>(ds.train_end.size()) != users || static_cast<int64_t>(ds.valid_end.size()) != users) {
    invalid(where, "split/train_end and split/valid_end must have {} rows (one per user)", users);
  }
  if (ds.offsets[0] != 0 || ds.offsets[users] != n) {
    invalid(where, "sequences/offsets must run from 0 to {}, found {} .. {}", n, ds.offsets[0], ds.offsets[users]);
  }
  for (int64_t u = 0; u < users; ++u) {
    const int64_t b = ds.offsets[u], e = ds.offsets[u + 1];
    if (e <= b) invalid(where, "user {} ('{}') has no interactions (offsets {} .. {})", u, ds.user_raw_ids[u], b, e);
    if (!(b <= ds.train_end[u] && ds.train_end[u] <= ds.valid_end[u] && ds.valid_end[u] <= e)) {
      invalid(where, "user {}: cut points must satisfy {} <= train_end {} <= valid_end {} <= {}", u, b,
              ds.train_end[u], ds.valid_end[u], e);
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    if (ds.items[i] < 1 || ds.items[i] > ds.num_items()) {
      invalid(where, "sequences/items[{}] = {} out of [1, {}]", i, ds.items[i], ds.num_items());
    }
  }
  validate_eval(ds, ds.valid, "valid", where);
  validate_eval(ds, ds.test, "test", where);
}

}  // namespace llmsrec::data
