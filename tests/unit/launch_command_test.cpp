// The mpirun / srun command lines `llmsrec launch` builds, checked against the
// Open MPI 4.1 mpirun(1) and SLURM 22.05 srun(1) options.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.h"
#include "launcher/launch_command.h"

using namespace llmsrec::launcher;

namespace {

LaunchEnvironment env_with(std::map<std::string, std::string> vars, bool root = false, unsigned cores = 16) {
  LaunchEnvironment e;
  e.is_root = root;
  e.cores = cores;
  e.env = std::move(vars);
  return e;
}

bool contains_sequence(const std::vector<std::string>& argv, const std::vector<std::string>& seq) {
  return std::search(argv.begin(), argv.end(), seq.begin(), seq.end()) != argv.end();
}

}  // namespace

TEST(LaunchCommand, ParsesHosts) {
  auto hosts = parse_hosts("gpu01:4,gpu02:4,cpu9");
  ASSERT_EQ(hosts.size(), 3u);
  EXPECT_EQ(hosts[0].host, "gpu01");
  EXPECT_EQ(hosts[1].slots, 4);
  EXPECT_EQ(hosts[2].slots, 1);
  EXPECT_THROW(parse_hosts("a:0"), llmsrec::ConfigError);
  EXPECT_THROW(parse_hosts("a:x"), llmsrec::ConfigError);
  EXPECT_THROW(parse_hosts("a:2,,b"), llmsrec::ConfigError);
  EXPECT_THROW(parse_hosts(":3"), llmsrec::ConfigError);
}

TEST(LaunchCommand, SlurmTwoNodesFourGpusEach) {
  LaunchRequest req;
  req.ranks = 8;
  req.hosts = parse_hosts("gpu01:4,gpu02:4");
  req.slurm = true;
  req.executable = "/opt/llmsrec/bin/llmsrec";
  req.args = {"train", "-c", "configs/llama3b.yaml"};
  auto argv = build_launch_command(req, env_with({{"SLURM_JOB_ID", "77"}, {"SLURM_CPUS_PER_TASK", "6"}}));
  const std::vector<std::string> want = {"srun", "--mpi=pmix", "--ntasks=8", "--nodes=2", "--ntasks-per-node=4",
                                         "--nodelist=gpu01,gpu02", "--cpu-bind=none", "--kill-on-bad-exit=1",
                                         "--export=ALL,OMP_NUM_THREADS=6", "/opt/llmsrec/bin/llmsrec", "train", "-c",
                                         "configs/llama3b.yaml"};
  EXPECT_EQ(argv, want);
  // Every task must see all GPUs of its node: the device is the local rank.
  for (const auto& a : argv) EXPECT_EQ(a.find("gpus-per-task"), std::string::npos) << a;
}

TEST(LaunchCommand, SlurmRanksDefaultToTheAllocation) {
  LaunchRequest req;
  req.slurm = true;
  req.executable = "/x/llmsrec";
  req.args = {"cluster", "check"};
  auto argv = build_launch_command(req, env_with({{"SLURM_NTASKS", "2"}, {"OMP_NUM_THREADS", "3"}}));
  EXPECT_TRUE(contains_sequence(argv, {"srun", "--mpi=pmix", "--ntasks=2", "--cpu-bind=none"}));
  EXPECT_TRUE(contains_sequence(argv, {"--export=ALL", "/x/llmsrec", "cluster", "check"}));  // user's OMP kept
  EXPECT_THROW(build_launch_command(req, env_with({})), llmsrec::ConfigError);
}

TEST(LaunchCommand, MpirunTwoHosts) {
  LaunchRequest req;
  req.ranks = 8;
  req.hosts = parse_hosts("node1:4,node2:4");
  req.executable = "/opt/llmsrec";
  req.args = {"train", "-c", "my config.yaml"};
  auto argv = build_launch_command(
      req, env_with({{"NCCL_DEBUG", "WARN"}, {"LLMSREC_X", "1"}, {"HOME", "/root"}, {"CUDA_VISIBLE_DEVICES", "0"}},
                    /*root=*/false, /*cores=*/32));
  const std::vector<std::string> want = {"mpirun", "-np", "8", "--bind-to", "none", "--map-by", "slot", "--host",
                                         "node1:4,node2:4", "-x", "OMP_NUM_THREADS=8", "-x", "LLMSREC_X", "-x",
                                         "NCCL_DEBUG", "/opt/llmsrec", "train", "-c", "my config.yaml"};
  EXPECT_EQ(argv, want);
  EXPECT_EQ(shell_join(argv).substr(shell_join(argv).size() - 16), "'my config.yaml'");
}

TEST(LaunchCommand, MpirunRootAndOversubscribeOnlyWhenAsked) {
  LaunchRequest req;
  req.ranks = 4;
  req.executable = "/b/llmsrec";
  req.args = {"cluster", "check"};
  auto plain = build_launch_command(req, env_with({}, /*root=*/false, /*cores=*/2));
  EXPECT_EQ(std::count(plain.begin(), plain.end(), "--oversubscribe"), 0);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), "--allow-run-as-root"), 0);
  EXPECT_TRUE(contains_sequence(plain, {"-x", "OMP_NUM_THREADS=1"}));  // 2 cores / 4 ranks, at least 1
  req.oversubscribe = true;
  auto root = build_launch_command(req, env_with({}, /*root=*/true));
  EXPECT_EQ(std::count(root.begin(), root.end(), "--oversubscribe"), 1);
  EXPECT_EQ(std::count(root.begin(), root.end(), "--allow-run-as-root"), 1);
}

TEST(LaunchCommand, RejectsImpossibleRequests) {
  LaunchRequest req;
  req.ranks = 9;
  req.hosts = parse_hosts("a:4,b:4");
  req.executable = "/b/llmsrec";
  req.args = {"train"};
  EXPECT_THROW(build_launch_command(req, env_with({})), llmsrec::ConfigError);  // 9 ranks, 8 slots
  req.oversubscribe = true;
  EXPECT_NO_THROW(build_launch_command(req, env_with({})));
  req.args.clear();
  EXPECT_THROW(build_launch_command(req, env_with({})), llmsrec::ConfigError);
}

TEST(LaunchCommand, ChoosesPmixOrFallsBackToPmi2) {
  const std::string with_pmix = "MPI plugin types are...\n\tnone\n\tcray_shasta\n\tpmi2\n\tpmix\n"
                                "specific pmix plugin versions available: pmix_v4\n";
  std::string note;
  EXPECT_EQ(choose_mpi_plugin("pmix", with_pmix, &note), "pmix");
  EXPECT_TRUE(note.empty());
  EXPECT_EQ(choose_mpi_plugin("pmix", "MPI plugin types are...\n\tnone\n\tpmi2\n", &note), "pmi2");
  EXPECT_NE(note.find("falling back"), std::string::npos);
  EXPECT_THROW(choose_mpi_plugin("pmix", "", &note), llmsrec::ConfigError);
}
