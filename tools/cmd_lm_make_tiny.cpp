// `llmsrec lm make-tiny OUTDIR --seed S [...]`: a random LLaMA in HF format.
#include <CLI/CLI.hpp>

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
  }
  nlohmann::json run() override {
    auto cfg = llmsrec::models::llama::write_tiny_llama(outdir_, o_);
    return {{"outdir", outdir_}, {"config", llmsrec::models::llama::llama_config_to_json(cfg)}};
  }

 private:
  std::string outdir_;
  llmsrec::models::llama::TinyLlamaOptions o_;
};

}  // namespace

LLMSREC_REGISTER_COMMAND(LmMakeTinyCommand, "lm make-tiny", "write a random LLaMA in HF format (tests, demo)")
