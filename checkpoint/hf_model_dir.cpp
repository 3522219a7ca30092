#include "checkpoint/hf_model_dir.h"

#include <filesystem>

#include <fmt/format.h>

#include "core/error.h"

namespace llmsrec::checkpoint {

namespace fs = std::filesystem;

HfModelFiles resolve_hf_model_dir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw IoError(fmt::format("'{}': {} (expected a Hugging Face model directory: config.json, model.safetensors, "
                              "tokenizer.json)", dir, fs::exists(dir, ec) ? "not a directory" : "no such directory"));
  }
  HfModelFiles f;
  f.dir = dir;
  const fs::path d(dir);
  auto present = [&](const char* name) { return fs::is_regular_file(d / name, ec) ? (d / name).string() : ""; };
  f.config = present("config.json");
  // A sharded checkpoint's index wins: a directory may hold both after a re-export.
  f.weights = present("model.safetensors.index.json");
  f.sharded = !f.weights.empty();
  if (f.weights.empty()) f.weights = present("model.safetensors");
  for (const char* name : {"tokenizer.json", "tokenizer.model", "tokenizer.bin"}) {
    f.tokenizer = present(name);
    if (!f.tokenizer.empty()) break;
  }
  return f;
}

std::string hf_model_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    if (!fs::exists(path, ec)) {
      throw IoError(fmt::format("'{}': no such {} file or model directory", path, what));
    }
    return path;
  }
  const HfModelFiles f = resolve_hf_model_dir(path);
  const std::string* file = what == "config" ? &f.config : what == "weights" ? &f.weights : &f.tokenizer;
  if (file->empty()) {
    const char* expected = what == "config"    ? "config.json"
                           : what == "weights" ? "model.safetensors or model.safetensors.index.json"
                                               : "tokenizer.json, tokenizer.model or tokenizer.bin";
    throw IoError(fmt::format("model directory '{}' has no {}", path, expected));
  }
  return *file;
}

}  // namespace llmsrec::checkpoint
