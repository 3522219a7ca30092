// core::thread_budget: run.threads: 0 means this rank's share of the node.
#include <gtest/gtest.h>

#include "core/thread_budget.h"

namespace llmsrec::core {
namespace {

TEST(ThreadBudget, ShareOfTheNodeByDefault) {
  EXPECT_EQ(thread_budget({.node_cores = 2, .local_ranks = 1}).threads, 2);
  EXPECT_EQ(thread_budget({.node_cores = 2, .local_ranks = 2}).threads, 1) << "2 ranks on 2 cores: 1 thread each";
  EXPECT_EQ(thread_budget({.node_cores = 16, .local_ranks = 4}).threads, 4);
  EXPECT_EQ(thread_budget({.node_cores = 2, .local_ranks = 3}).threads, 1) << "never 0";
  EXPECT_EQ(thread_budget({.node_cores = 16, .affinity_cores = 16, .local_ranks = 4}).threads, 4);
}

TEST(ThreadBudget, ExplicitValuesWin) {
  EXPECT_EQ(thread_budget({.configured = 3, .omp_num_threads = "5", .node_cores = 2, .local_ranks = 2}).threads, 3);
  ThreadBudget b = thread_budget({.omp_num_threads = "5", .node_cores = 2, .local_ranks = 2});
  EXPECT_EQ(b.threads, 5);
  EXPECT_EQ(b.source, "OMP_NUM_THREADS");
  EXPECT_EQ(thread_budget({.omp_num_threads = "x", .node_cores = 4, .local_ranks = 2}).threads, 2)
      << "a malformed OMP_NUM_THREADS falls back to the share";
}

TEST(ThreadBudget, ALaunchersBindingIsRespected) {
  ThreadBudget b = thread_budget({.node_cores = 16, .affinity_cores = 2, .local_ranks = 4});
  EXPECT_EQ(b.threads, 2);
  EXPECT_NE(b.source.find("bound"), std::string::npos) << b.source;
}

}  // namespace
}  // namespace llmsrec::core
