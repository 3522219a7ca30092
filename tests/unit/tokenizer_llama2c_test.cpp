// llama2.c tokenizer.bin: the golden prompt of ../shared/models/stories260K
// (ids produced by karpathy's run.c), round trips, and truncated files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/llama/llama2c_tokenizer.h"
#include "models/llama/tokenizer.h"
#include "models/llama/tokenizer_file.h"

namespace {

namespace llama = llmsrec::models::llama;
const std::filesystem::path kDir = std::filesystem::path(LLMSREC_SHARED_DIR) / "models" / "stories260K";

class Llama2cTokenizer : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kDir / "tok512.bin") || !std::filesystem::exists(kDir / "golden.json")) {
      GTEST_SKIP() << "stories260K not found under " << kDir << " (set LLMSREC_SHARED_DIR)";
    }
    tok_ = llama::load_tokenizer((kDir / "tok512.bin").string());
  }
  std::unique_ptr<llama::Tokenizer> tok_;
};

TEST_F(Llama2cTokenizer, GoldenPromptIdsFromRunC) {
  auto golden = nlohmann::json::parse(std::ifstream(kDir / "golden.json"));
  auto expected = golden["prompt_token_ids"].get<std::vector<int32_t>>();
  EXPECT_EQ(tok_->encode(golden["prompt"].get<std::string>(), true), expected);
  EXPECT_EQ(tok_->vocab_size(), 512);
  EXPECT_EQ(tok_->bos_id(), 1);
  EXPECT_EQ(tok_->eos_id(), 2);
  // The pieces golden.json lists for every generated id.
  auto ids = golden["token_ids"].get<std::vector<int32_t>>();
  auto pieces = golden["token_pieces"].get<std::vector<std::string>>();
  for (size_t i = 1; i < ids.size(); ++i) EXPECT_EQ(tok_->token_to_id(pieces[i]), ids[i]) << pieces[i];
}

TEST_F(Llama2cTokenizer, DummyPrefixAndByteFallback) {
  EXPECT_EQ(tok_->encode("", true), std::vector<int32_t>{1});
  EXPECT_EQ(tok_->encode("", false), std::vector<int32_t>{});
  // No piece spells "ж" (D0 B6): two byte-fallback ids, byte + 3.
  auto ids = tok_->encode("ж", false);
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0], tok_->token_to_id(" "));
  EXPECT_EQ(ids[1], 0xD0 + 3);
  EXPECT_EQ(ids[2], 0xB6 + 3);
  EXPECT_EQ(tok_->encode("€", false), (std::vector<int32_t>{tok_->token_to_id(" "), tok_->token_to_id("€")}));
}

TEST_F(Llama2cTokenizer, RoundTrips) {
  for (std::string t : {"Once upon a time, there was a little girl named Lily.", "  two spaces", "Café 日本 😀 жук €", "a\nb\n\n"}) {
    EXPECT_EQ(tok_->decode(tok_->encode(t, true)), t);
    EXPECT_EQ(tok_->decode(tok_->encode(t, false)), t);
  }
}

TEST_F(Llama2cTokenizer, TruncatedFileIsDataError) {
  std::string bytes = llama::read_tokenizer_file((kDir / "tok512.bin").string());
  for (size_t cut : {size_t{2}, size_t{10}, bytes.size() - 3}) {
    try {
      llama::parse_llama2c_tokenizer(bytes.substr(0, cut), "cut.bin");
      ADD_FAILURE() << "no error at cut " << cut;
    } catch (const llmsrec::DataError& e) {
      EXPECT_NE(std::string(e.what()).find("cut.bin"), std::string::npos) << e.what();
    }
  }
  std::string bad_len = bytes;
  int32_t huge = 1 << 20;
  std::memcpy(bad_len.data() + 8, &huge, 4);  // the first token's length
  EXPECT_THROW(llama::parse_llama2c_tokenizer(bad_len, "len.bin"), llmsrec::DataError);
}

}  // namespace
