// checkpoint::resolve_hf_model_dir / hf_model_file: the one resolver of a
// Hugging Face model directory that the config, weight and tokenizer loaders use.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "checkpoint/hf_model_dir.h"
#include "core/error.h"

namespace llmsrec::checkpoint {
namespace {

namespace fs = std::filesystem;

class HfModelDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("llmsrec_hf_dir_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void touch(const char* name) { std::ofstream(dir_ / name) << "{}"; }
  fs::path dir_;
};

TEST_F(HfModelDir, FindsEachFileAndPrefersTheShardIndex) {
  touch("config.json");
  touch("model.safetensors");
  touch("tokenizer.model");
  HfModelFiles f = resolve_hf_model_dir(dir_.string());
  EXPECT_EQ(f.config, (dir_ / "config.json").string());
  EXPECT_EQ(f.weights, (dir_ / "model.safetensors").string());
  EXPECT_FALSE(f.sharded);
  EXPECT_EQ(f.tokenizer, (dir_ / "tokenizer.model").string());
  touch("model.safetensors.index.json");
  touch("tokenizer.json");
  f = resolve_hf_model_dir(dir_.string());
  EXPECT_EQ(f.weights, (dir_ / "model.safetensors.index.json").string());
  EXPECT_TRUE(f.sharded);
  EXPECT_EQ(f.tokenizer, (dir_ / "tokenizer.json").string()) << "tokenizer.json wins over tokenizer.model";
}

TEST_F(HfModelDir, MissingFilesAreNamed) {
  touch("config.json");
  try {
    hf_model_file(dir_.string(), "weights");
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("model.safetensors"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(dir_.string()), std::string::npos) << e.what();
  }
  EXPECT_THROW(hf_model_file(dir_.string(), "tokenizer"), IoError);
  EXPECT_EQ(hf_model_file(dir_.string(), "config"), (dir_ / "config.json").string());
}

TEST_F(HfModelDir, AFilePassesThroughAndANonDirectoryIsAnError) {
  touch("model.safetensors");
  const std::string file = (dir_ / "model.safetensors").string();
  EXPECT_EQ(hf_model_file(file, "weights"), file);
  EXPECT_THROW(hf_model_file((dir_ / "nope").string(), "weights"), IoError);
  EXPECT_THROW(resolve_hf_model_dir(file), IoError);
}

}  // namespace
}  // namespace llmsrec::checkpoint
