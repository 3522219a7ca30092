#include "data/text.h"

#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace llmsrec::data {

void split(std::string_view s, char sep, std::vector<std::string_view>& out) {
  out.clear();
  size_t start = 0;
  for (;;) {
    const void* p = std::memchr(s.data() + start, sep, s.size() - start);
    if (!p) {
      out.push_back(s.substr(start));
      return;
    }
    size_t pos = static_cast<const char*>(p) - s.data();
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

void split(std::string_view s, std::string_view sep, std::vector<std::string_view>& out) {
  out.clear();
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + sep.size();
  }
}

void split_csv(std::string_view s, std::vector<std::string_view>& out, std::vector<std::string>& storage) {
  if (s.find('"') == std::string_view::npos) {  // fast path: no quoting on this line
    split(s, ',', out);
    return;
  }
  storage.clear();
  storage.emplace_back();
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quoted) {
      if (c != '"') storage.back().push_back(c);
      else if (i + 1 < s.size() && s[i + 1] == '"') storage.back().push_back(s[++i]);
      else quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      storage.emplace_back();
    } else {
      storage.back().push_back(c);
    }
  }
  out.clear();  // views taken only now: storage no longer grows
  for (const auto& f : storage) out.emplace_back(f);
}

bool parse_int64(std::string_view s, int64_t& value) {
  if (s.empty()) return false;
  const char* b = s.data();
  const char* e = s.data() + s.size();
  if (*b == '+') ++b;
  auto r = std::from_chars(b, e, value);
  return r.ec == std::errc() && r.ptr == e && b != e;
}

std::string_view trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n')) --e;
  return s.substr(b, e - b);
}

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
    else return false;
    if (end - p < n + 1) return false;
    for (int k = 1; k <= n; ++k) {
      if ((p[k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[k] & 0x3F);
    }
    static const uint32_t kMin[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += n + 1;
  }
  return true;
}

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (unsigned char c : s) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

std::string excerpt(std::string_view s, size_t max_bytes) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max_bytes; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\t') out += "\\t";
    else if (c < 0x20 || c >= 0x80) out += fmt::format("\\x{:02x}", c);
    else out.push_back(static_cast<char>(c));
  }
  if (s.size() > max_bytes) out += "...";
  return "'" + out + "'";
}

}  // namespace llmsrec::data
