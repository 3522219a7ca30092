// HF tokenizer.json with a BPE model: the byte-level BPE of the LLaMA-3 /
// Qwen2 / GPT-2 family, and the SentencePiece-style BPE (▁ normalizer, byte
// fallback) of the LLaMA-2 tokenizer.json files.
//
// Encode = split the text on added/special tokens (longest match first), then
// per remaining segment: normalizer -> pre_tokenizer (PCRE2 regex) ->
// byte-level mapping -> BPE merges by rank (heap + linked list, O(n log n)
// per word, words memoized). The BOS comes from the post_processor
// (TemplateProcessing), else from tokenizer_config.json's bos_token unless its
// add_bos_token is false. Decode keeps added tokens verbatim (HF's
// skip_special_tokens=false) and runs the decoder on the rest.
//
//   auto tok = load_bpe_tokenizer("Llama-3.2-3B/tokenizer.json");
//   auto ids = tok->encode("<|begin_of_text|>Hi", false);  // {128000, 13347}
#pragma once

#include <memory>
#include <string>

#include "models/llama/tokenizer.h"

namespace llmsrec::models::llama {

// `json_text` is tokenizer.json's content, `config_text` tokenizer_config.json's
// (empty = none); `source` names the file in errors. Throws DataError saying what
// is wrong (bad JSON, missing model, unknown merge token, wrong types, ...).
std::unique_ptr<Tokenizer> parse_bpe_tokenizer(const std::string& json_text, const std::string& source,
                                               const std::string& config_text = "");

// Reads `path` and, when present, tokenizer_config.json next to it.
std::unique_ptr<Tokenizer> load_bpe_tokenizer(const std::string& path);

}  // namespace llmsrec::models::llama
