// SentencePiece tokenizer.model through the libllmsrec_spm.so plugin, inside
// this binary that also links libtorch (the combination that crashes when
// libsentencepiece is linked directly). A tiny model is trained at test time
// with `spm_train`, and our ids are compared with `spm_encode`'s.
#include <gtest/gtest.h>
#include <link.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/error.h"
#include "models/llama/sentencepiece_tokenizer.h"
#include "models/llama/tokenizer.h"

namespace {

namespace fs = std::filesystem;
namespace llama = llmsrec::models::llama;

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  return pclose(p) == 0 ? out : std::string("FAILED: ") + out;
}

bool loaded(const char* needle) {
  struct Ctx {
    const char* needle;
    bool found;
  } ctx{needle, false};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* c = static_cast<Ctx*>(data);
        if (info->dlpi_name && std::strstr(info->dlpi_name, c->needle)) c->found = true;
        return 0;
      },
      &ctx);
  return ctx.found;
}

class SentencePiece : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (run("command -v spm_train spm_encode >/dev/null && echo ok") != "ok\n") return;  // skipped: no tools
    tools_ = true;
    dir_ = new fs::path(fs::temp_directory_path() / "llmsrec_spm_test");
    fs::create_directories(*dir_);
    std::ofstream corpus(*dir_ / "corpus.txt");
    for (int i = 0; i < 50; ++i) {
      corpus << "Once upon a time there was a little robot named Bolt number " << i << ".\n"
             << "Café crème and naïve résumé, 日本語のテキスト, emoji 😀.\n"
             << "The quick brown fox jumps over the lazy dog; it's fine.\n";
    }
    corpus.close();
    std::string log = run("cd " + dir_->string() +
                          " && spm_train --input=corpus.txt --model_prefix=tok --vocab_size=700 --hard_vocab_limit=false --model_type=bpe"
                          " --byte_fallback=true --character_coverage=1.0 --minloglevel=2 2>&1");
    if (!fs::exists(*dir_ / "tok.model")) {
      train_error_ = new std::string(log);  // the tools are there but failed: a failure, not a skip
      return;
    }
    fs::rename(*dir_ / "tok.model", *dir_ / "tokenizer.model");
  }
  void SetUp() override {
    if (!tools_) GTEST_SKIP() << "spm_train/spm_encode not available (apt-get install sentencepiece)";
    if (train_error_) FAIL() << "spm_train failed: " << *train_error_;
    ASSERT_TRUE(fs::exists(*dir_ / "tokenizer.model"));
  }
  static fs::path* dir_;
  static bool tools_;
  static std::string* train_error_;
};
fs::path* SentencePiece::dir_ = nullptr;
bool SentencePiece::tools_ = false;
std::string* SentencePiece::train_error_ = nullptr;

TEST_F(SentencePiece, PluginLoadsBesideLibtorch) {
  auto tok = llama::load_tokenizer(dir_->string());
  EXPECT_GT(tok->vocab_size(), 256 + 3);  // byte pieces + unk, <s>, </s>
  EXPECT_FALSE(llama::sentencepiece_plugin_path().empty());
  // The plugin's point: this process also holds libtorch's protobuf.
  std::printf("plugin %s; libtorch loaded: %d, libprotobuf loaded: %d\n", llama::sentencepiece_plugin_path().c_str(),
              loaded("libtorch"), loaded("libprotobuf"));
}

TEST_F(SentencePiece, MatchesSpmEncode) {
  auto tok = llama::load_tokenizer((*dir_ / "tokenizer.model").string());
  const std::vector<std::string> texts = {"Once upon a time there was a robot.", "Café naïve résumé",
                                          "日本語 and 😀 emoji", "  spaces   inside  ", "unseen words: zyxwvut 42"};
  std::ofstream(*dir_ / "input.txt") << [&] {
    std::string all;
    for (const auto& t : texts) all += t + "\n";
    return all;
  }();
  std::istringstream reference(run("spm_encode --model=" + (*dir_ / "tokenizer.model").string() +
                                   " --output_format=id < " + (*dir_ / "input.txt").string()));
  for (const auto& t : texts) {
    std::string line;
    ASSERT_TRUE(std::getline(reference, line)) << "spm_encode gave fewer lines than inputs";
    std::vector<int32_t> expected;
    std::istringstream ids(line);
    for (int32_t id; ids >> id;) expected.push_back(id);
    EXPECT_EQ(tok->encode(t, false), expected) << t;
    // SentencePiece collapses whitespace runs by default; elsewhere decode inverts encode.
    if (t.find("  ") == std::string::npos) EXPECT_EQ(tok->decode(tok->encode(t, true)), t);
  }
}

TEST_F(SentencePiece, BosAndControlTokensInText) {
  auto tok = llama::load_tokenizer(dir_->string());
  ASSERT_EQ(tok->bos_id(), 1);
  ASSERT_EQ(tok->eos_id(), 2);
  auto plain = tok->encode("robot", false);
  auto with_bos = tok->encode("robot", true);
  ASSERT_EQ(with_bos.size(), plain.size() + 1);
  EXPECT_EQ(with_bos[0], 1);
  auto inside = tok->encode("robot</s>robot", false);
  EXPECT_NE(std::find(inside.begin(), inside.end(), 2), inside.end());
  EXPECT_EQ(tok->token_to_id("</s>"), 2);
  EXPECT_EQ(tok->token_to_id("no-such-piece"), -1);
}

TEST_F(SentencePiece, InvalidModelIsDataError) {
  std::ofstream(*dir_ / "broken.model") << "this is not a protobuf";
  EXPECT_THROW(llama::load_tokenizer((*dir_ / "broken.model").string()), llmsrec::DataError);
}

}  // namespace
