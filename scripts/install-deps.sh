#!/usr/bin/env bash
# Installs every Debian 12 package that llmsrec's build, tests and demo need.
# Idempotent: re-running it on a machine that has everything is a quick no-op.
# Afterwards it checks that libtorch will run on OpenBLAS, not reference BLAS
# (reference BLAS makes every matmul ~15x slower on these machines).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libtorch-dev libopenblas0-pthread
  libopenmpi-dev openmpi-bin
  libhdf5-dev hdf5-tools
  libyaml-cpp-dev libboost-dev nlohmann-json3-dev libpcre2-dev
  libsentencepiece-dev sentencepiece libicu-dev zlib1g-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libjemalloc-dev  # the executables' allocator (cmake/jemalloc.cmake)
  clang-14 libclang-rt-14-dev
  slurm-wlm munge curl  # tests/cluster: a private single-node SLURM; HTTP tests use curl
  python3-numpy python3-h5py  # tests/integration/embed_hidden.sh: read hidden.h5 and .npy exports
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-deps: all ${#packages[@]} packages present" >&2
fi

# libtorch links libblas.so.3; the alternatives system decides which BLAS that is.
blas=$(readlink -f "$(ldconfig -p | awk '/libblas\.so\.3 .*x86-64/ {print $NF; exit}')" 2>/dev/null || true)
case "$blas" in
  *openblas*) echo "install-deps: libblas.so.3 -> $blas (OpenBLAS, good)" >&2 ;;
  *)
    echo "install-deps: ERROR: libblas.so.3 resolves to '${blas:-nothing}', not OpenBLAS." >&2
    echo "  libtorch would run on reference BLAS (~15x slower). Fix with:" >&2
    echo "  apt-get install libopenblas0-pthread && update-alternatives --config libblas.so.3-x86_64-linux-gnu" >&2
    exit 1 ;;
esac
