// `llmsrec train`: LLM-SRec training under mpirun/srun (or alone).
#include <CLI/CLI.hpp>

#include "cluster/run_context.h"
#include "core/progress.h"
#include "app/fail_fast.h"
#include "app/run_config.h"
#include "tools/command.h"
#include "trainer/llmsrec_train.h"

namespace {

class TrainCommand : public llmsrec::tools::Command {
 public:
  void add_options(CLI::App& app) override {
    add_config_options(app);
    app.add_flag("--resume", resume_, "continue from run.dir/latest (exactly: same parameters as an uninterrupted run)");
  }
  nlohmann::json run() override {
    auto cfg = load_config();
    auto ctx = llmsrec::app::create_run_context(cfg);  // Collective
    // An error on one rank ends the whole job fast, with its cause (app/fail_fast.h).
    return llmsrec::app::fail_fast(*ctx, common.json, [&]() -> nlohmann::json {
      llmsrec::core::TerminalProgress progress;
      llmsrec::trainer::TrainOptions opt;
      opt.resume = resume_;
      if (ctx->rank() == 0) opt.progress = &progress;
      return llmsrec::trainer::train_llmsrec(llmsrec::app::llmsrec_sections(cfg), *ctx, opt);
    });
  }

 private:
  bool resume_ = false;
};

}  // namespace

LLMSREC_REGISTER_COMMAND(TrainCommand, "train",
                         "train LLM-SRec (heads + output tokens) on dataset.h5 + targets.h5; run under mpirun for data parallel")
