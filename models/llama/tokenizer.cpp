#include "models/llama/tokenizer.h"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "core/error.h"
#include "models/llama/bpe_tokenizer.h"
#include "checkpoint/hf_model_dir.h"
#include "models/llama/llama2c_tokenizer.h"
#include "models/llama/sentencepiece_tokenizer.h"

namespace llmsrec::models::llama {

namespace fs = std::filesystem;

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir_or_file) {
  const std::string file = checkpoint::hf_model_file(dir_or_file, "tokenizer");
  const std::string ext = fs::path(file).extension().string();
  if (ext == ".json") return load_bpe_tokenizer(file);
  if (ext == ".model") return load_sentencepiece_tokenizer(file);
  if (ext == ".bin") return load_llama2c_tokenizer(file);
  // Unknown name: JSON starts with '{'; anything else is taken as llama2.c's format.
  char first = 0;
  std::ifstream(file, std::ios::binary).get(first);
  return first == '{' ? load_bpe_tokenizer(file) : load_llama2c_tokenizer(file);
}

}  // namespace llmsrec::models::llama
