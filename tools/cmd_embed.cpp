// `llmsrec embed`: hidden states of every item and user of a trained LLM-SRec
// -> hidden.h5 (docs/hidden_h5.md). Runs under mpirun like train and eval.
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cluster/run_context.h"
#include "core/progress.h"
#include "app/fail_fast.h"
#include "app/run_config.h"
#include "tools/command.h"
#include "trainer/llmsrec_embed.h"
#include "trainer/llmsrec_setup.h"

namespace {

class EmbedCommand : public llmsrec::tools::Command {
 public:
  void add_options(CLI::App& app) override {
    add_config_options(app);
    app.add_option("--checkpoint", checkpoint_, "checkpoint file (default: run.dir/latest)");
    app.add_flag("--last", last_, "use the last weights instead of the best-by-validation ones");
    app.add_option("--output", output_, "output file (default: embed.output under run.dir, hidden.h5)");
    app.add_option("--batch", batch_, "prompts per LLM forward (default: embed.batch)");
  }
  nlohmann::json run() override {
    auto cfg = load_config();
    auto ctx = llmsrec::app::create_run_context(cfg);  // Collective
    // An error on one rank ends the whole job fast, with its cause (app/fail_fast.h).
    return llmsrec::app::fail_fast(*ctx, common.json, [&]() -> nlohmann::json {
      auto setup = llmsrec::trainer::load_llmsrec(llmsrec::app::llmsrec_sections(cfg), *ctx);
      llmsrec::trainer::EmbedOptions opt;
      opt.checkpoint = llmsrec::trainer::load_trained(setup, llmsrec::app::llmsrec_sections(cfg), checkpoint_, !last_);
      opt.weights = llmsrec::trainer::weights_used(opt.checkpoint, !last_);
      opt.output = output_.empty() ? cfg.run.output_path(cfg.embed.output) : output_;
      opt.batch = batch_ > 0 ? batch_ : cfg.embed.batch;
      opt.chunk_rows = static_cast<uint64_t>(cfg.embed.chunk_rows);
      opt.queue_blocks = cfg.embed.queue_blocks;
      opt.dataset = std::filesystem::absolute(cfg.run.output_path(cfg.train.dataset)).string();
      opt.config_yaml = cfg.run.resolved_yaml;
      llmsrec::core::TerminalProgress progress;
      if (ctx->rank() == 0) opt.progress = &progress;
      return llmsrec::trainer::embed_hidden(setup, ctx->host_comm(), opt);  // Collective
    });
  }
  void print_human(const nlohmann::json& s) override {
    std::cout << fmt::format("wrote {} ({} items + {} users, {:.1f} MB) in {:.1f}s: {:.1f} rows/s on {} rank(s)\n",
                             s["output"].get<std::string>(), s["items"].get<int64_t>(), s["users"].get<int64_t>(),
                             s["bytes"].get<int64_t>() / 1e6, s["seconds"].get<double>(), s["rows_per_s"].get<double>(),
                             s["world_size"].get<int>());
  }

 private:
  std::string checkpoint_, output_;
  int64_t batch_ = 0;
  bool last_ = false;
};

}  // namespace

LLMSREC_REGISTER_COMMAND(EmbedCommand, "embed",
                         "hidden states of every item and user of a trained LLM-SRec -> hidden.h5; run under mpirun")
