// `llmsrec bench train`: training throughput (tokens/s through the LLM) and the
// step time split (data, LLM forward, heads, backward, all-reduce, optimizer,
// I/O) over N real training steps: no validation, no checkpoints.
// Run it under mpirun to include the all-reduce across ranks. Phases that hold
// a collective (heads_and_loss with global uniformity, allreduce) include the
// wait for the slowest rank.
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cluster/cluster_context.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/run_config.h"
#include "tools/command.h"
#include "trainer/llmsrec_train.h"

namespace {

class BenchTrainCommand : public llmsrec::tools::Command {
 public:
  void add_options(CLI::App& app) override {
    add_config_options(app);
    app.add_option("--steps", steps_, "training steps to time (after --warmup)")->check(CLI::PositiveNumber);
    app.add_option("--warmup", warmup_, "untimed steps first (allocator and caches warm up)")
        ->check(CLI::NonNegativeNumber);
  }
  nlohmann::json run() override {
    auto cfg = load_config();
    auto ctx = llmsrec::cluster::ClusterContext::create(cfg);  // Collective
    llmsrec::core::TerminalProgress progress;
    llmsrec::trainer::TrainOptions opt;
    opt.bench = true;
    opt.bench_warmup_steps = warmup_;
    if (ctx->rank() == 0) opt.progress = &progress;
    cfg.train.max_steps = warmup_ + steps_;
    nlohmann::json s = llmsrec::trainer::train_llmsrec(cfg, *ctx, opt);
    nlohmann::json prof = s.at("step_profile");
    prof["ranks"] = ctx->size();
    prof["per_rank_batch"] = cfg.train.batch;
    prof["tokens_per_s_global"] = prof["tokens_per_s"].get<double>() * ctx->size();
    prof["warmup_steps"] = warmup_;
    prof["rank"] = ctx->rank();
    return prof;
  }
  void print_human(const nlohmann::json& s) override {
    if (s["rank"].get<int>() != 0) return;  // one table per job (rank 0's split; --json gives each rank's)
    std::cout << fmt::format("{} timed steps on {} rank(s), per-rank batch {}: {:.1f} ms/step, {:.0f} tokens/s per rank, "
                             "{:.0f} tokens/s in all\n",
                             s["steps"].get<int64_t>(), s["ranks"].get<int>(), s["per_rank_batch"].get<int64_t>(),
                             s["step_ms"].get<double>(), s["tokens_per_s"].get<double>(),
                             s["tokens_per_s_global"].get<double>());
    std::cout << fmt::format("{:<16} {:>12} {:>8}\n", "phase", "ms/step", "share");
    for (const auto& p : s["phases"]) {
      std::cout << fmt::format("{:<16} {:>12.2f} {:>7.1f}%\n", p["phase"].get<std::string>(),
                               p["ms_per_step"].get<double>(), 100.0 * p["share"].get<double>());
    }
  }

 private:
  int64_t steps_ = 20, warmup_ = 2;
};

}  // namespace

LLMSREC_REGISTER_COMMAND(BenchTrainCommand, "bench train",
                         "training tokens/s and the step time split over N real steps (run under mpirun for all-reduce)")
