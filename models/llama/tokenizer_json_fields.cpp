#include "models/llama/tokenizer_json_fields.h"

#include <fmt/format.h>

#include "core/error.h"

namespace llmsrec::models::llama {

const std::string& string_field(const nlohmann::json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) throw DataError(fmt::format("{}: missing string '{}'", where, key));
  return it->get_ref<const std::string&>();
}

std::pair<std::string, std::string> replace_step_strings(const nlohmann::json& spec, const std::string& where) {
  auto pat = spec.find("pattern");
  if (pat == spec.end() || !pat->is_object() || !pat->contains("String") || !(*pat)["String"].is_string()) {
    throw DataError(fmt::format("{}: Replace supports only {{\"pattern\": {{\"String\": str}}}}", where));
  }
  return {(*pat)["String"].get<std::string>(), string_field(spec, "content", where)};
}

}  // namespace llmsrec::models::llama
