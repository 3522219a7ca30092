// Tokenizers of the LLaMA family behind one interface: HF tokenizer.json
// (byte-level BPE, LLaMA-3 / Qwen), SentencePiece tokenizer.model (LLaMA-2),
// and llama2.c's tokenizer.bin.
//
//   auto tok = models::llama::load_tokenizer("path/to/model_dir");
//   std::vector<int32_t> ids = tok->encode("Item No.1, \"Dune\"", /*add_bos=*/true);
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace llmsrec::models::llama {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Special/added tokens written inside `text` (e.g. "<|begin_of_text|>") map to their ids.
  virtual std::vector<int32_t> encode(const std::string& text, bool add_bos) const = 0;
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
  virtual int32_t bos_id() const = 0;  // -1 if none
  virtual int32_t eos_id() const = 0;  // -1 if none
  virtual int64_t vocab_size() const = 0;
  virtual int32_t token_to_id(const std::string& piece) const = 0;  // -1 if absent
};

// From a model directory (tokenizer.json, else tokenizer.model, else tokenizer.bin)
// or a path to one of those files. Throws DataError/IoError naming the file.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir_or_file);

// A small byte-level BPE tokenizer.json for `lm make-tiny`: 256 byte tokens,
// `num_merges` merges learned from `corpus`, then the special tokens
// <|begin_of_text|> (BOS) and <|end_of_text|> (EOS). Vocab = 256 + merges + 2.
std::string make_tiny_tokenizer_json(const std::string& corpus, int64_t num_merges);

}  // namespace llmsrec::models::llama
