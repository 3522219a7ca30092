// llama2.c checkpoints (legacy "version 0" .bin: seven int32 header fields,
// then float32 arrays) -> a HuggingFace model directory.
//
// llama2.c rotates adjacent pairs (2i, 2i+1) inside each head; HF LLaMA
// rotates (i, i + head_dim/2) ("rotate_half"). The converter permutes the
// output rows of wq and wk within every head (row 2i -> i, row 2i+1 ->
// i + head_dim/2) so the HF-layout decoder computes exactly what run.c does.
//
//   auto summary = models::llama::convert_llama2c("stories260K.bin", "tok512.bin", "out/stories260K");
#pragma once

#include <cstdint>
#include <string>

#include "models/llama/llama_config.h"

namespace llmsrec::models::llama {

struct Llama2cConvertSummary {
  LlamaConfig config;
  bool shared_classifier = true;
  int64_t parameters = 0;  // floats written (excluding the legacy RoPE tables)
};

// Writes OUTDIR/config.json, OUTDIR/model.safetensors and copies `tokenizer_bin`
// to OUTDIR/tokenizer.bin. Throws DataError naming the file on a bad header or
// a size that does not match the header.
Llama2cConvertSummary convert_llama2c(const std::string& checkpoint_bin, const std::string& tokenizer_bin,
                                      const std::string& out_dir);

// Row permutation of one projection [heads*head_dim, in] from llama2.c's
// interleaved RoPE layout to HF rotate_half. Exposed for tests.
void permute_rope_rows_llama2c_to_hf(float* w, int64_t heads, int64_t head_dim, int64_t in_features);

}  // namespace llmsrec::models::llama
