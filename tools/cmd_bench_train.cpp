// `llmsrec bench train`: training throughput (tokens/s through the LLM) and the
// step time split (data, LLM forward, heads, backward, all-reduce, optimizer,
// I/O) over N real training steps: no validation, no checkpoints.
// Run it under mpirun to include the all-reduce across ranks. Phases that hold
// a collective (heads_and_loss with global uniformity, allreduce) include the
// wait for the slowest rank. MFU = model FLOPs per second (trainer/model_flops.h)
// over the peak: the GEMM rate measured in the same run (CPU: the model's
// gate/up GEMM shape; CUDA: a large square GEMM) or --peak-tflops.
#include <algorithm>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cluster/run_context.h"
#include "core/error.h"
#include "core/progress.h"
#include "app/fail_fast.h"
#include "app/run_config.h"
#include "tools/command.h"
#include "trainer/gemm_rate.h"
#include "trainer/llmsrec_train.h"

namespace {

class BenchTrainCommand : public llmsrec::tools::Command {
 public:
  void add_options(CLI::App& app) override {
    add_config_options(app);
    app.add_option("--steps", steps_, "training steps to time (after --warmup)")->check(CLI::PositiveNumber);
    app.add_option("--warmup", warmup_, "untimed steps first (allocator and caches warm up)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--peak-tflops", peak_tflops_,
                   "the device's peak in the compute dtype, TFLOP/s (default: measured now, see below)")
        ->check(CLI::PositiveNumber);
    app.footer(
        "JSON fields: ms_per_step, llm_tokens_per_step, model_flops_per_step (the frozen LLM's forward over every\n"
        "prompt row plus its backward to the inputs, counted from the model's shapes: per layer and row the q/k/v,\n"
        "o, gate/up and down GEMMs at 2 FLOPs per multiply-add, causal attention at i+1 keys for row i; the\n"
        "backward skips each prompt's constant text prefix and has no weight gradients), achieved_flops_per_s,\n"
        "peak_flops_per_s (the GEMM rate measured in this run: on CPU a [2048, D] x [D, 2I] matmul in the compute\n"
        "dtype, on CUDA an 8192^3 matmul; or --peak-tflops), mfu = achieved / peak, and the per-phase split.");
  }
  nlohmann::json run() override {
    auto cfg = load_config();
    auto ctx = llmsrec::app::create_run_context(cfg);  // Collective
    // An error on one rank ends the whole job fast, with its cause (app/fail_fast.h).
    return llmsrec::app::fail_fast(*ctx, common.json, [&]() -> nlohmann::json {
      llmsrec::core::TerminalProgress progress;
      llmsrec::trainer::TrainOptions opt;
      opt.bench = true;
      opt.bench_warmup_steps = warmup_;
      if (ctx->rank() == 0) opt.progress = &progress;
      cfg.train.max_steps = warmup_ + steps_;
      nlohmann::json s = llmsrec::trainer::train_llmsrec(llmsrec::app::llmsrec_sections(cfg), *ctx, opt);
      nlohmann::json prof = s.at("step_profile");
      const int64_t d = s.at("llm_hidden_size"), inter = s.at("llm_intermediate_size");
      const c10::ScalarType dtype = ctx->compute_dtype();
      const bool measured = peak_tflops_ <= 0;
      const double peak = measured ? (ctx->on_cuda() ? llmsrec::trainer::measure_gemm_flops_per_s(ctx->device(), dtype,
                                                                                                8192, 8192, 8192)
                                                     : llmsrec::trainer::measure_gemm_flops_per_s(ctx->device(), dtype,
                                                                                                2048, d, 2 * inter))
                                   : peak_tflops_ * 1e12;
      const double steps = std::max<double>(1, prof["steps"].get<double>());
      prof["ms_per_step"] = prof["step_ms"];
      prof["llm_tokens_per_step"] = prof["tokens"].get<double>() / steps;
      prof["peak_flops_per_s"] = peak;
      prof["peak_source"] = measured ? (ctx->on_cuda() ? "measured 8192^3 GEMM" : "measured model-shape GEMM")
                                     : "--peak-tflops";
      prof["mfu"] = prof["achieved_flops_per_s"].get<double>() / peak;
      prof["device"] = ctx->device_name();
      prof["compute_dtype"] = c10::toString(dtype);
      prof["ranks"] = ctx->size();
      prof["per_rank_batch"] = cfg.train.batch;
      prof["tokens_per_s_global"] = prof["tokens_per_s"].get<double>() * ctx->size();
      prof["warmup_steps"] = warmup_;
      prof["rank"] = ctx->rank();
      return prof;
    });
  }
  void print_human(const nlohmann::json& s) override {
    if (s["rank"].get<int>() != 0) return;  // one table per job (rank 0's split; --json gives each rank's)
    std::cout << fmt::format("{} timed steps on {} rank(s), per-rank batch {}: {:.1f} ms/step, {:.0f} tokens/s per rank, "
                             "{:.0f} tokens/s in all\n",
                             s["steps"].get<int64_t>(), s["ranks"].get<int>(), s["per_rank_batch"].get<int64_t>(),
                             s["step_ms"].get<double>(), s["tokens_per_s"].get<double>(),
                             s["tokens_per_s_global"].get<double>());
    std::cout << fmt::format("{} {}: {:.3g} model GFLOP/step, {:.1f} GFLOP/s achieved, peak {:.1f} GFLOP/s ({}): MFU "
                             "{:.3f}\n",
                             s["device"].get<std::string>(), s["compute_dtype"].get<std::string>(),
                             s["model_flops_per_step"].get<double>() / 1e9, s["achieved_flops_per_s"].get<double>() / 1e9,
                             s["peak_flops_per_s"].get<double>() / 1e9, s["peak_source"].get<std::string>(),
                             s["mfu"].get<double>());
    std::cout << fmt::format("{:<16} {:>12} {:>8}\n", "phase", "ms/step", "share");
    for (const auto& p : s["phases"]) {
      std::cout << fmt::format("{:<16} {:>12.2f} {:>7.1f}%\n", p["phase"].get<std::string>(),
                               p["ms_per_step"].get<double>(), 100.0 * p["share"].get<double>());
    }
  }

 private:
  int64_t steps_ = 20, warmup_ = 2;
  double peak_tflops_ = 0;
};

}  // namespace

LLMSREC_REGISTER_COMMAND(BenchTrainCommand, "bench train",
                         "training tokens/s and the step time split over N real steps (run under mpirun for all-reduce)")
