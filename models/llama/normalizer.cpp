#include "models/llama/normalizer.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/llama/byte_level.h"
#include "models/llama/tokenizer_json_fields.h"

namespace llmsrec::models::llama {

namespace {

enum class Kind { kUnicode, kPrepend, kReplace, kLowercase };

std::u16string to_utf16(std::string_view s) {
  std::u16string out(s.size() + 1, u'\0');
  int32_t len = 0;
  UErrorCode status = U_ZERO_ERROR;
  // Invalid UTF-8 becomes U+FFFD, as HF does when it receives a lossy string.
  u_strFromUTF8WithSub(reinterpret_cast<UChar*>(out.data()), static_cast<int32_t>(out.size()), &len, s.data(),
                       static_cast<int32_t>(s.size()), 0xFFFD, nullptr, &status);
  if (U_FAILURE(status)) throw DataError(fmt::format("normalizer: UTF-8 conversion failed: {}", u_errorName(status)));
  out.resize(len);
  return out;
}

std::string to_utf8(const std::u16string& s) {
  std::string out(s.size() * 3 + 1, '\0');
  int32_t len = 0;
  UErrorCode status = U_ZERO_ERROR;
  u_strToUTF8(out.data(), static_cast<int32_t>(out.size()), &len, reinterpret_cast<const UChar*>(s.data()),
              static_cast<int32_t>(s.size()), &status);
  if (U_FAILURE(status)) throw DataError(fmt::format("normalizer: UTF-16 conversion failed: {}", u_errorName(status)));
  out.resize(len);
  return out;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  std::string out;
  size_t pos = 0;
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, pos)) {
    out.append(s, pos, p - pos);
    out += to;
    pos = p + from.size();
  }
  out.append(s, pos, std::string::npos);
  s.swap(out);
}


}  // namespace

struct Normalizer::Step {
  Kind kind = Kind::kUnicode;
  const UNormalizer2* unicode = nullptr;
  std::string from, to;  // Prepend: to; Replace: from -> to

  void apply(std::string& s) const {
    switch (kind) {
      case Kind::kUnicode: {
        if (is_ascii(s)) return;  // ASCII is invariant under every normalization form
        std::u16string in = to_utf16(s);
        UErrorCode status = U_ZERO_ERROR;
        int32_t need = unorm2_normalize(unicode, reinterpret_cast<const UChar*>(in.data()), static_cast<int32_t>(in.size()),
                                        nullptr, 0, &status);
        std::u16string out(need, u'\0');
        status = U_ZERO_ERROR;
        unorm2_normalize(unicode, reinterpret_cast<const UChar*>(in.data()), static_cast<int32_t>(in.size()),
                         reinterpret_cast<UChar*>(out.data()), need, &status);
        if (U_FAILURE(status)) throw DataError(fmt::format("normalizer: ICU failed: {}", u_errorName(status)));
        s = to_utf8(out);
        return;
      }
      case Kind::kPrepend:
        if (!s.empty()) s.insert(0, to);
        return;
      case Kind::kReplace:
        replace_all(s, from, to);
        return;
      case Kind::kLowercase: {
        std::u16string in = to_utf16(s);
        UErrorCode status = U_ZERO_ERROR;
        int32_t need = u_strToLower(nullptr, 0, reinterpret_cast<const UChar*>(in.data()), static_cast<int32_t>(in.size()),
                                    "", &status);
        std::u16string out(need, u'\0');
        status = U_ZERO_ERROR;
        u_strToLower(reinterpret_cast<UChar*>(out.data()), need, reinterpret_cast<const UChar*>(in.data()),
                     static_cast<int32_t>(in.size()), "", &status);
        if (U_FAILURE(status)) throw DataError(fmt::format("normalizer: ICU lowercase failed: {}", u_errorName(status)));
        s = to_utf8(out);
        return;
      }
    }
  }
};

Normalizer::~Normalizer() = default;
Normalizer::Normalizer(Normalizer&&) noexcept = default;

Normalizer::Normalizer(const nlohmann::json& spec, const std::string& where) {
  if (spec.is_null()) return;
  if (!spec.is_object()) throw DataError(fmt::format("{}: expected an object or null", where));
  const std::string& type = string_field(spec, "type", where);
  if (type == "Sequence") {
    auto it = spec.find("normalizers");
    if (it == spec.end() || !it->is_array()) throw DataError(fmt::format("{}: Sequence needs an array 'normalizers'", where));
    for (size_t i = 0; i < it->size(); ++i) {
      Normalizer inner((*it)[i], fmt::format("{}.normalizers[{}]", where, i));
      for (auto& s : inner.steps_) steps_.push_back(std::move(s));
    }
    return;
  }
  Step step;
  if (type == "NFC" || type == "NFKC" || type == "NFD" || type == "NFKD") {
    UErrorCode status = U_ZERO_ERROR;
    step.unicode = type == "NFC"    ? unorm2_getNFCInstance(&status)
                   : type == "NFKC" ? unorm2_getNFKCInstance(&status)
                   : type == "NFD"  ? unorm2_getNFDInstance(&status)
                                    : unorm2_getNFKDInstance(&status);
    if (U_FAILURE(status)) throw DataError(fmt::format("{}: ICU has no {} data: {}", where, type, u_errorName(status)));
  } else if (type == "Prepend") {
    step.kind = Kind::kPrepend;
    step.to = string_field(spec, "prepend", where);
  } else if (type == "Replace") {
    step.kind = Kind::kReplace;
    std::tie(step.from, step.to) = replace_step_strings(spec, where);
  } else if (type == "Lowercase") {
    step.kind = Kind::kLowercase;
  } else {
    throw DataError(fmt::format(
        "{}: unsupported normalizer type '{}' (supported: NFC, NFKC, NFD, NFKD, Prepend, Replace, Lowercase, Sequence)",
        where, type));
  }
  steps_.push_back(std::move(step));
}

std::string Normalizer::apply(std::string_view text) const {
  std::string s(text);
  for (const auto& step : steps_) step.apply(s);
  return s;
}

}  // namespace llmsrec::models::llama
