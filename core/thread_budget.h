// How many compute threads a rank uses when run.threads is 0 ("my share of
// the cores"): ranks on one node must not oversubscribe it, whatever launcher
// started them. Pure, so the rule is tested without starting ranks.
//
//   core::ThreadBudget b = core::thread_budget({.configured = 0, .node_cores = 16, .local_ranks = 4});
//   b.threads;   // 4
//   b.source;    // "16 cores / 4 ranks on this node"
#pragma once

#include <cstdint>
#include <string>

namespace llmsrec::core {

struct ThreadInputs {
  int64_t configured = 0;        // run.threads (> 0 wins)
  std::string omp_num_threads;   // $OMP_NUM_THREADS ("" = unset; a positive integer wins over the share)
  int node_cores = 1;            // cores of the node (std::thread::hardware_concurrency)
  int affinity_cores = 0;        // cores this process may run on (sched_getaffinity); 0 = unknown
  int local_ranks = 1;           // ranks of this job on this node (MPI's shared-memory split)
};

struct ThreadBudget {
  int threads = 1;
  std::string source;  // why: "run.threads", "OMP_NUM_THREADS", "N cores / R ranks on this node", "bound to N cores"
};

// run.threads > 0, else OMP_NUM_THREADS, else the launcher's binding when it
// gave this process fewer cores than the node has, else node cores / local
// ranks (at least 1).
ThreadBudget thread_budget(const ThreadInputs& in);

// The inputs of this process (environment, cores, affinity) for `configured`
// and `local_ranks`.
ThreadInputs this_process_thread_inputs(int64_t configured, int local_ranks);

}  // namespace llmsrec::core
