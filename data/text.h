// Small text helpers for the raw-data readers: field splitting, integer
// parsing, UTF-8 validation and Latin-1 -> UTF-8 conversion (MovieLens).
//
//   std::vector<std::string_view> cols;
//   data::split(line, '\t', cols);
//   int64_t ts;
//   if (!data::parse_int64(cols[2], ts)) ...
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmsrec::data {

// Splits on a one-character separator; `out` is cleared first. "a\t\tb" -> 3 fields.
void split(std::string_view s, char sep, std::vector<std::string_view>& out);
// Splits on a multi-character separator ("::" in MovieLens .dat files).
void split(std::string_view s, std::string_view sep, std::vector<std::string_view>& out);
// Splits one CSV record: commas outside double quotes; quotes removed and "" unescaped into `storage`.
void split_csv(std::string_view s, std::vector<std::string_view>& out, std::vector<std::string>& storage);

// Whole-string decimal integer with optional sign; false on anything else (empty, "1.5", "12a").
bool parse_int64(std::string_view s, int64_t& value);

std::string_view trim(std::string_view s);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool is_valid_utf8(std::string_view s);
// Each byte is one code point U+0000..U+00FF.
std::string latin1_to_utf8(std::string_view s);
// Printable excerpt for error messages (at most `max_bytes`, invalid bytes as \xNN).
std::string excerpt(std::string_view s, size_t max_bytes = 80);

}  // namespace llmsrec::data
