// `llmsrec lm generate DIR --ids 1,2,3 --steps N`: greedy generation with top-5 logits per position.
#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>

#include "core/run_config.h"
#include "models/llama/generate.h"
#include "tools/command.h"

namespace {

class LmGenerateCommand : public llmsrec::tools::Command {
 public:
  void add_options(CLI::App& app) override {
    add_config_options(app);
    app.add_option("model", dir_, "HF model directory")->required();
    app.add_option("--ids", ids_, "prompt token ids, comma-separated (e.g. 1,403,407)")->required();
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
    auto g = greedy_generate(model, parse_id_list(ids_), steps_, stop_ids_);
    nlohmann::json top5 = nlohmann::json::array();
    for (const auto& row : g.top5) {
      nlohmann::json r = nlohmann::json::array();
      for (const auto& t : row) r.push_back({{"id", t.id}, {"logit", t.logit}});
      top5.push_back(r);
    }
    return {{"prompt_ids", g.prompt_ids}, {"generated_ids", g.generated_ids}, {"stopped_by", g.stopped_by},
            {"top5", top5}};
  }

 private:
  std::string dir_, ids_, dtype_;
  int64_t steps_ = 16;
  std::vector<int64_t> stop_ids_;
};

}  // namespace

LLMSREC_REGISTER_COMMAND(LmGenerateCommand, "lm generate", "greedy generation from token ids (parity checks)")
