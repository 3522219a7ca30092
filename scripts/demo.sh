#!/usr/bin/env bash
# Installs, builds and runs the end-to-end demo on data and a tiny LLaMA that
# llmsrec generates itself. Outputs go to runs/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
./build/llmsrec demo "$@"
