// libFuzzer target: the HF tokenizer.json loader, then encode/decode with
// whatever loaded. Any input must end in success or llmsrec::Error (DataError);
// a crash, sanitizer report, hang or other exception is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "models/llama/bpe_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace llama = llmsrec::models::llama;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto tok = llama::parse_bpe_tokenizer(text, "fuzz/tokenizer.json");
    for (const std::string& s : {std::string("Hello world, it's 12345 naïve 日本 😀  \n"), std::string("<|bos|>ab\xff"),
                                 text.substr(0, 64)}) {
      auto ids = tok->encode(s, true);
      (void)tok->decode(ids);
    }
    (void)tok->token_to_id("a");
  } catch (const llmsrec::Error&) {
    // Rejected with a typed error: the contract.
  }
  return 0;
}
