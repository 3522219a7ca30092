#include "models/llama/token_cache.h"

#include <mutex>

namespace llmsrec::models::llama {

const std::vector<int32_t>& TokenCache::encode(const std::string& text) {
  {
    std::shared_lock lock(mutex_);
    if (auto it = ids_.find(text); it != ids_.end()) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      return it->second;
    }
  }
  // Encode outside the lock; if another thread got there first, its entry wins.
  std::vector<int32_t> ids = tokenizer_.encode(text, add_bos_);
  std::unique_lock lock(mutex_);
  auto [it, inserted] = ids_.try_emplace(text, std::move(ids));
  (inserted ? misses_ : hits_).fetch_add(1, std::memory_order_relaxed);
  return it->second;
}

size_t TokenCache::size() const {
  std::shared_lock lock(mutex_);
  return ids_.size();
}

}  // namespace llmsrec::models::llama
