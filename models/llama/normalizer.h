// The HF `normalizer` of a tokenizer.json, applied to text before
// pre-tokenization: NFC/NFKC/NFD/NFKD (ICU), Prepend, Replace, Lowercase and
// Sequence of those (what the LLaMA-2 and Qwen2 tokenizer.json files use).
//
//   Normalizer norm(json["normalizer"], "tokenizer.json: normalizer");
//   if (!norm.is_identity()) text = norm.apply(text);
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace llmsrec::models::llama {

class Normalizer {
 public:
  // `spec` null = identity. Throws DataError naming `where` for unknown types or bad fields.
  Normalizer(const nlohmann::json& spec, const std::string& where);
  ~Normalizer();
  Normalizer(Normalizer&&) noexcept;

  bool is_identity() const { return steps_.empty(); }
  std::string apply(std::string_view text) const;

 private:
  struct Step;
  std::vector<Step> steps_;
};

}  // namespace llmsrec::models::llama
