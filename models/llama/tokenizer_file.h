// Reads a whole tokenizer file into memory; IoError naming the path on failure.
#pragma once

#include <string>

namespace llmsrec::models::llama {

std::string read_tokenizer_file(const std::string& path);

}  // namespace llmsrec::models::llama
