// `llmsrec eval`: HR/NDCG@10/20 of a trained LLM-SRec on the fixed negatives
// of dataset.h5 and by full ranking; optionally with shuffled histories.
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>

#include "cluster/run_context.h"
#include "core/rng.h"
#include "sharding/epoch_plan.h"
#include "app/fail_fast.h"
#include "app/run_config.h"
#include "tools/command.h"
#include "trainer/llmsrec_eval.h"
#include "trainer/llmsrec_setup.h"

namespace {

class EvalCommand : public llmsrec::tools::Command {
 public:
  void add_options(CLI::App& app) override {
    add_config_options(app);
    app.add_option("--split", split_, "valid or test")->check(CLI::IsMember({"valid", "test"}));
    app.add_option("--checkpoint", checkpoint_, "checkpoint file (default: run.dir/latest)");
    app.add_flag("--last", last_, "use the last weights instead of the best-by-validation ones");
    app.add_flag("--shuffle-history", shuffle_, "permute the items shown in each history (dates and numbers stay)");
    app.add_flag("--no-full-ranking", no_full_, "skip ranking against the whole catalogue");
    app.add_option("--users", max_users_,
                   "score a fixed subset of this many users of the split (the same subset for every run and seed; "
                   "0 = all)")
        ->check(CLI::NonNegativeNumber);
  }
  nlohmann::json run() override {
    auto cfg = load_config();
    auto ctx = llmsrec::app::create_run_context(cfg);  // Collective
    // An error on one rank ends the whole job fast, with its cause (app/fail_fast.h).
    return llmsrec::app::fail_fast(*ctx, common.json, [&]() -> nlohmann::json {
      auto setup = llmsrec::trainer::load_llmsrec(llmsrec::app::llmsrec_sections(cfg), *ctx);
      std::string used = llmsrec::trainer::load_trained(setup, llmsrec::app::llmsrec_sections(cfg), checkpoint_, !last_);
      at::Tensor items = llmsrec::trainer::item_table(setup, ctx->host_comm(), 32);
      llmsrec::trainer::EvalOptions opt;
      opt.split = split_;
      opt.full_ranking = !no_full_;
      opt.shuffle_history = shuffle_;
      opt.seed = static_cast<uint64_t>(cfg.run.seed);
      const auto& cands = split_ == "valid" ? setup.dataset.valid : setup.dataset.test;
      if (max_users_ > 0 && max_users_ < static_cast<int64_t>(cands.users.size())) {
        std::vector<int64_t> rows(cands.users.size());
        for (size_t r = 0; r < rows.size(); ++r) rows[r] = static_cast<int64_t>(r);
        // Seed independent of run.seed: runs with different training seeds score the same users.
        rows = llmsrec::sharding::shuffled(rows, llmsrec::core::stream_seed(0, llmsrec::core::Stream::kValidUsers, 1), 0);
        rows.resize(static_cast<size_t>(max_users_));
        std::sort(rows.begin(), rows.end());
        opt.rows = rows;
      }
      auto result = llmsrec::trainer::evaluate(setup, ctx->host_comm(), items, opt);
      nlohmann::json out = result.to_json();
      out["split"] = split_;
      out["checkpoint"] = used;
      out["shuffle_history"] = shuffle_;
      return out;
    });
  }
  void print_human(const nlohmann::json& s) override {
    std::cout << fmt::format("{} split{}, {}\n", s["split"].get<std::string>(),
                             s["shuffle_history"].get<bool>() ? " (shuffled histories)" : "",
                             s["checkpoint"].get<std::string>());
    std::cout << fmt::format("{:<22} {:>8} {:>8} {:>8} {:>8} {:>7}\n", "protocol", "NDCG@10", "HR@10", "NDCG@20",
                             "HR@20", "users");
    for (const char* p : {"sampled", "full"}) {
      const auto& m = s[p];
      if (m["users"].get<int64_t>() == 0) continue;
      std::cout << fmt::format("{:<22} {:>8.4f} {:>8.4f} {:>8.4f} {:>8.4f} {:>7}\n",
                               std::string(p) == "sampled" ? "1 target + 99 negatives" : "full ranking",
                               m["ndcg@10"].get<double>(), m["hr@10"].get<double>(), m["ndcg@20"].get<double>(),
                               m["hr@20"].get<double>(), m["users"].get<int64_t>());
    }
  }

 private:
  std::string split_ = "test", checkpoint_;
  bool last_ = false, shuffle_ = false, no_full_ = false;
  int64_t max_users_ = 0;
};

}  // namespace

LLMSREC_REGISTER_COMMAND(EvalCommand, "eval", "evaluate a trained LLM-SRec: NDCG/HR@10/20, sampled and full ranking")
