// Preemption signals (SIGUSR1 from SLURM's --signal, SIGTERM from the
// scheduler or the user). The handler only sets an atomic flag (async-signal
// safe); the training loop polls it at step boundaries, where all ranks agree
// on it through one collective, so every rank stops at the same step:
//
//   cluster::PreemptionSignals signals;            // installs the handlers
//   for (step...) {
//     train_step();
//     if (cluster::preemption_agreed(comm, signals)) {   // Collective
//       if (comm.rank() == 0) save_checkpoint();
//       throw cluster::Preempted(step);                   // exit code 3: requeue me
//     }
//   }
#pragma once

#include <cstdint>

#include "core/error.h"

namespace llmsrec::cluster {

class Communicator;

// Installs SIGUSR1 and SIGTERM handlers for its lifetime (restores the previous
// ones on destruction; once a preemption was requested it ignores both instead,
// so the exit code 3 survives srun's SIGTERM to the slower ranks). At most one
// instance per process.
//
// The flag itself is the one process-wide mutable variable of this module: a
// signal handler cannot be handed a context object.
class PreemptionSignals {
 public:
  PreemptionSignals();
  ~PreemptionSignals();
  PreemptionSignals(const PreemptionSignals&) = delete;
  PreemptionSignals& operator=(const PreemptionSignals&) = delete;

  // True once SIGUSR1 or SIGTERM arrived in this process (local view only).
  bool requested() const;
  // The signal number that arrived last (0 = none).
  int last_signal() const;
  // Sets the flag as a signal would (tests, and `stop` requests from code).
  void request();
};

// Collective: every rank, same order, at a step boundary. Allreduce(max) of the
// local flags, so a signal delivered to any one rank stops all of them at the
// same step. Throws CommError on the communicator's deadline.
bool preemption_agreed(Communicator& comm, const PreemptionSignals& signals);

// Thrown by every rank once they agreed to stop; maps to exit code 3
// ("preempted: checkpoint written, requeue me").
class Preempted : public Error {
 public:
  explicit Preempted(int64_t step);
  int exit_code() const override { return kExitPreempted; }
  int64_t step() const { return step_; }

 private:
  int64_t step_;
};

}  // namespace llmsrec::cluster
