// SentencePiece tokenizer.model (the LLaMA-2 family), through the
// libllmsrec_spm.so plugin (see spm_plugin/spm_plugin_abi.h for why it is a
// plugin). The plugin is searched in: $LLMSREC_SPM_PLUGIN, next to the running
// executable, then the build tree path compiled in (LLMSREC_SPM_PLUGIN_PATH).
//
// Control pieces written in the text (e.g. "<s>") map to their
// ids; the text between them is encoded by SentencePiece (with its dummy prefix).
// Decode is SentencePiece's (control tokens render as nothing).
//
//   auto tok = load_sentencepiece_tokenizer("Llama-2-7b/tokenizer.model");
#pragma once

#include <memory>
#include <string>

#include "models/llama/tokenizer.h"

namespace llmsrec::models::llama {

// IoError when the plugin cannot be loaded, DataError when the model is invalid.
std::unique_ptr<Tokenizer> load_sentencepiece_tokenizer(const std::string& path);

// Where the plugin was loaded from (loads it if needed); for diagnostics.
std::string sentencepiece_plugin_path();

}  // namespace llmsrec::models::llama
