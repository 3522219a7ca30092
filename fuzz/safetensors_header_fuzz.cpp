// libFuzzer target: the safetensors header parser must either accept an input
// or throw llmsrec::Error, never crash, hang or read out of bounds.
// Built by cmake/fuzz.cmake (clang -fsanitize=fuzzer,address).
#include <cstddef>
#include <cstdint>

#include "checkpoint/safetensors.h"
#include "core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    size_t start = 0;
    auto entries = llmsrec::checkpoint::parse_safetensors_header(data, size, "fuzz-input", &start);
    // Accepted headers promise every tensor lies inside the input: touch each byte range.
    for (const auto& [name, e] : entries) {
      volatile uint8_t sink = 0;
      for (uint64_t i = e.begin; i < e.end; i += 4096) sink ^= data[start + i];
      if (e.end > e.begin) sink ^= data[start + e.end - 1];
      (void)sink;
    }
  } catch (const llmsrec::Error&) {
  }
  return 0;
}
