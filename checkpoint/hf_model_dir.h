// The one place that knows the layout of a Hugging Face model directory:
// config.json, the weights (model.safetensors, or a sharded
// model.safetensors.index.json that names its shards), and the tokenizer
// (tokenizer.json, SentencePiece tokenizer.model, or llama2.c tokenizer.bin,
// in that order of preference). The config, weight and tokenizer loaders all
// resolve through it, so a missing file gets the same message everywhere.
//
//   auto files = checkpoint::resolve_hf_model_dir("models/Llama-3.2-3B");
//   files.config;     // models/Llama-3.2-3B/config.json
//   files.weights;    // .../model.safetensors.index.json (sharded) or .../model.safetensors
//   files.tokenizer;  // .../tokenizer.json
#pragma once

#include <string>

namespace llmsrec::checkpoint {

struct HfModelFiles {
  std::string dir;        // the model directory
  std::string config;     // config.json ("" when absent)
  std::string weights;    // model.safetensors.index.json or model.safetensors ("" when absent)
  bool sharded = false;   // weights is an index of shards
  std::string tokenizer;  // tokenizer.json | tokenizer.model | tokenizer.bin ("" when absent)
};

// Finds the files of the model directory `dir`; never throws for a missing
// file (the fields stay empty), but throws IoError when `dir` is not a directory.
HfModelFiles resolve_hf_model_dir(const std::string& dir);

// The file a loader reads for `what` ("config", "weights", "tokenizer"):
// `path` itself when it is a file, else that file of the directory. Throws
// IoError naming the directory and what it lacks.
std::string hf_model_file(const std::string& path, const std::string& what);

}  // namespace llmsrec::checkpoint
