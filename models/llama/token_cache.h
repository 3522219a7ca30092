// Encode-once memo for texts that recur (item titles appear in every prompt
// that mentions the item): the first encode of a text runs the tokenizer,
// later ones return the stored ids. Thread-safe; lookups of cached texts take
// only a shared lock, so readers never block each other.
//
//   TokenCache titles(*tokenizer);                  // no BOS: titles sit mid-prompt
//   const std::vector<int32_t>& ids = titles.encode(item.title);
#pragma once

#include <atomic>
#include <cstdint>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/llama/tokenizer.h"

namespace llmsrec::models::llama {

class TokenCache {
 public:
  // `tokenizer` must outlive the cache.
  explicit TokenCache(const Tokenizer& tokenizer, bool add_bos = false) : tokenizer_(tokenizer), add_bos_(add_bos) {}

  // The ids of `text`; the reference stays valid for the cache's lifetime.
  const std::vector<int32_t>& encode(const std::string& text);

  size_t size() const;
  int64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  int64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  const Tokenizer& tokenizer_;
  const bool add_bos_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::vector<int32_t>> ids_;  // node-based: references survive rehashing
  std::atomic<int64_t> hits_{0}, misses_{0};
};

}  // namespace llmsrec::models::llama
