#!/usr/bin/env bash
# Installs, builds and runs the whole test suite (unit, MPI, integration).
# Extra arguments go to ctest, e.g. `bash scripts/test.sh -L unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# Fuzz smoke: the libFuzzer targets (safetensors header, tokenizer.json) in their
# own clang + ASan build, a bounded number of inputs each (cmake/fuzz.cmake).
# Skipped with LLMSREC_SKIP_FUZZ=1 or when extra ctest arguments select tests.
if [ -z "${LLMSREC_SKIP_FUZZ:-}" ] && [ $# -eq 0 ]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DLLMSREC_BUILD_FUZZ=ON \
    -DLLMSREC_BUILD_TESTS=OFF -DLLMSREC_BUILD_BENCH=OFF >/dev/null
  cmake --build build-fuzz -j"$(nproc)"
  ctest --test-dir build-fuzz -L fuzz --output-on-failure
fi

ctest --test-dir build --output-on-failure --timeout 1200 "$@"
