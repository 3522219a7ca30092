// `llmsrec lm make-tiny OUTDIR --seed S [...]`: a random LLaMA in HF format.
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/error.h"
#include "data/dataset.h"
#include "models/prompt/prompt_config.h"

#include "models/llama/tiny_llama.h"
#include "tools/command.h"

namespace {

class LmMakeTinyCommand : public llmsrec::tools::Command {
 public:
  void add_options(CLI::App& app) override {
    app.add_option("outdir", outdir_, "output HF model directory")->required();
    app.add_option("--seed", o_.seed, "random seed (same seed = same bytes)")->required();
    app.add_option("--dim", o_.dim, "hidden size")->capture_default_str();
    app.add_option("--layers", o_.layers, "decoder layers")->capture_default_str();
    app.add_option("--heads", o_.heads, "attention heads")->capture_default_str();
    app.add_option("--kv-heads", o_.kv_heads, "key/value heads (GQA)")->capture_default_str();
    app.add_option("--vocab", o_.vocab, "vocabulary size (with the tokenizer: its target size)")->capture_default_str();
    app.add_option("--hidden-dim", o_.hidden_dim, "MLP intermediate size")->capture_default_str();
    app.add_option("--max-pos", o_.max_pos, "max_position_embeddings")->capture_default_str();
    app.add_option("--rope-theta", o_.rope_theta, "RoPE base")->capture_default_str();
    app.add_flag("--tie-embeddings", o_.tie_embeddings, "share lm_head with the token embeddings");
    app.add_flag("--qkv-bias", o_.attention_bias, "q/k/v biases (writes a Qwen2ForCausalLM)");
    app.add_flag("!--no-tokenizer", o_.with_tokenizer, "skip tokenizer.json (vocab exactly --vocab)");
    app.add_option("--corpus", corpus_file_, "text file the tokenizer also learns merges from");
    app.add_option("--corpus-from", corpus_dataset_,
                   "dataset.h5 whose item titles (and the default prompt templates) the tokenizer learns from");
  }
  nlohmann::json run() override {
    if (!corpus_file_.empty()) {
      std::ifstream in(corpus_file_);
      if (!in) throw llmsrec::IoError(fmt::format("--corpus '{}': cannot open", corpus_file_));
      std::stringstream ss;
      ss << in.rdbuf();
      o_.extra_corpus += ss.str();
    }
    if (!corpus_dataset_.empty()) {
      llmsrec::data::Dataset ds = llmsrec::data::load_dataset(corpus_dataset_);
      llmsrec::models::prompt::PromptConfig prompt;  // the templates' fixed text recurs in every prompt
      o_.extra_corpus += prompt.user_prefix + prompt.history_entry + prompt.user_suffix + prompt.item + "\n";
      for (size_t i = 1; i < ds.item_titles.size(); ++i) o_.extra_corpus += ds.item_titles[i] + "\n";
    }
    auto cfg = llmsrec::models::llama::write_tiny_llama(outdir_, o_);
    return {{"outdir", outdir_}, {"config", llmsrec::models::llama::llama_config_to_json(cfg)}};
  }

 private:
  std::string outdir_, corpus_file_, corpus_dataset_;
  llmsrec::models::llama::TinyLlamaOptions o_;
};

}  // namespace

LLMSREC_REGISTER_COMMAND(LmMakeTinyCommand, "lm make-tiny", "write a random LLaMA in HF format (tests, demo)")
