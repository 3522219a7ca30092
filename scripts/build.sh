#!/usr/bin/env bash
# Installs dependencies (Debian 12) and builds llmsrec, its tests and benchmarks
# in ./build (Release). Re-running it only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
