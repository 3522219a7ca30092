#include "models/llama/pre_tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/llama/byte_level.h"

namespace llmsrec::models::llama {

const char* const kGpt2SplitRegex = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char* const kLlama3SplitRegex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

namespace {
// Bounds backtracking so a pathological pattern fails loudly instead of hanging.
constexpr uint32_t kMatchLimit = 10'000'000;
}  // namespace

struct Regex::Impl {
  pcre2_code* code = nullptr;
  pcre2_match_context* context = nullptr;
  ~Impl() {
    pcre2_match_context_free(context);
    pcre2_code_free(code);
  }
};

Regex::Regex(const std::string& pattern, const std::string& where) : impl_(std::make_unique<Impl>()) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                              PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
  if (!impl_->code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    throw DataError(fmt::format("{}: regex does not compile at offset {}: {} (pattern: {})", where, offset,
                                reinterpret_cast<const char*>(message), pattern));
  }
  pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE);  // best effort: pcre2_match falls back to the interpreter
  impl_->context = pcre2_match_context_create(nullptr);
  pcre2_set_match_limit(impl_->context, kMatchLimit);
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

void Regex::find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& matches) const {
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
  if (!md) throw std::bad_alloc();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t start = 0;
  while (start < text.size()) {
    int rc = pcre2_match(impl_->code, subject, text.size(), start, 0, md, impl_->context);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      pcre2_match_data_free(md);
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof(message));
      throw DataError(fmt::format("pre-tokenizer regex failed: {}", reinterpret_cast<const char*>(message)));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    size_t b = ov[0], e = ov[1];
    if (e > b) {
      matches.emplace_back(b, e);
      start = e;
    } else {
      start = b + utf8_char_len(text, b);  // empty match: step over one character
    }
  }
  pcre2_match_data_free(md);
}

// ---------------------------------------------------------------- PreTokenizer

namespace {

enum class Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

Behavior parse_behavior(const nlohmann::json& j, const std::string& where) {
  if (!j.is_string()) throw DataError(fmt::format("{}: 'behavior' must be a string", where));
  const auto& s = j.get_ref<const std::string&>();
  if (s == "Removed") return Behavior::kRemoved;
  if (s == "Isolated") return Behavior::kIsolated;
  if (s == "MergedWithPrevious") return Behavior::kMergedWithPrevious;
  if (s == "MergedWithNext") return Behavior::kMergedWithNext;
  if (s == "Contiguous") return Behavior::kContiguous;
  throw DataError(fmt::format("{}: unknown split behavior '{}'", where, s));
}

bool bool_field(const nlohmann::json& j, const char* key, bool fallback, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) throw DataError(fmt::format("{}: '{}' must be true or false", where, key));
  return it->get<bool>();
}

}  // namespace

struct PreTokenizer::Step {
  std::unique_ptr<Regex> regex;  // null: split on `literal`
  std::string literal;
  Behavior behavior = Behavior::kIsolated;
  bool invert = false;

  void apply(std::string_view text, std::vector<std::string_view>& out) const {
    std::vector<std::pair<size_t, size_t>> matches;
    if (regex) {
      regex->find_all(text, matches);
    } else if (!literal.empty()) {
      for (size_t p = text.find(literal); p != std::string_view::npos; p = text.find(literal, p + literal.size())) {
        matches.emplace_back(p, p + literal.size());
      }
    }
    // (begin, end, is_delimiter) segments covering `text`.
    struct Seg {
      size_t b, e;
      bool delim;
    };
    std::vector<Seg> segs;
    size_t pos = 0;
    for (auto [b, e] : matches) {
      if (b > pos) segs.push_back({pos, b, invert});
      segs.push_back({b, e, !invert});
      pos = e;
    }
    if (pos < text.size()) segs.push_back({pos, text.size(), invert});

    std::vector<std::pair<size_t, size_t>> pieces;
    bool pending_next = false;  // MergedWithNext: a delimiter waits for the next piece
    for (size_t i = 0; i < segs.size(); ++i) {
      const Seg& s = segs[i];
      switch (behavior) {
        case Behavior::kRemoved:
          if (!s.delim) pieces.emplace_back(s.b, s.e);
          break;
        case Behavior::kIsolated:
          pieces.emplace_back(s.b, s.e);
          break;
        case Behavior::kMergedWithPrevious:
          if (s.delim && !pieces.empty() && pieces.back().second == s.b && !segs[i - 1].delim) {
            pieces.back().second = s.e;
          } else {
            pieces.emplace_back(s.b, s.e);
          }
          break;
        case Behavior::kMergedWithNext:
          if (pending_next && !s.delim) {
            pieces.back().second = s.e;
          } else {
            pieces.emplace_back(s.b, s.e);
          }
          pending_next = s.delim;
          break;
        case Behavior::kContiguous:
          if (s.delim && i > 0 && segs[i - 1].delim) {
            pieces.back().second = s.e;
          } else {
            pieces.emplace_back(s.b, s.e);
          }
          break;
      }
    }
    for (auto [b, e] : pieces) out.push_back(text.substr(b, e - b));
  }
};

PreTokenizer::~PreTokenizer() = default;
PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;

PreTokenizer::PreTokenizer(const nlohmann::json& spec, const std::string& where) {
  if (spec.is_null()) return;
  if (!spec.is_object()) throw DataError(fmt::format("{}: expected an object or null", where));
  auto type_it = spec.find("type");
  if (type_it == spec.end() || !type_it->is_string()) {
    throw DataError(fmt::format("{}: missing string 'type'", where));
  }
  const auto& type = type_it->get_ref<const std::string&>();
  if (type == "Sequence") {
    auto it = spec.find("pretokenizers");
    if (it == spec.end() || !it->is_array()) throw DataError(fmt::format("{}: Sequence needs an array 'pretokenizers'", where));
    for (size_t i = 0; i < it->size(); ++i) {
      PreTokenizer inner((*it)[i], fmt::format("{}.pretokenizers[{}]", where, i));
      for (auto& s : inner.steps_) steps_.push_back(std::move(s));
      byte_level_ = byte_level_ || inner.byte_level_;
      add_prefix_space_ = add_prefix_space_ || inner.add_prefix_space_;
    }
  } else if (type == "Split") {
    Step step;
    auto pat = spec.find("pattern");
    if (pat == spec.end() || !pat->is_object()) throw DataError(fmt::format("{}: Split needs an object 'pattern'", where));
    if (auto r = pat->find("Regex"); r != pat->end() && r->is_string()) {
      step.regex = std::make_unique<Regex>(r->get<std::string>(), where + ".pattern");
    } else if (auto s = pat->find("String"); s != pat->end() && s->is_string()) {
      step.literal = s->get<std::string>();
    } else {
      throw DataError(fmt::format("{}: pattern must be {{\"Regex\": str}} or {{\"String\": str}}", where));
    }
    step.behavior = spec.contains("behavior") ? parse_behavior(spec["behavior"], where) : Behavior::kIsolated;
    step.invert = bool_field(spec, "invert", false, where);
    steps_.push_back(std::move(step));
  } else if (type == "ByteLevel") {
    byte_level_ = true;
    add_prefix_space_ = bool_field(spec, "add_prefix_space", true, where);
    if (bool_field(spec, "use_regex", true, where)) {
      Step step;
      step.regex = std::make_unique<Regex>(kGpt2SplitRegex, where);
      steps_.push_back(std::move(step));
    }
  } else if (type == "Digits") {
    Step step;
    step.regex = std::make_unique<Regex>(bool_field(spec, "individual_digits", false, where) ? "\\p{N}" : "\\p{N}+", where);
    steps_.push_back(std::move(step));
  } else {
    throw DataError(fmt::format("{}: unsupported pre_tokenizer type '{}' (supported: Sequence, Split, ByteLevel, Digits)",
                                where, type));
  }
}

void PreTokenizer::split(std::string_view text, std::vector<std::string_view>& words) const {
  if (text.empty()) return;
  if (steps_.empty()) {
    words.push_back(text);
    return;
  }
  std::vector<std::string_view> current{text}, next;
  for (const auto& step : steps_) {
    next.clear();
    for (auto w : current) step.apply(w, next);
    current.swap(next);
  }
  words.insert(words.end(), current.begin(), current.end());
}

}  // namespace llmsrec::models::llama
