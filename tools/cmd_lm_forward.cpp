// `llmsrec lm forward DIR --ids 1,2,3`: final-norm hidden states and logits of one sequence.
#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>

#include "app/run_config.h"
#include "models/llama/generate.h"
#include "tools/command.h"

namespace {

class LmForwardCommand : public llmsrec::tools::Command {
 public:
  void add_options(CLI::App& app) override {
    add_config_options(app);
    app.add_option("model", dir_, "HF model directory")->required();
    app.add_option("--ids", ids_, "token ids, comma-separated")->required();
    app.add_option("--dtype", dtype_, "compute dtype fp32|bf16 (default: llm.dtype)");
  }
  nlohmann::json run() override {
    using namespace llmsrec::models::llama;
    auto cfg = load_config();
    if (cfg.run.threads > 0) at::set_num_threads(static_cast<int>(cfg.run.threads));
    if (!dtype_.empty()) cfg.llm.dtype = dtype_;
    auto model = LlamaModel::load(dir_, llama_options(cfg.llm));
    auto out = forward_ids(model, parse_id_list(ids_));
    return {{"hidden", out.hidden}, {"logits", out.logits}};
  }

 private:
  std::string dir_, ids_, dtype_;
};

}  // namespace

LLMSREC_REGISTER_COMMAND(LmForwardCommand, "lm forward", "final-norm hidden states and logits for token ids")
