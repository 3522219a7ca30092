#include "models/llama/tokenizer.h"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "core/error.h"
#include "models/llama/bpe_tokenizer.h"
#include "models/llama/llama2c_tokenizer.h"
#include "models/llama/sentencepiece_tokenizer.h"

namespace llmsrec::models::llama {

namespace fs = std::filesystem;

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir_or_file) {
  fs::path p(dir_or_file);
  std::error_code ec;
  if (fs::is_directory(p, ec)) {
    for (const char* name : {"tokenizer.json", "tokenizer.model", "tokenizer.bin"}) {
      if (fs::exists(p / name)) return load_tokenizer((p / name).string());
    }
    throw IoError(fmt::format("{}: no tokenizer.json, tokenizer.model or tokenizer.bin in this directory", dir_or_file));
  }
  if (!fs::exists(p, ec)) throw IoError(fmt::format("{}: no such tokenizer file or model directory", dir_or_file));
  const std::string ext = p.extension().string();
  if (ext == ".json") return load_bpe_tokenizer(dir_or_file);
  if (ext == ".model") return load_sentencepiece_tokenizer(dir_or_file);
  if (ext == ".bin") return load_llama2c_tokenizer(dir_or_file);
  // Unknown name: JSON starts with '{'; anything else is taken as llama2.c's format.
  char first = 0;
  std::ifstream(dir_or_file, std::ios::binary).get(first);
  return first == '{' ? load_bpe_tokenizer(dir_or_file) : load_llama2c_tokenizer(dir_or_file);
}

}  // namespace llmsrec::models::llama
