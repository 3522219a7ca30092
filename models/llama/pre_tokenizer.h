// The HF `pre_tokenizer` of a tokenizer.json: splits text into the words BPE
// runs on. Supports Split (Regex or String pattern, every behavior, invert),
// ByteLevel (with or without its GPT-2 regex), Digits and Sequence of those.
// Regexes are compiled with PCRE2 (UTF + UCP, so \p{L} and \s are Unicode
// aware, JIT when available). Invalid UTF-8 in the text never matches the
// regex and comes out as its own word (PCRE2_MATCH_INVALID_UTF), so byte-level
// BPE still round-trips arbitrary bytes.
//
//   PreTokenizer pre(json["pre_tokenizer"], "tokenizer.json: pre_tokenizer");
//   std::vector<std::string_view> words;
//   pre.split("Hello world!", words);  // "Hello", " world", "!"
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace llmsrec::models::llama {

// A compiled PCRE2 pattern (move-only RAII over pcre2_code).
class Regex {
 public:
  // Throws DataError naming `where` when the pattern does not compile.
  Regex(const std::string& pattern, const std::string& where);
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Appends [begin, end) of every non-overlapping, non-empty match in `text`.
  void find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& matches) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The GPT-2 pattern ByteLevel uses when use_regex is true.
extern const char* const kGpt2SplitRegex;
// The Llama-3 (tiktoken cl100k-like) split pattern.
extern const char* const kLlama3SplitRegex;

class PreTokenizer {
 public:
  // `spec` is the pre_tokenizer JSON value (null = no splitting). Throws DataError
  // naming `where` for unknown types, bad fields or a pattern that does not compile.
  PreTokenizer(const nlohmann::json& spec, const std::string& where);
  ~PreTokenizer();
  PreTokenizer(PreTokenizer&&) noexcept;

  // Appends the words of `text` (views into `text`) to `words`.
  void split(std::string_view text, std::vector<std::string_view>& words) const;

  bool byte_level() const { return byte_level_; }  // a ByteLevel step is present
  bool add_prefix_space() const { return add_prefix_space_; }

 private:
  struct Step;
  std::vector<Step> steps_;
  bool byte_level_ = false;
  bool add_prefix_space_ = false;
};

}  // namespace llmsrec::models::llama
