// make_tiny_tokenizer_json: plain BPE training (most frequent adjacent pair,
// smallest ids on ties, so the result depends only on the corpus) over the
// words the Llama-3 split regex cuts from the corpus, written as a LLaMA-3
// layout tokenizer.json.
#include <map>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/llama/byte_level.h"
#include "models/llama/pre_tokenizer.h"
#include "models/llama/tokenizer.h"

namespace llmsrec::models::llama {

namespace {

using nlohmann::json;

constexpr const char* kBos = "<|begin_of_text|>";
constexpr const char* kEos = "<|end_of_text|>";

json llama3_pre_tokenizer() {
  return {{"type", "Sequence"},
          {"pretokenizers",
           json::array({{{"type", "Split"},
                         {"pattern", {{"Regex", kLlama3SplitRegex}}},
                         {"behavior", "Isolated"},
                         {"invert", false}},
                        {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}})}};
}

json added_token(int64_t id, const char* content) {
  return {{"id", id},           {"content", content}, {"single_word", false}, {"lstrip", false},
          {"rstrip", false},    {"normalized", false}, {"special", true}};
}

struct Word {
  std::vector<int32_t> symbols;
  int64_t count = 0;
};

}  // namespace

std::string make_tiny_tokenizer_json(const std::string& corpus, int64_t num_merges) {
  if (num_merges < 0) throw ConfigError(fmt::format("make_tiny_tokenizer_json: num_merges must be >= 0, got {}", num_merges));
  const json pre_spec = llama3_pre_tokenizer();
  PreTokenizer pre(pre_spec, "tiny tokenizer");
  std::vector<std::string_view> pieces;
  pre.split(corpus, pieces);
  std::map<std::string_view, int64_t> counts;  // ordered: training must not depend on hash order
  for (auto p : pieces) ++counts[p];
  std::vector<Word> words;
  words.reserve(counts.size());
  for (const auto& [w, c] : counts) {
    Word word;
    for (unsigned char b : w) word.symbols.push_back(b);
    word.count = c;
    words.push_back(std::move(word));
  }

  std::vector<std::string> token_text(256);  // id -> byte-level spelling
  std::unordered_map<std::string, int32_t> token_id;
  for (int b = 0; b < 256; ++b) {
    token_text[b] = byte_level_table().byte_to_utf8[b];
    token_id[token_text[b]] = b;
  }
  json merges = json::array();
  int64_t learned = 0;
  while (learned < num_merges) {
    std::unordered_map<uint64_t, int64_t> pair_counts;
    for (const Word& w : words) {
      for (size_t i = 0; i + 1 < w.symbols.size(); ++i) {
        pair_counts[(static_cast<uint64_t>(w.symbols[i]) << 32) | static_cast<uint32_t>(w.symbols[i + 1])] += w.count;
      }
    }
    uint64_t best = 0;
    int64_t best_count = 0;
    for (const auto& [pair, c] : pair_counts) {
      if (c > best_count || (c == best_count && pair < best)) {
        best = pair;
        best_count = c;
      }
    }
    if (best_count == 0) break;  // every word is a single token: nothing left to learn
    const auto left = static_cast<int32_t>(best >> 32), right = static_cast<int32_t>(best & 0xFFFFFFFFu);
    std::string text = token_text[left] + token_text[right];
    int32_t merged;
    if (auto it = token_id.find(text); it != token_id.end()) {
      merged = it->second;  // another pair already spells this token: add the rule, not a token
    } else {
      merged = static_cast<int32_t>(token_text.size());
      token_text.push_back(text);
      token_id.emplace(text, merged);
      ++learned;
    }
    merges.push_back(json::array({token_text[left], token_text[right]}));
    for (Word& w : words) {
      size_t out = 0;
      for (size_t i = 0; i < w.symbols.size(); ++i) {
        if (i + 1 < w.symbols.size() && w.symbols[i] == left && w.symbols[i + 1] == right) {
          w.symbols[out++] = merged;
          ++i;
        } else {
          w.symbols[out++] = w.symbols[i];
        }
      }
      w.symbols.resize(out);
    }
  }

  json vocab = json::object();
  for (size_t id = 0; id < token_text.size(); ++id) vocab[token_text[id]] = id;
  const int64_t bos = static_cast<int64_t>(token_text.size()), eos = bos + 1;
  json special_tokens = {{kBos, {{"id", kBos}, {"ids", {bos}}, {"tokens", {kBos}}}}};
  json root = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", json::array({added_token(bos, kBos), added_token(eos, kEos)})},
      {"normalizer", nullptr},
      {"pre_tokenizer", pre_spec},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", json::array({{{"SpecialToken", {{"id", kBos}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
        {"pair", json::array({{{"SpecialToken", {{"id", kBos}, {"type_id", 0}}}},
                              {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                              {{"SpecialToken", {{"id", kBos}, {"type_id", 1}}}},
                              {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}})},
        {"special_tokens", special_tokens}}},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr},
        {"fuse_unk", false},
        {"byte_fallback", false},
        {"ignore_merges", true},
        {"vocab", vocab},
        {"merges", merges}}}};
  return root.dump(1);
}

}  // namespace llmsrec::models::llama
