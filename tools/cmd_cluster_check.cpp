// `llmsrec cluster check`: rank table, allreduce bandwidth, heartbeats, /metrics,
// signal handling, without a model (logic in cluster/cluster_check.h).
#include <CLI/CLI.hpp>

#include "cluster/cluster_check.h"
#include "cluster/run_context.h"
#include "cluster/signals.h"
#include "core/error.h"
#include "core/log.h"
#include "app/fail_fast.h"
#include "app/run_config.h"
#include "tools/command.h"

namespace {

class ClusterCheckCommand : public llmsrec::tools::Command {
 public:
  void add_options(CLI::App& app) override {
    add_config_options(app);
    app.add_option("--steps", options_.steps, "allreduce steps")->capture_default_str();
    app.add_option("--step-ms", options_.step_ms, "pad every step to this many milliseconds (simulated compute)")
        ->capture_default_str();
    app.add_option("--bytes", options_.bytes, "allreduce buffer size in bytes")->capture_default_str();
  }
  nlohmann::json run() override {
    using namespace llmsrec;
    auto cfg = load_config();
    auto ctx = llmsrec::app::create_run_context(cfg);
    // Possibly this rank alone: end the whole job so no rank waits in MPI_Finalize.
    return app::fail_fast(*ctx, common.json, [&]() -> nlohmann::json {
      auto summary = cluster::run_cluster_check(*ctx, cfg.cluster, options_);
      ctx->set_phase("done");
      return summary;
    });
  }

 private:
  llmsrec::cluster::ClusterCheckOptions options_;
};

}  // namespace

LLMSREC_REGISTER_COMMAND(ClusterCheckCommand, "cluster check",
                         "exercise communicator, heartbeats, /metrics and signals without a model (run under mpirun)")
