#include "cluster/signals.h"

#include <atomic>
#include <csignal>

#include <fmt/format.h>

#include "cluster/communicator.h"

namespace llmsrec::cluster {
namespace {

// Written from the signal handler: lock-free atomics are async-signal-safe.
std::atomic<int> g_last_signal{0};
std::atomic<bool> g_installed{false};
static_assert(std::atomic<int>::is_always_lock_free, "signal flag must be lock-free");

struct sigaction g_previous_usr1, g_previous_term;

extern "C" void on_preemption_signal(int signo) { g_last_signal.store(signo, std::memory_order_relaxed); }

}  // namespace

PreemptionSignals::PreemptionSignals() {
  LLMSREC_ASSERT(!g_installed.exchange(true), "only one PreemptionSignals may exist per process");
  g_last_signal.store(0);
  struct sigaction sa {};
  sa.sa_handler = on_preemption_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // blocking calls resume; the loop polls the flag
  sigaction(SIGUSR1, &sa, &g_previous_usr1);
  sigaction(SIGTERM, &sa, &g_previous_term);
}

PreemptionSignals::~PreemptionSignals() {
  if (requested()) {
    // Preempted: this process is on its way out with exit code 3. A second signal must
    // not turn that into death by signal: srun --kill-on-bad-exit SIGTERMs the ranks that
    // exit a moment after the first one, and srun then reports 128 + 15 instead of 3, so
    // the batch script would not requeue.
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGUSR1, &ignore, nullptr);
    sigaction(SIGTERM, &ignore, nullptr);
  } else {
    sigaction(SIGUSR1, &g_previous_usr1, nullptr);
    sigaction(SIGTERM, &g_previous_term, nullptr);
  }
  g_installed.store(false);
}

bool PreemptionSignals::requested() const { return g_last_signal.load(std::memory_order_relaxed) != 0; }
int PreemptionSignals::last_signal() const { return g_last_signal.load(std::memory_order_relaxed); }
void PreemptionSignals::request() { g_last_signal.store(SIGUSR1, std::memory_order_relaxed); }

bool preemption_agreed(Communicator& comm, const PreemptionSignals& signals) {
  int64_t flag = signals.requested() ? 1 : 0;
  comm.allreduce(&flag, 1, ReduceOp::kMax);
  return flag != 0;
}

Preempted::Preempted(int64_t step)
    : Error(fmt::format("preempted at step {} (SIGUSR1/SIGTERM): every rank stopped at this step boundary; "
                        "exit code 3 = requeue me",
                        step)),
      step_(step) {}

}  // namespace llmsrec::cluster
