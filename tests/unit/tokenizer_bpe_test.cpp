// HF tokenizer.json (byte-level BPE): hand-derived encodings on a hand-built
// file, round trips on a trained tiny tokenizer, and malformed files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/llama/bpe_tokenizer.h"
#include "models/llama/tokenizer.h"

namespace {

using llmsrec::DataError;
using llmsrec::models::llama::load_tokenizer;
using llmsrec::models::llama::make_tiny_tokenizer_json;
using llmsrec::models::llama::parse_bpe_tokenizer;
using llmsrec::models::llama::Tokenizer;
using nlohmann::json;
using Ids = std::vector<int32_t>;

// A small byte-level BPE. "Ġ" is the byte-level stand-in for ' '. Merge ranks
// are the array order; ids are chosen so expected encodings can be derived by hand.
json hand_built(bool string_merges = false, bool ignore_merges = false) {
  json vocab = {{"a", 0},  {"b", 1},   {"c", 2},   {"d", 3},  {"Ġ", 4},  {"!", 5},  {"ab", 6},
                {"abc", 7}, {"Ġa", 8}, {"Ġab", 9}, {"cd", 10}, {"bc", 11}, {"bcd", 14}};
  json merges = json::array({json::array({"a", "b"}), json::array({"Ġ", "a"}), json::array({"ab", "c"}),
                             json::array({"Ġa", "b"}), json::array({"c", "d"}), json::array({"b", "c"})});
  if (string_merges) {
    json as_strings = json::array();
    for (const auto& m : merges) as_strings.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
    merges = as_strings;
  }
  return {
      {"added_tokens",
       json::array({{{"id", 12}, {"content", "<|bos|>"}, {"special", true}}, {{"id", 13}, {"content", "<|eos|>"}, {"special", true}}})},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", json::array({{{"SpecialToken", {{"id", "<|bos|>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
        {"special_tokens", {{"<|bos|>", {{"id", "<|bos|>"}, {"ids", {12}}, {"tokens", {"<|bos|>"}}}}}}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}, {"ignore_merges", ignore_merges}}}};
}

std::unique_ptr<Tokenizer> parse(const json& j) { return parse_bpe_tokenizer(j.dump(), "hand.json"); }

TEST(BpeTokenizer, HandDerivedEncodings) {
  auto tok = parse(hand_built());
  // Words (GPT-2 regex): "abc" " abcd" "!".
  //  abc:  (a,b) rank 0 -> ab c; (ab,c) rank 2 -> abc.
  //  Ġabcd: (a,b) rank 0 first -> Ġ ab c d; (ab,c) rank 2 beats (c,d) rank 4 -> Ġ abc d.
  EXPECT_EQ(tok->encode("abc abcd!", false), (Ids{7, 4, 7, 3, 5}));
  // Lowest rank wins, not leftmost: (c,d) rank 4 before (b,c) rank 5.
  EXPECT_EQ(tok->encode("bcd", false), (Ids{1, 10}));
  EXPECT_EQ(tok->encode(" bc", false), (Ids{4, 11}));
  EXPECT_EQ(tok->encode(" ab", false), (Ids{4, 6}));  // (a,b) rank 0 before (Ġ,a) rank 1
  EXPECT_EQ(tok->encode("", false), Ids{});
  EXPECT_EQ(tok->encode("", true), Ids{12});
  EXPECT_EQ(tok->encode("ab", true), (Ids{12, 6}));
  EXPECT_EQ(tok->bos_id(), 12);
  EXPECT_EQ(tok->vocab_size(), 15);
  EXPECT_EQ(tok->token_to_id("Ġab"), 9);
  EXPECT_EQ(tok->token_to_id("<|eos|>"), 13);
  EXPECT_EQ(tok->token_to_id("zzz"), -1);
}

TEST(BpeTokenizer, SpecialTokensInsideTextAreSplitFirst) {
  auto tok = parse(hand_built());
  EXPECT_EQ(tok->encode("ab<|eos|>c", false), (Ids{6, 13, 2}));
  EXPECT_EQ(tok->encode("<|bos|><|bos|>", false), (Ids{12, 12}));
  EXPECT_EQ(tok->encode("<|eos", false), (Ids{}));  // partial match is plain text ('<', '|', 'e', ... not in vocab)
  EXPECT_EQ(tok->decode({6, 13, 2}), "ab<|eos|>c");
}

TEST(BpeTokenizer, StringAndArrayMergesAgree) {
  auto a = parse(hand_built(false)), b = parse(hand_built(true));
  for (const char* s : {"abc abcd!", "bcd bcd", " a b c d", "dcba"}) EXPECT_EQ(a->encode(s, false), b->encode(s, false)) << s;
}

TEST(BpeTokenizer, IgnoreMergesTakesWholeWordTokens) {
  EXPECT_EQ(parse(hand_built(false, false))->encode("bcd", false), (Ids{1, 10}));
  EXPECT_EQ(parse(hand_built(false, true))->encode("bcd", false), (Ids{14}));
}

TEST(BpeTokenizer, DecodeIsByteLevelInverse) {
  auto tok = parse(hand_built());
  EXPECT_EQ(tok->decode({7, 4, 7, 3, 5}), "abc abcd!");
  EXPECT_EQ(tok->decode({12, 6}), "<|bos|>ab");
  EXPECT_THROW(tok->decode({99}), DataError);
  EXPECT_THROW(tok->decode({-1}), DataError);
}

class TinyTokenizer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string corpus;
    for (int i = 0; i < 20; ++i) {
      corpus += "Stanley TRA708T Sharpshooter 1/2-Inch Leg Length Staples, Steel (1000 Count). ";
      corpus += "The quick brown fox doesn't jump; it's lazy. Café crème, naïve résumé. 日本語のテキスト 😀\n";
    }
    corpus_ = new std::string(corpus);
    auto dir = std::filesystem::temp_directory_path() / "llmsrec_tiny_tokenizer_test";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "tokenizer.json") << make_tiny_tokenizer_json(corpus, 100);
    tok_ = load_tokenizer(dir.string()).release();
  }
  static void TearDownTestSuite() {
    delete tok_;
    delete corpus_;
  }
  static Tokenizer* tok_;
  static std::string* corpus_;
};
Tokenizer* TinyTokenizer::tok_ = nullptr;
std::string* TinyTokenizer::corpus_ = nullptr;

TEST_F(TinyTokenizer, LayoutAndSpecials) {
  EXPECT_EQ(tok_->vocab_size(), 256 + 100 + 2);
  EXPECT_EQ(tok_->bos_id(), 356);
  EXPECT_EQ(tok_->eos_id(), 357);
  EXPECT_EQ(tok_->token_to_id("<|begin_of_text|>"), 356);
  Ids ids = tok_->encode("hi<|end_of_text|>", true);
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids.front(), 356);
  EXPECT_EQ(ids.back(), 357);
}

TEST_F(TinyTokenizer, MergesCompressTheTrainingText) {
  const std::string line = "Stanley TRA708T Sharpshooter 1/2-Inch Leg Length Staples, Steel (1000 Count). ";
  EXPECT_LT(tok_->encode(line, false).size(), line.size() / 2);
}

TEST_F(TinyTokenizer, RoundTrips) {
  const std::vector<std::string> texts = {
      "Hello, world! It's 12345678 o'clock.",
      "Café crème brûlée, naïve résumé, Ærøskøbing",
      "日本語のテキストと中文文本，한국어",
      "emoji 😀👍🏽 family 👩‍👩‍👧 flags 🇯🇵",
      "  leading, trailing and   inner   runs \t\t\n\n\r\n  ",
      "\n\n\n",
      "x<|begin_of_text|>y <|end_of_text|> z<|begin_of_text|>",
      "",
      std::string("bytes \xff\xfe that are not UTF-8 \xc3"),
  };
  for (const auto& t : texts) {
    EXPECT_EQ(tok_->decode(tok_->encode(t, false)), t) << t;
    Ids with_bos = tok_->encode(t, true);
    ASSERT_FALSE(with_bos.empty());
    EXPECT_EQ(with_bos[0], tok_->bos_id());
  }
}

TEST_F(TinyTokenizer, TrainingIsDeterministic) {
  EXPECT_EQ(make_tiny_tokenizer_json(*corpus_, 50), make_tiny_tokenizer_json(*corpus_, 50));
}

// ------------------------------------------------------------ malformed files

std::string error_of(const std::string& text) {
  try {
    parse_bpe_tokenizer(text, "bad/tokenizer.json");
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no DataError)";
}

TEST(BpeTokenizerErrors, NameTheFileAndTheProblem) {
  auto with = [](auto edit) {
    json j = hand_built();
    edit(j);
    return error_of(j.dump());
  };
  struct Case {
    std::string error, expected;
  };
  const std::vector<Case> cases = {
      {error_of("{\"model\": "), "not valid JSON"},
      {error_of("[1, 2]"), "top level must be a JSON object"},
      {error_of("{}"), "missing 'model'"},
      {with([](json& j) { j["model"]["type"] = "WordPiece"; }), "unsupported model type \"WordPiece\""},
      {with([](json& j) { j["model"].erase("vocab"); }), "missing 'vocab'"},
      {with([](json& j) { j["model"]["vocab"] = json::array(); }), "'vocab' must be an object"},
      {with([](json& j) { j["model"]["vocab"]["a"] = "zero"; }), "token id must be an integer"},
      {with([](json& j) { j["model"]["vocab"]["a"] = -3; }), "out of range"},
      {with([](json& j) { j["model"]["vocab"]["zz"] = 1; }), "id 1 used twice"},
      {with([](json& j) { j["model"]["merges"] = "a b"; }), "'merges' must be an array"},
      {with([](json& j) { j["model"]["merges"].push_back(json::array({"a", "q"})); }), "token \"q\" is not in the vocab"},
      {with([](json& j) { j["model"]["merges"].push_back(json::array({"d", "d"})); }), "merged token \"dd\" is not in the vocab"},
      {with([](json& j) { j["model"]["merges"].push_back("abc"); }), "is not two tokens"},
      {with([](json& j) { j["model"]["merges"].push_back(7); }), "model.merges[6]"},
      {with([](json& j) { j["added_tokens"][0]["content"] = 5; }), "'content' must be a string"},
      {with([](json& j) { j["added_tokens"] = json::object(); }), "added_tokens: must be an array"},
      {with([](json& j) { j["pre_tokenizer"] = {{"type", "Whitespace"}}; }), "unsupported pre_tokenizer type 'Whitespace'"},
      {with([](json& j) { j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}}; }), "regex does not compile"},
      {with([](json& j) { j["normalizer"] = {{"type", "BertNormalizer"}}; }), "unsupported normalizer type"},
      {with([](json& j) { j["decoder"] = {{"type", 3}}; }), "missing string 'type'"},
      {with([](json& j) { j["post_processor"]["special_tokens"]["<|bos|>"]["ids"] = {99}; }), "has no id in the vocab"},
  };
  for (const auto& c : cases) {
    EXPECT_NE(c.error.find("bad/tokenizer.json"), std::string::npos) << c.error;
    EXPECT_NE(c.error.find(c.expected), std::string::npos) << "expected '" << c.expected << "' in: " << c.error;
  }
}

TEST(BpeTokenizerErrors, MissingFileIsIoError) {
  EXPECT_THROW(load_tokenizer("/nonexistent/dir/tokenizer.json"), llmsrec::IoError);
  auto empty = std::filesystem::temp_directory_path() / "llmsrec_tokenizer_empty_dir";
  std::filesystem::create_directories(empty);
  EXPECT_THROW(load_tokenizer(empty.string()), llmsrec::IoError);
}

}  // namespace
