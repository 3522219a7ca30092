#include "core/thread_budget.h"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>

namespace llmsrec::core {

ThreadBudget thread_budget(const ThreadInputs& in) {
  if (in.configured > 0) return {static_cast<int>(in.configured), "run.threads"};
  if (!in.omp_num_threads.empty()) {
    char* end = nullptr;
    const long n = std::strtol(in.omp_num_threads.c_str(), &end, 10);
    if (end && *end == '\0' && n > 0) return {static_cast<int>(n), "OMP_NUM_THREADS"};
  }
  const int cores = std::max(1, in.node_cores);
  if (in.affinity_cores > 0 && in.affinity_cores < cores) {
    return {in.affinity_cores, fmt::format("bound to {} core(s)", in.affinity_cores)};
  }
  const int ranks = std::max(1, in.local_ranks);
  return {std::max(1, cores / ranks), fmt::format("{} core(s) / {} rank(s) on this node", cores, ranks)};
}

ThreadInputs this_process_thread_inputs(int64_t configured, int local_ranks) {
  ThreadInputs in;
  in.configured = configured;
  if (const char* omp = std::getenv("OMP_NUM_THREADS")) in.omp_num_threads = omp;
  in.node_cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) in.affinity_cores = CPU_COUNT(&set);
  in.local_ranks = local_ranks;
  return in;
}

}  // namespace llmsrec::core
