#include "models/prompt/prompt_builder.h"

#include <ctime>

#include <fmt/format.h>

#include "core/error.h"
#include "models/llama/token_cache.h"
#include "models/llama/tokenizer.h"

namespace llmsrec::models::prompt {
namespace {

constexpr const char* kHistoryEmb = "[HistoryEmb]";
constexpr const char* kUserOut = "[UserOut]";
constexpr const char* kItemOut = "[ItemOut]";

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

// A title must not smuggle a marker into the prompt.
std::string clean_title(const std::string& title, size_t max_chars) {
  std::string t = title;
  for (const char* m : {kHistoryEmb, kUserOut, kItemOut}) {
    std::string safe = m;
    safe.front() = '(';
    safe.back() = ')';
    replace_all(t, m, safe);
  }
  if (t.size() > max_chars) {
    size_t cut = max_chars;
    while (cut > 0 && (static_cast<unsigned char>(t[cut]) & 0xC0) == 0x80) --cut;  // stay on a UTF-8 boundary
    t.resize(cut);
  }
  return t;
}

size_t count_of(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t pos = s.find(what); pos != std::string::npos; pos = s.find(what, pos + what.size())) ++n;
  return n;
}

}  // namespace

void PromptConfig::validate(const std::string& p) const {
  auto need = [&](const std::string& key, const std::string& text, const char* marker, size_t count) {
    if (count_of(text, marker) != count) {
      throw ConfigError(fmt::format("config key '{}.{}': must contain {} exactly {} time(s): '{}'", p, key, marker,
                                    count, text));
    }
  };
  need("history_entry", history_entry, kHistoryEmb, 1);
  need("history_entry_no_time", history_entry_no_time, kHistoryEmb, 1);
  need("user_suffix", user_suffix, kUserOut, 1);
  need("item", item, kHistoryEmb, 1);
  need("item", item, kItemOut, 1);
  if (history_items < 1) throw ConfigError(fmt::format("config key '{}.history_items': must be >= 1", p));
  if (max_tokens < 16) throw ConfigError(fmt::format("config key '{}.max_tokens': must be >= 16", p));
}

std::string utc_date(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

PromptBuilder::PromptBuilder(const llama::Tokenizer& tokenizer, const PromptConfig& config, ItemText items)
    : tokenizer_(tokenizer),
      config_(config),
      items_(items),
      cache_(std::make_unique<llama::TokenCache>(tokenizer, false)),
      item_prompts_(static_cast<size_t>(items.num_items() + 1)) {}

PromptBuilder::~PromptBuilder() = default;

std::string PromptBuilder::render_user(core::Span<int32_t> items, core::Span<int64_t> timestamps,
                                       size_t max_title_chars) const {
  const int64_t n = std::min<int64_t>(items.size(), config_.history_items);
  const int64_t first = items.size() - n;
  const bool dates = items_.dates;
  std::string text = config_.user_prefix;
  for (int64_t j = 0; j < n; ++j) {
    std::string entry = dates ? config_.history_entry : config_.history_entry_no_time;
    replace_all(entry, "{k}", std::to_string(j + 1));
    if (dates) replace_all(entry, "{date}", utc_date(timestamps[first + j]));
    replace_all(entry, "{title}", clean_title(items_.titles[items[first + j]], max_title_chars));
    if (j > 0) text += config_.history_separator;
    text += entry;
  }
  return text + config_.user_suffix;
}

std::string PromptBuilder::render_item(int32_t item_id, size_t max_title_chars) const {
  std::string text = config_.item;
  replace_all(text, "{title}", clean_title(items_.titles[item_id], max_title_chars));
  return text;
}

BuiltPrompt PromptBuilder::tokenize(const std::string& text, const char* out_marker,
                                    const std::vector<int32_t>& items) const {
  BuiltPrompt p;
  const int32_t placeholder = std::max(0, tokenizer_.bos_id());
  if (config_.add_bos && tokenizer_.bos_id() >= 0) p.ids.push_back(tokenizer_.bos_id());
  size_t pos = 0, slot = 0;
  while (pos <= text.size()) {
    size_t emb = text.find(kHistoryEmb, pos);
    size_t out = text.find(out_marker, pos);
    size_t next = std::min(emb, out);
    std::string piece = text.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    if (!piece.empty()) {
      const auto& ids = cache_->encode(piece);
      p.ids.insert(p.ids.end(), ids.begin(), ids.end());
    }
    if (next == std::string::npos) break;
    if (next == emb) {
      LLMSREC_ASSERT(slot < items.size(), "more [HistoryEmb] markers than items");
      p.emb_slots.push_back(static_cast<int64_t>(p.ids.size()));
      p.emb_items.push_back(items[slot++]);
      pos = next + std::string(kHistoryEmb).size();
    } else {
      p.out_slot = static_cast<int64_t>(p.ids.size());
      pos = next + std::string(out_marker).size();
    }
    p.ids.push_back(placeholder);
  }
  LLMSREC_ASSERT(slot == items.size() && p.out_slot >= 0, "prompt slots do not match its items");
  return p;
}

template <typename Render>
BuiltPrompt PromptBuilder::fit(Render render, const char* out_marker, const std::vector<int32_t>& items) const {
  // Shorten every title (halving the cap) until the prompt fits; the slots stay.
  size_t cap = std::string::npos;
  while (true) {
    BuiltPrompt p = tokenize(render(cap), out_marker, items);
    if (static_cast<int64_t>(p.ids.size()) <= config_.max_tokens || cap == 0) return p;
    size_t longest = 0;
    for (int32_t i : items) longest = std::max(longest, items_.titles[i].size());
    cap = cap == std::string::npos ? longest / 2 : cap / 2;
  }
}

BuiltPrompt PromptBuilder::user(core::Span<int32_t> items, core::Span<int64_t> timestamps) const {
  const int64_t n = std::min<int64_t>(items.size(), config_.history_items);
  std::vector<int32_t> shown(items.end() - n, items.end());
  return fit([&](size_t cap) { return render_user(items, timestamps, cap); }, kUserOut, shown);
}

const BuiltPrompt& PromptBuilder::item(int32_t item_id) const {
  if (item_id < 1 || item_id > items_.num_items()) {
    throw DataError(fmt::format("item id {} outside 1..{}", item_id, items_.num_items()));
  }
  auto& slot = item_prompts_[static_cast<size_t>(item_id)];
  if (!slot) {
    slot = std::make_unique<BuiltPrompt>(
        fit([&](size_t cap) { return render_item(item_id, cap); }, kItemOut, std::vector<int32_t>{item_id}));
  }
  return *slot;
}

std::string PromptBuilder::user_text(core::Span<int32_t> items, core::Span<int64_t> timestamps) const {
  return render_user(items, timestamps, std::string::npos);
}

std::string PromptBuilder::item_text(int32_t item_id) const { return render_item(item_id, std::string::npos); }

}  // namespace llmsrec::models::prompt
