// OpenMP wait policy. libgomp reads OMP_WAIT_POLICY once, when it is loaded
// (before main), and its default spins idle worker threads between parallel
// regions: on a shared 2-core host that spinning steals the core the working
// thread needs (SASRec teacher: 112 CPU-s per epoch spinning vs 24 CPU-s with
// PASSIVE). So main() sets PASSIVE and re-executes itself once, unless the
// user set OMP_WAIT_POLICY explicitly (any value is respected).
//
//   int main(int argc, char** argv) { core::reexec_with_passive_omp(argv); ... }
#pragma once

namespace llmsrec::core {

// Returns normally when OMP_WAIT_POLICY is already set or the re-exec failed.
void reexec_with_passive_omp(char** argv);

}  // namespace llmsrec::core
