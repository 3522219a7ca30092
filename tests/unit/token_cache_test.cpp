#include <gtest/gtest.h>

#include <thread>

#include "models/llama/bpe_tokenizer.h"
#include "models/llama/token_cache.h"
#include "models/llama/tokenizer.h"

namespace {

namespace llama = llmsrec::models::llama;

TEST(TokenCache, EncodesOnceAndMatchesTheTokenizer) {
  auto tok = llama::parse_bpe_tokenizer(llama::make_tiny_tokenizer_json("the red fox and the blue fox", 20), "tiny");
  llama::TokenCache cache(*tok, /*add_bos=*/true);
  const auto& a = cache.encode("the fox");
  EXPECT_EQ(a, tok->encode("the fox", true));
  const auto& b = cache.encode("the fox");
  EXPECT_EQ(&a, &b);  // same stored vector, not a re-encode
  EXPECT_EQ(cache.hits(), 1);
  EXPECT_EQ(cache.misses(), 1);
  for (int i = 0; i < 1000; ++i) cache.encode("title " + std::to_string(i));  // rehashes
  EXPECT_EQ(&cache.encode("the fox"), &a);
  EXPECT_EQ(cache.size(), 1001u);
}

TEST(TokenCache, ConcurrentReadersAgree) {
  auto tok = llama::parse_bpe_tokenizer(llama::make_tiny_tokenizer_json("red blue green", 10), "tiny");
  llama::TokenCache cache(*tok);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string text = "item " + std::to_string(i % 300) + " red";
        if (cache.encode(text) != tok->encode(text, false)) ++mismatches[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
  EXPECT_EQ(cache.size(), 300u);
  EXPECT_EQ(cache.hits() + cache.misses(), 8000);
  EXPECT_EQ(cache.misses(), 300);
}

}  // namespace
