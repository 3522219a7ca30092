// A test hook for failure paths with real ranks: LLMSREC_FAIL_AT="RANK:STEP"
// makes that rank throw IoError (exit code 5) just before global step STEP, as
// a rank whose disk or data fails there would. Unset (always, outside tests): no-op.
//
//   LLMSREC_FAIL_AT=1:3 mpirun -np 2 llmsrec train ...   # rank 1 fails at step 3
#pragma once

#include <cstdint>

namespace llmsrec::core {

void fail_here_if_injected(int rank, int64_t step);

}  // namespace llmsrec::core
