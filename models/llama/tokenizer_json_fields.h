// Field readers shared by the tokenizer.json parsers (normalizers, decoders):
// each failure is a DataError naming `where` (e.g. "tok.json: normalizer.normalizers[1]").
#pragma once

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace llmsrec::models::llama {

// j[key] as a string; DataError when missing or not a string.
const std::string& string_field(const nlohmann::json& j, const char* key, const std::string& where);

// A `Replace` step's (from, to): {"pattern": {"String": from}, "content": to}. Regex patterns are
// not supported (DataError).
std::pair<std::string, std::string> replace_step_strings(const nlohmann::json& spec, const std::string& where);

}  // namespace llmsrec::models::llama
