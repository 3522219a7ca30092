// Thread-pool settings that libgomp (ATen's threads) and OpenBLAS read once,
// when they are loaded (before main). Both default to spinning idle workers:
// libgomp between parallel regions, OpenBLAS for ~2^28 cycles after a GEMM. On
// a 2-core host the spinning pool steals the core the other one needs next.
// Measured here: SASRec teacher 112 CPU-s per epoch spinning vs 24 with
// OMP_WAIT_POLICY=PASSIVE; adding OPENBLAS_THREAD_TIMEOUT=4 took a teacher
// epoch from 16.2 to 13.5 s and the LLaMA forward+backward from 0.60 to 0.72 of
// the sgemm rate (bench/llama_forward_bench). So main() sets what is missing
// and re-executes itself once; a value the user set is always respected.
//
//   int main(int argc, char** argv) { core::reexec_with_quiet_thread_pools(argv); ... }
#pragma once

#include <string>

namespace llmsrec::core {

// Sets OMP_WAIT_POLICY=PASSIVE and OPENBLAS_THREAD_TIMEOUT=4 where unset and
// re-executes /proc/self/exe with the same argv (same pid: mpirun and srun see
// nothing). Returns normally when both were set already, with
// LLMSREC_THREAD_ENV=0 (opt out), or when exec fails.
void reexec_with_quiet_thread_pools(char** argv);

// "OMP_WAIT_POLICY=PASSIVE OPENBLAS_THREAD_TIMEOUT=4" as this process sees
// them ("(unset)" when missing), for --version and benchmark headers.
std::string thread_pool_env();

}  // namespace llmsrec::core
