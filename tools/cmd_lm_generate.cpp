// `llmsrec lm generate DIR (--prompt TEXT | --ids 1,2,3) --steps N`: greedy generation with
// top-5 logits per position.
#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>

#include "app/run_config.h"
#include "core/error.h"
#include "models/llama/generate.h"
#include "models/llama/tokenizer.h"
#include "tools/command.h"

namespace {

class LmGenerateCommand : public llmsrec::tools::Command {
 public:
  void add_options(CLI::App& app) override {
    add_config_options(app);
    app.add_option("model", dir_, "HF model directory")->required();
    auto* ids = app.add_option("--ids", ids_, "prompt token ids, comma-separated (e.g. 1,403,407)");
    app.add_option("--prompt", prompt_, "prompt text, tokenized with the model directory's tokenizer (BOS added)")
        ->excludes(ids);
    app.add_option("--steps", steps_, "tokens to generate at most")->capture_default_str();
    app.add_option("--stop-at", stop_ids_, "stop (without emitting it) when the argmax is this id (repeatable)");
    app.add_option("--dtype", dtype_, "compute dtype fp32|bf16 (default: llm.dtype)");
  }
  nlohmann::json run() override {
    using namespace llmsrec::models::llama;
    auto cfg = load_config();
    if (cfg.run.threads > 0) at::set_num_threads(static_cast<int>(cfg.run.threads));
    if (!dtype_.empty()) cfg.llm.dtype = dtype_;
    auto model = LlamaModel::load(dir_, llama_options(cfg.llm));
    std::unique_ptr<Tokenizer> tok;
    std::vector<int64_t> prompt_ids;
    if (!prompt_.empty()) {
      tok = load_tokenizer(dir_);
      for (int32_t id : tok->encode(prompt_, /*add_bos=*/true)) prompt_ids.push_back(id);
    } else if (!ids_.empty()) {
      prompt_ids = parse_id_list(ids_);
    } else {
      throw llmsrec::ConfigError("lm generate: give --prompt TEXT or --ids 1,2,3");
    }
    auto g = greedy_generate(model, prompt_ids, steps_, stop_ids_);
    nlohmann::json top5 = nlohmann::json::array();
    for (const auto& row : g.top5) {
      nlohmann::json r = nlohmann::json::array();
      for (const auto& t : row) r.push_back({{"id", t.id}, {"logit", t.logit}});
      top5.push_back(r);
    }
    nlohmann::json out = {{"prompt_ids", g.prompt_ids}, {"generated_ids", g.generated_ids},
                          {"stopped_by", g.stopped_by}, {"top5", top5}};
    if (tok) {
      // Generated pieces may split a UTF-8 sequence: replace invalid bytes with U+FFFD.
      const std::string text = tok->decode(std::vector<int32_t>(g.generated_ids.begin(), g.generated_ids.end()));
      out["generated_text"] = nlohmann::json::parse(
          nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    return out;
  }

 private:
  std::string dir_, ids_, prompt_, dtype_;
  int64_t steps_ = 16;
  std::vector<int64_t> stop_ids_;
};

}  // namespace

LLMSREC_REGISTER_COMMAND(LmGenerateCommand, "lm generate", "greedy generation from token ids (parity checks)")
