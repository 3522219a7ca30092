// UTF-8 helpers and the GPT-2 byte-level alphabet shared by the byte-level BPE
// tokenizer and its trainer.
//
// GPT-2 style BPE never sees raw bytes: every byte 0..255 is first mapped to a
// printable Unicode character (printable Latin-1 bytes map to themselves, the
// rest to U+0100.. in order), so vocab entries are valid UTF-8 strings.
//
//   const auto& t = models::llama::byte_level_table();
//   std::string s = t.byte_to_utf8[' '];       // "Ġ" (U+0120)
//   int b = t.byte_of(0x120);                  // 32
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace llmsrec::models::llama {

struct ByteLevelTable {
  std::array<std::string, 256> byte_to_utf8;   // byte -> UTF-8 of its stand-in character
  std::array<uint32_t, 256> byte_to_codepoint;
  // The byte a stand-in code point encodes, or -1 when `cp` is not one.
  int byte_of(uint32_t cp) const;

 private:
  friend const ByteLevelTable& byte_level_table();
  std::array<int16_t, 324> codepoint_to_byte_{};  // stand-ins are all < 324
};

const ByteLevelTable& byte_level_table();

// Length of the UTF-8 character starting at s[i]: 1..4 for a well-formed
// sequence, 1 for an invalid, overlong, surrogate or truncated one (callers always advance).
size_t utf8_char_len(std::string_view s, size_t i);

// Decodes the character at s[i] (length from utf8_char_len); invalid -> the byte value.
uint32_t utf8_decode_at(std::string_view s, size_t i, size_t len);

void append_utf8(std::string& out, uint32_t cp);

// Maps every byte of `bytes` to its stand-in character.
std::string bytes_to_byte_level(std::string_view bytes);

// Inverse of bytes_to_byte_level; characters that are not stand-ins are kept as UTF-8.
std::string byte_level_to_bytes(std::string_view text);

bool is_ascii(std::string_view s);

}  // namespace llmsrec::models::llama
