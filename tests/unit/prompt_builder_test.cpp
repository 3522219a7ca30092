// models::prompt::PromptBuilder: the exact text of the LLM-SRec prompts (the
// LLaRA/LLM-SRec column of the paper's Table 2, as the reference code
// Sein-Kim/LLM-SRec models/seqllm_model.py writes them: make_interact_text,
// make_candidate_text, the user prompt of pre_train_phase2), character by
// character, and where the tokenized prompt puts its slots.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/error.h"
#include "models/llama/bpe_tokenizer.h"
#include "models/llama/tokenizer.h"
#include "models/prompt/prompt_builder.h"

namespace llmsrec::models::prompt {
namespace {

const std::vector<std::string> kTitles = {"", "Dune", "The Martian", "Project Hail Mary", "Sneaky [UserOut] [HistoryEmb]"};
// 2014-03-07 00:00:00, 2014-03-08 00:00:00 and 2014-12-31 23:59:59 UTC.
const std::vector<int64_t> kTimes = {1394150400, 1394236800, 1420070399};
const std::vector<int32_t> kHistory = {1, 2, 3};

template <typename T>
core::Span<T> span(const std::vector<T>& v) {
  return {v.data(), static_cast<int64_t>(v.size())};
}

// A real byte-level BPE tokenizer (the one `lm make-tiny` writes), trained on prompt words.
std::unique_ptr<llama::Tokenizer> tokenizer() {
  return llama::parse_bpe_tokenizer(
      llama::make_tiny_tokenizer_json("This user has made a series of purchases Item No. Time Dune Martian", 60),
      "tiny tokenizer.json");
}

class PromptBuilderTest : public ::testing::Test {
 protected:
  std::unique_ptr<llama::Tokenizer> tok_ = tokenizer();
  PromptConfig cfg_;
};

TEST_F(PromptBuilderTest, UserPromptWithDatesIsTheReferenceText) {
  PromptBuilder b(*tok_, cfg_, {kTitles, /*dates=*/true});
  EXPECT_EQ(b.user_text(span(kHistory), span(kTimes)),
            "This user has made a series of purchases in the following order: "
            "Item No.1, Time: 2014-03-07, \"Dune\"[HistoryEmb],"
            "Item No.2, Time: 2014-03-08, \"The Martian\"[HistoryEmb],"
            "Item No.3, Time: 2014-12-31, \"Project Hail Mary\"[HistoryEmb]"
            ". Based on this sequence of purchases, generate user representation token:[UserOut]");
}

TEST_F(PromptBuilderTest, UserPromptShowsTheLastItemsNumberedFromOne) {
  cfg_.history_items = 2;
  PromptBuilder b(*tok_, cfg_, {kTitles, true});
  EXPECT_EQ(b.user_text(span(kHistory), span(kTimes)),
            "This user has made a series of purchases in the following order: "
            "Item No.1, Time: 2014-03-08, \"The Martian\"[HistoryEmb],"
            "Item No.2, Time: 2014-12-31, \"Project Hail Mary\"[HistoryEmb]"
            ". Based on this sequence of purchases, generate user representation token:[UserOut]");
}

TEST_F(PromptBuilderTest, UserPromptWithoutRealTimesHasNoDates) {
  PromptBuilder b(*tok_, cfg_, {kTitles, /*dates=*/false});
  const std::vector<int32_t> items = {3, 1};
  const std::vector<int64_t> order = {7, 8};  // an order, not unix seconds
  EXPECT_EQ(b.user_text(span(items), span(order)),
            "This user has made a series of purchases in the following order: "
            "Item No.1, \"Project Hail Mary\"[HistoryEmb],Item No.2, \"Dune\"[HistoryEmb]"
            ". Based on this sequence of purchases, generate user representation token:[UserOut]");
}

TEST_F(PromptBuilderTest, ItemPromptIsTheReferenceText) {
  PromptBuilder b(*tok_, cfg_, {kTitles, true});
  EXPECT_EQ(b.item_text(2),
            "The item title and item embedding are as follows: \"The Martian\"[HistoryEmb], then generate item "
            "representation token:[ItemOut]");
}

TEST_F(PromptBuilderTest, ATitleCannotAddSlots) {
  PromptBuilder b(*tok_, cfg_, {kTitles, true});
  EXPECT_EQ(b.item_text(4),
            "The item title and item embedding are as follows: \"Sneaky (UserOut) (HistoryEmb)\"[HistoryEmb], then "
            "generate item representation token:[ItemOut]");
  const BuiltPrompt& p = b.item(4);
  EXPECT_EQ(p.emb_slots.size(), 1u);
  EXPECT_EQ(p.emb_items, std::vector<int32_t>{4});
}

TEST_F(PromptBuilderTest, TokenizedUserPromptHasASlotPerMarker) {
  // ids = BOS, the text between markers tokenized piece by piece, one placeholder per marker.
  PromptBuilder b(*tok_, cfg_, {kTitles, true});
  const BuiltPrompt p = b.user(span(kHistory), span(kTimes));
  const std::vector<std::string> pieces = {
      "This user has made a series of purchases in the following order: Item No.1, Time: 2014-03-07, \"Dune\"",
      ",Item No.2, Time: 2014-03-08, \"The Martian\"", ",Item No.3, Time: 2014-12-31, \"Project Hail Mary\"",
      ". Based on this sequence of purchases, generate user representation token:"};
  const int32_t placeholder = std::max(0, tok_->bos_id());
  std::vector<int32_t> want = {tok_->bos_id()};
  std::vector<int64_t> want_slots;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const auto ids = tok_->encode(pieces[i], false);
    want.insert(want.end(), ids.begin(), ids.end());
    if (i < 3) want_slots.push_back(static_cast<int64_t>(want.size()));
    want.push_back(placeholder);
  }
  ASSERT_GE(tok_->bos_id(), 0);
  EXPECT_EQ(p.ids, want);
  EXPECT_EQ(p.emb_slots, want_slots);
  EXPECT_EQ(p.emb_items, kHistory);
  EXPECT_EQ(p.out_slot, static_cast<int64_t>(want.size()) - 1) << "[UserOut] ends the prompt";
}

TEST_F(PromptBuilderTest, TemplatesWithTheWrongNumberOfMarkersAreConfigErrors) {
  PromptConfig c;
  c.user_suffix = ". Based on this sequence of purchases, generate user representation token:";
  EXPECT_THROW(c.validate("prompt"), ConfigError);
  c = PromptConfig();
  c.item = "\"{title}\"[HistoryEmb][HistoryEmb][ItemOut]";
  EXPECT_THROW(c.validate("prompt"), ConfigError);
  c = PromptConfig();
  c.history_entry = "Item No.{k}, \"{title}\"";
  EXPECT_THROW(c.validate("prompt"), ConfigError);
  EXPECT_NO_THROW(PromptConfig().validate("prompt"));
}

}  // namespace
}  // namespace llmsrec::models::prompt
