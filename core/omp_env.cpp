#include "core/omp_env.h"

#include <unistd.h>

#include <cstdlib>

namespace llmsrec::core {

void reexec_with_passive_omp(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
  execv("/proc/self/exe", argv);  // only returns on failure: then run with the default policy
}

}  // namespace llmsrec::core
