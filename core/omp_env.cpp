#include "core/omp_env.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <utility>

namespace llmsrec::core {

namespace {

constexpr std::pair<const char*, const char*> kWanted[] = {{"OMP_WAIT_POLICY", "PASSIVE"},
                                                           {"OPENBLAS_THREAD_TIMEOUT", "4"}};

}  // namespace

void reexec_with_quiet_thread_pools(char** argv) {
  const char* opt_out = std::getenv("LLMSREC_THREAD_ENV");
  if (opt_out && std::strcmp(opt_out, "0") == 0) return;
  bool missing = false;
  for (const auto& [name, value] : kWanted) {
    if (std::getenv(name) == nullptr) {
      if (setenv(name, value, 0) != 0) return;
      missing = true;
    }
  }
  // Both now set, so the re-executed program returns above without a loop.
  if (missing) execv("/proc/self/exe", argv);  // only returns on failure: run with the defaults
}

std::string thread_pool_env() {
  std::string s;
  for (const auto& [name, value] : kWanted) {
    const char* v = std::getenv(name);
    s += std::string(s.empty() ? "" : " ") + name + "=" + (v ? v : "(unset)");
  }
  return s;
}

}  // namespace llmsrec::core
