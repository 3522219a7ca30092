// main() for MPI test binaries: one MpiRuntime per process, gtest output from
// rank 0 only, and a non-zero exit on every rank when any rank failed.
#pragma once

#include <gtest/gtest.h>
#include <mpi.h>

#include "cluster/mpi_runtime.h"

namespace llmsrec::testing {
inline cluster::MpiRuntime* g_mpi = nullptr;  // test-only: the process's MPI state
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  auto mpi = llmsrec::cluster::MpiRuntime::init(&argc, &argv);
  llmsrec::testing::g_mpi = mpi.get();
  if (mpi->world_rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  int any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return any_failed;
}
