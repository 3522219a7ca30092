// llama2.c's tokenizer.bin: int32 max_token_length, then per token a float32
// score, an int32 byte length and the bytes. Encoding follows llama2.c's
// run.c: optional BOS (id 1), a dummy-prefix " " token when the text is
// non-empty, one token per UTF-8 character (bytes with no piece fall back to
// id byte + 3), then repeatedly the adjacent merge whose result has the best
// score (leftmost on ties). EOS is id 2.
//
//   auto tok = load_llama2c_tokenizer("stories260K/tok512.bin");
//   tok->encode("Once upon a time", true);  // {1, 403, 407, 261, 378}
#pragma once

#include <memory>
#include <string>

#include "models/llama/tokenizer.h"

namespace llmsrec::models::llama {

// `bytes` is the file content; `source` names it in errors (DataError on a
// truncated or inconsistent file).
std::unique_ptr<Tokenizer> parse_llama2c_tokenizer(const std::string& bytes, const std::string& source);
std::unique_ptr<Tokenizer> load_llama2c_tokenizer(const std::string& path);

}  // namespace llmsrec::models::llama
