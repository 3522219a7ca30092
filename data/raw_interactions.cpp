#include "data/raw_interactions.h"

#include <limits>

#include <fmt/format.h>

#include "core/error.h"

namespace llmsrec::data {

int32_t IdTable::intern(std::string_view s) {
  auto [it, inserted] = index_.try_emplace(std::string(s), static_cast<int32_t>(names_.size()));
  if (inserted) {
    if (names_.size() >= static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
      throw DataError("more than 2^31-1 distinct ids: the dataset is too large for 32-bit item ids");
    }
    names_.push_back(it->first);
  }
  return it->second;
}

int32_t IdTable::find(std::string_view s) const {
  auto it = index_.find(std::string(s));
  return it == index_.end() ? -1 : it->second;
}

void RawInteractions::set_title(int32_t item, std::string title) {
  if (titles.size() <= static_cast<size_t>(item)) titles.resize(static_cast<size_t>(item) + 1);
  titles[static_cast<size_t>(item)] = std::move(title);
}

const std::string& RawInteractions::title(int32_t item) const {
  static const std::string kNone;
  return static_cast<size_t>(item) < titles.size() ? titles[static_cast<size_t>(item)] : kNone;
}

}  // namespace llmsrec::data
