#include "core/fault_injection.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "core/error.h"

namespace llmsrec::core {

void fail_here_if_injected(int rank, int64_t step) {
  const char* spec = std::getenv("LLMSREC_FAIL_AT");
  if (spec == nullptr || *spec == '\0') return;
  int want_rank = -1;
  long long want_step = -1;
  char tail = 0;
  if (std::sscanf(spec, "%d:%lld%c", &want_rank, &want_step, &tail) != 2) {
    throw ConfigError(fmt::format("LLMSREC_FAIL_AT='{}': expected RANK:STEP, e.g. 1:3", spec));
  }
  if (want_rank == rank && want_step == step) {
    throw IoError(fmt::format("injected fault (LLMSREC_FAIL_AT={}) on rank {} before step {}", spec, rank, step));
  }
}

}  // namespace llmsrec::core
