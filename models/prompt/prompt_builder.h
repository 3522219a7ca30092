// Turns a user's history or an item into token ids plus the positions of the
// slots whose input embeddings the trainer replaces:
//   - each [HistoryEmb] slot -> f_I(E_item) of the item it follows,
//   - the [UserOut] / [ItemOut] slot -> a learnable output token.
// The text between markers is tokenized piece by piece, exactly as HF
// tokenizers split text on added special tokens before running BPE.
//
//   prompt::PromptBuilder builder(*tokenizer, cfg.prompt, {dataset.item_titles, has_dates});
//   prompt::BuiltPrompt u = builder.user(dataset.train_items(u), dataset.user_timestamps(u));
//   const prompt::BuiltPrompt& i = builder.item(42);
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/span.h"
#include "models/prompt/prompt_config.h"

namespace llmsrec::models::llama {
class Tokenizer;
class TokenCache;
}  // namespace llmsrec::models::llama

namespace llmsrec::models::prompt {

struct BuiltPrompt {
  std::vector<int32_t> ids;          // token ids; slot positions hold a placeholder id
  std::vector<int64_t> emb_slots;    // positions of [HistoryEmb] slots, in order
  std::vector<int32_t> emb_items;    // the item id each slot shows
  int64_t out_slot = -1;             // position of [UserOut] / [ItemOut]
};

// What prompts show of the catalogue: only titles and whether timestamps are
// real dates (the builder needs no dataset).
struct ItemText {
  const std::vector<std::string>& titles;  // [I+1]; [0] = padding
  bool dates = false;                      // timestamps are unix seconds: entries show a date
  int64_t num_items() const { return static_cast<int64_t>(titles.size()) - 1; }
};

class PromptBuilder {
 public:
  // `items` must outlive the builder.
  PromptBuilder(const llama::Tokenizer& tokenizer, const PromptConfig& config, ItemText items);
  ~PromptBuilder();

  // User prompt over the last `history_items` of `items` (oldest first);
  // `timestamps` align with `items` (ignored when the dataset has no real times).
  BuiltPrompt user(core::Span<int32_t> items, core::Span<int64_t> timestamps) const;
  // Item prompt (cached: every item is tokenized once).
  const BuiltPrompt& item(int32_t item_id) const;
  // The rendered text (markers included), for logs, tests and parity checks.
  std::string user_text(core::Span<int32_t> items, core::Span<int64_t> timestamps) const;
  std::string item_text(int32_t item_id) const;

 private:
  BuiltPrompt tokenize(const std::string& text, const char* out_marker, const std::vector<int32_t>& items) const;
  std::string render_user(core::Span<int32_t> items, core::Span<int64_t> timestamps, size_t max_title_chars) const;
  std::string render_item(int32_t item_id, size_t max_title_chars) const;
  template <typename Render>
  BuiltPrompt fit(Render render, const char* out_marker, const std::vector<int32_t>& items) const;

  const llama::Tokenizer& tokenizer_;
  const PromptConfig& config_;
  ItemText items_;
  std::unique_ptr<llama::TokenCache> cache_;
  mutable std::vector<std::unique_ptr<BuiltPrompt>> item_prompts_;
};

// "2014-03-07" for unix seconds (UTC).
std::string utc_date(int64_t unix_seconds);

}  // namespace llmsrec::models::prompt
