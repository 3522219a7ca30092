// Real ranks (mpirun -n 2): the run context's rank table and its checks, the
// control plane across processes, and preemption agreement after a real
// SIGUSR1 delivered to one rank only.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "cluster/run_context.h"
#include "cluster/control_server.h"
#include "core/error.h"
#include "app/run_config.h"
#include "mpi_main.h"

using namespace llmsrec;

namespace {

app::RunConfig config() {
  // Same run.dir on both ranks (the config hash must match): per job, from the launcher's job id.
  const char* jobid = std::getenv("OMPI_MCA_ess_base_jobid");
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("llmsrec-ctx-test-" + std::string(jobid ? jobid : "0"))).string();
  return app::load_run_config("", {"run.dir=" + dir, "cluster.control_port=-1", "cluster.heartbeat_interval_s=0.1",
                                    "cluster.heartbeat_timeout_s=30", "cluster.timeout_s=60"});
}

}  // namespace

TEST(RunContext, RankTableAndControlPlane) {
  const auto cfg = config();
  auto ctx = cluster::RunContext::create(cfg.cluster, cfg.run, at::kFloat, *llmsrec::testing::g_mpi);
  ASSERT_EQ(ctx->size(), 2);
  ASSERT_EQ(ctx->ranks().size(), 2u);
  EXPECT_EQ(ctx->ranks()[ctx->rank()].pid, static_cast<int64_t>(::getpid()));
  EXPECT_EQ(ctx->ranks()[0].local_rank, 0);
  EXPECT_EQ(ctx->ranks()[1].local_rank, 1);
  EXPECT_NE(ctx->ranks()[0].pid, ctx->ranks()[1].pid);
  EXPECT_EQ(ctx->device_name(), "cpu");
  EXPECT_TRUE(ctx->device().is_cpu());
  EXPECT_EQ(ctx->tp_size(), 1);
  EXPECT_GE(ctx->threads(), 1);
  EXPECT_EQ(ctx->ranks()[0].threads, ctx->threads());
  EXPECT_EQ(ctx->dp().size(), ctx->size());
  EXPECT_GT(ctx->control_port(), 0);
  int64_t ports[2];
  int64_t mine = ctx->control_port();
  ctx->host_comm().allgather_bytes(&mine, sizeof(mine), ports);
  EXPECT_EQ(ports[0], ports[1]);

  ctx->set_phase("rank table test");
  ctx->set_step(5 + ctx->rank());
  if (ctx->rank() == 0) {
    auto* server = ctx->control_server();
    ASSERT_NE(server, nullptr);
    bool both = false;
    for (int i = 0; i < 100 && !both; ++i) {
      auto h = server->ranks();
      both = h[0].last.step == 5 && h[1].last.step == 6 && h[1].last.phase == "rank table test";
      if (!both) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(both) << "rank 0's server did not receive both ranks' heartbeats";
    EXPECT_EQ(server->ranks()[1].last.pid, ctx->ranks()[1].pid);
  } else {
    EXPECT_EQ(ctx->control_server(), nullptr);
  }
  ctx->host_comm().barrier();
}

TEST(RunContext, VersionAndConfigMismatchesNameRanksAndComponent) {
  const auto cfg = config();
  auto ctx = cluster::RunContext::create(cfg.cluster, cfg.run, at::kFloat, *llmsrec::testing::g_mpi);
  auto table = ctx->ranks();
  EXPECT_NO_THROW(cluster::check_rank_table(table));
  auto versions = table;
  for (auto& [name, version] : versions[1].versions) {
    if (name == "hdf5") version = "1.0.0";
  }
  try {
    cluster::check_rank_table(versions);
    ADD_FAILURE() << "version mismatch not detected";
  } catch (const CommError& e) {
    EXPECT_NE(std::string(e.what()).find("hdf5 differs on rank(s) 1"), std::string::npos) << e.what();
  }
  auto configs = table;
  configs[1].config_hash ^= 1;
  EXPECT_THROW(cluster::check_rank_table(configs), ConfigError);
  EXPECT_NE(cluster::format_rank_table(table).find(table[1].host), std::string::npos);

  // Replica hashes: equal passes, different fails on every rank.
  EXPECT_NO_THROW(ctx->check_replicas_identical(1234, 0, "parameters"));
  try {
    ctx->check_replicas_identical(1234 + ctx->rank(), 7, "parameters");
    ADD_FAILURE() << "replica divergence not detected";
  } catch (const CommError& e) {
    EXPECT_NE(std::string(e.what()).find("rank(s) 1 disagree"), std::string::npos) << e.what();
  }
}

TEST(RunContext, SigusrOnOneRankStopsBothAtTheNextBoundary) {
  const auto cfg = config();
  auto ctx = cluster::RunContext::create(cfg.cluster, cfg.run, at::kFloat, *llmsrec::testing::g_mpi);
  EXPECT_FALSE(ctx->preemption_agreed());
  if (ctx->rank() == 1) {
    ASSERT_EQ(::kill(::getpid(), SIGUSR1), 0);  // a real signal, to this rank only
    for (int i = 0; i < 200 && !ctx->signals().requested(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(ctx->signals().last_signal(), SIGUSR1);
  } else {
    EXPECT_FALSE(ctx->signals().requested());
  }
  EXPECT_TRUE(ctx->preemption_agreed());  // both ranks agree, although rank 0 got no signal
}
