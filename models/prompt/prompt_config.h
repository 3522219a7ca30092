// Config section `prompt`: the LLM-SRec prompt templates (the LLaRA/LLM-SRec
// column of Table 2, as the reference code writes them), so baselines can
// change them. Markers: [HistoryEmb] (a slot filled with f_I(E_i)),
// [UserOut] / [ItemOut] (slots holding the learnable output tokens).
// Placeholders: {k} (1-based entry number), {date} (UTC YYYY-MM-DD), {title}.
#pragma once

#include <string>

#include "core/config.h"

namespace llmsrec::models::prompt {

struct PromptConfig : core::ConfigSection {
  std::string user_prefix = "This user has made a series of purchases in the following order: ";
  std::string history_entry = "Item No.{k}, Time: {date}, \"{title}\"[HistoryEmb]";
  std::string history_entry_no_time = "Item No.{k}, \"{title}\"[HistoryEmb]";  // datasets without real times
  std::string history_separator = ",";
  std::string user_suffix = ". Based on this sequence of purchases, generate user representation token:[UserOut]";
  std::string item =
      "The item title and item embedding are as follows: \"{title}\"[HistoryEmb], then generate item representation "
      "token:[ItemOut]";
  int64_t history_items = 10;   // the last N items of the history, oldest first
  int64_t max_tokens = 1024;    // longer prompts get shorter titles (never lose the output slot)
  bool add_bos = true;          // BOS first, as the tokenizer's post-processor would

  void visit(core::ConfigVisitor& v) override {
    v.field("user_prefix", user_prefix, "text before the first history entry");
    v.field("history_entry", history_entry, "one history entry ({k}, {date}, {title}, [HistoryEmb])");
    v.field("history_entry_no_time", history_entry_no_time, "history entry for datasets whose timestamps are only an order");
    v.field("history_separator", history_separator, "text between two history entries");
    v.field("user_suffix", user_suffix, "text after the last entry; must contain [UserOut]");
    v.field("item", item, "item prompt ({title}, one [HistoryEmb], [ItemOut])");
    v.field("history_items", history_items, "how many of the most recent history items the user prompt lists");
    v.field("max_tokens", max_tokens, "prompt length cap in tokens: titles are shortened to fit");
    v.field("add_bos", add_bos, "start every prompt with the tokenizer's BOS token");
  }
  void validate(const std::string& path) const override;
};

}  // namespace llmsrec::models::prompt
