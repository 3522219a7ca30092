#include "models/llama/byte_level.h"

namespace llmsrec::models::llama {

int ByteLevelTable::byte_of(uint32_t cp) const {
  return cp < codepoint_to_byte_.size() ? codepoint_to_byte_[cp] : -1;
}

const ByteLevelTable& byte_level_table() {
  static const ByteLevelTable table = [] {
    ByteLevelTable t;
    t.codepoint_to_byte_.fill(-1);
    auto printable = [](int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); };
    uint32_t next = 256;  // non-printable bytes take U+0100, U+0101, ... in byte order
    for (int b = 0; b < 256; ++b) {
      uint32_t cp = printable(b) ? static_cast<uint32_t>(b) : next++;
      t.byte_to_codepoint[b] = cp;
      append_utf8(t.byte_to_utf8[b], cp);
      t.codepoint_to_byte_[cp] = static_cast<int16_t>(b);
    }
    return t;
  }();
  return table;
}

size_t utf8_char_len(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len <= 1) return 1;
  if (i + len > s.size()) return 1;
  for (size_t k = 1; k < len; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 1;
  }
  // Overlong forms, surrogates and code points past U+10FFFF are invalid too.
  const uint32_t cp = utf8_decode_at(s, i, len);
  const bool valid = len == 2   ? cp >= 0x80
                     : len == 3 ? cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)
                                : cp >= 0x10000 && cp <= 0x10FFFF;
  return valid ? len : 1;
}

uint32_t utf8_decode_at(std::string_view s, size_t i, size_t len) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (len == 1) return c;
  uint32_t cp = c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string bytes_to_byte_level(std::string_view bytes) {
  const auto& t = byte_level_table();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) out += t.byte_to_utf8[b];
  return out;
}

std::string byte_level_to_bytes(std::string_view text) {
  const auto& t = byte_level_table();
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t len = utf8_char_len(text, i);
    const bool invalid_byte = len == 1 && static_cast<unsigned char>(text[i]) >= 0x80;
    int b = invalid_byte ? -1 : t.byte_of(utf8_decode_at(text, i, len));
    if (b >= 0) {
      out += static_cast<char>(b);
    } else {
      out.append(text, i, len);
    }
    i += len;
  }
  return out;
}

bool is_ascii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

}  // namespace llmsrec::models::llama
