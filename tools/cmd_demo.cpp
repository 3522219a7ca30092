// `llmsrec demo`: the whole pipeline on generated data and a tiny LLaMA.
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "launcher/demo_pipeline.h"
#include "tools/command.h"

namespace {

class DemoCommand : public llmsrec::tools::Command {
 public:
  void add_options(CLI::App& app) override {
    app.add_option("--ranks", opt_.ranks, "training ranks (mpirun -np)")->capture_default_str();
    app.add_option("--dir", opt_.run_dir, "output directory")->capture_default_str();
    app.add_option("--set", opt_.overrides, "override a config key in every stage (repeatable)")->take_all();
  }
  nlohmann::json run() override { return llmsrec::launcher::run_demo(opt_); }

  void print_human(const nlohmann::json& s) override {
    auto row = [](const std::string& name, const nlohmann::json& m) {
      std::cout << fmt::format("{:<44} {:>8.4f} {:>8.4f} {:>8.4f} {:>8.4f}\n", name, m["ndcg@10"].get<double>(),
                               m["hr@10"].get<double>(), m["ndcg@20"].get<double>(), m["hr@20"].get<double>());
    };
    std::cout << fmt::format("\nllmsrec demo: {} users, {} items (synthetic), test split, outputs in {}\n",
                             s["prepare"]["users"].get<int64_t>(), s["prepare"]["items"].get<int64_t>(),
                             s["run_dir"].get<std::string>());
    std::cout << fmt::format("{:<44} {:>8} {:>8} {:>8} {:>8}\n", "model / protocol", "NDCG@10", "HR@10", "NDCG@20",
                             "HR@20");
    row("SASRec teacher (fixed 99 negatives)", s["teacher"]["test"]);
    row("LLM-SRec, tiny LLaMA (fixed 99 negatives)", s["eval"]["sampled"]);
    row("LLM-SRec, tiny LLaMA (full ranking)", s["eval"]["full"]);
    row("LLM-SRec, shuffled histories (99 negatives)", s["eval_shuffled"]["sampled"]);
    std::cout << fmt::format("training: {} steps on {} ranks; whole demo {:.0f}s\n", s["train"]["steps"].get<int64_t>(),
                             s["train"]["ranks"].get<int64_t>(), s["seconds"].get<double>());
    const auto& e = s["embed"];
    std::cout << fmt::format("hidden states: {} ({} items + {} users, {:.1f} rows/s on {} ranks); try\n"
                             "  llmsrec inspect neighbors {} --item 1\n",
                             e["output"].get<std::string>(), e["items"].get<int64_t>(), e["users"].get<int64_t>(),
                             e["rows_per_s"].get<double>(), e["world_size"].get<int64_t>(),
                             e["output"].get<std::string>());
  }

 private:
  llmsrec::launcher::DemoOptions opt_;
};

}  // namespace

LLMSREC_REGISTER_COMMAND(DemoCommand, "demo",
                         "run the whole pipeline on generated data and a tiny LLaMA (prepare, teacher, train and embed on 2 ranks, eval)")
