#!/usr/bin/env bash
# GPU check of llmsrec on a machine with an NVIDIA GPU, a CUDA toolkit (nvcc,
# NCCL headers or the nvidia-nccl wheel) and a CUDA build of libtorch (e.g. a
# Python torch), and nothing else of ours. It needs no network: the other build
# dependencies come from the remote's own packages where present, else from the
# Debian 12 .debs that scripts/gpu/fetch-deps.sh put into .gpu-deps/ (run that
# first, on a Debian 12 machine with apt; the folder is ignored by git).
#
#   bash scripts/gpu/fetch-deps.sh                      # here, once
#   bash scripts/gpu-check.sh                           # on the GPU machine
#   bash scripts/gpu-check.sh --no-gpu --torch-prefix /usr/lib/x86_64-linux-gnu/cmake --force-prefix
#                                                       # deps + configure only
#
# Stages (each with its own timeout; the whole run fits 8 minutes on 16 cores):
#   deps       probe each dependency group on the remote, unpack missing ones
#   configure  cmake Release, LLMSREC_WITH_NCCL=ON, benches off
#   build      llmsrec + unit tests, -j16
#   unit       ctest -L unit; counts the tests with a "cuda" name segment (ran on CUDA)
#   nccl       llmsrec cluster check on the NCCL backend (host buffer: the
#              communicator stages it), on every GPU when there are several
#   prep       demo data: prepare, SASRec teacher, targets (CPU stages)
#   lm         llmsrec lm make-tiny: a 1024-dim, 8-layer LLaMA (GQA 16/8 heads)
#   bench      bench train on cuda, bf16, --json: ms_per_step, mfu, ...
#   train      a few steps of llmsrec train on cuda (1 rank: NCCL over 1 GPU)
#   embed      llmsrec embed on cuda -> hidden.h5
# and ends with ONE summary block. Exit status: 0 when no stage FAILED.
# GPU_CHECK_BUILD_TIMEOUT_S overrides the build deadline (330 s, for -j16).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1

no_gpu=0
force_prefix=0
jobs=16
torch_prefix=${TORCH_CMAKE_PREFIX:-}
deps_dir=$repo/.gpu-deps
out=$repo/build-gpu
usage() { sed -n '2,27p' "$0"; }
while (($#)); do
  case "$1" in
    --no-gpu | --dry-run) no_gpu=1 ;;                # stop after configure
    --force-prefix) force_prefix=1 ;;                # ignore the remote's packages: every group from .gpu-deps
    --torch-prefix) torch_prefix=$2; shift ;;        # CMake prefix of libtorch (default: python3 torch)
    --build-dir) out=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "gpu-check: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$out/logs"
logs=$out/logs
root=$out/deps-root  # the unpacked .debs
run_dir=$out/run
start_all=$SECONDS

# ---- stage bookkeeping -------------------------------------------------------
stages=()
declare -A st_status=() st_secs=() st_note=()
note() { st_note[$1]="${st_note[$1]:-}${st_note[$1]:+; }$2"; }
# run_stage NAME TIMEOUT_S CMD...: runs CMD (a program or a function of this
# script) with a deadline, output to logs/NAME.log. Job control puts each stage
# in its own process group, so a timeout kills llmsrec and its children too.
set -m
run_stage() {
  local name=$1 limit=$2
  shift 2
  stages+=("$name")
  echo "==> $name (timeout ${limit}s): $*" | cut -c1-300
  local t0=$SECONDS rc=0 flag=$logs/$name.timed-out
  rm -f "$flag"
  ("$@") >"$logs/$name.log" 2>&1 </dev/null &
  local pid=$!
  (sleep "$limit" && touch "$flag" && kill -TERM -- -"$pid" && sleep 10 && kill -KILL -- -"$pid") >/dev/null 2>&1 &
  local watchdog=$!
  wait "$pid" || rc=$?
  kill -- -"$watchdog" >/dev/null 2>&1
  wait "$watchdog" 2>/dev/null
  st_secs[$name]=$((SECONDS - t0))
  if ((rc == 0)); then
    st_status[$name]=ok
  else
    st_status[$name]=FAILED
    if [[ -e $flag ]]; then note "$name" "timed out after ${limit}s"; else note "$name" "exit $rc"; fi
    echo "    FAILED ($rc); last lines of $logs/$name.log:"
    tail -n 15 "$logs/$name.log" | sed 's/^/    | /'
  fi
  [[ ${st_status[$name]} == ok ]]
}
skip_stage() {
  stages+=("$1")
  st_status[$1]=SKIPPED
  st_secs[$1]=0
  note "$1" "$2"
}
ok() { [[ ${st_status[$1]:-} == ok ]]; }

summary() {
  echo
  echo "================ llmsrec gpu-check summary ================"
  echo "host: $(hostname)  gpu: ${gpu_name:-none}  total: $((SECONDS - start_all))s"
  echo "torch: ${torch_desc:-?}"
  echo "deps: ${deps_desc:-?}"
  local s failed=0
  for s in "${stages[@]}"; do
    printf '  %-10s %-8s %5ss  %s\n' "$s" "${st_status[$s]}" "${st_secs[$s]}" "${st_note[$s]:-}"
    [[ ${st_status[$s]} == FAILED ]] && failed=1
  done
  echo "logs: $logs"
  echo "==========================================================="
  return $failed
}

# ---- the machine -------------------------------------------------------------
gpu_name=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{ print $2 }')
echo "gpu-check: gpu: ${gpu_name:-none found (nvidia-smi)}; glibc ${glibc:-?}; $(nproc) cores"

if [[ -z $torch_prefix ]]; then
  torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null)
fi
torch_desc=$(python3 - 2>/dev/null <<'EOF'
import torch
print(f"{torch.__version__} cuda={torch.version.cuda} available={torch.cuda.is_available()} "
      f"cxx11_abi={torch.compiled_with_cxx11_abi()}")
EOF
)
torch_desc="${torch_desc:-no python torch} (cmake prefix: ${torch_prefix:-none})"
echo "gpu-check: torch: $torch_desc"

# ---- deps: remote packages first, then the unpacked .debs ----------------------
# A group is taken from the remote when its probe succeeds (pkg-config module,
# header or tool present), else unpacked from .gpu-deps (see fetch-deps.sh).
have_pc() { command -v pkg-config >/dev/null && pkg-config --exists "$@"; }
have_header() { local h; for h in "$@"; do [[ -e /usr/include/$h || -e /usr/local/include/$h ]] && return 0; done; return 1; }
probe() {
  case "$1" in
    mpi) command -v mpicc >/dev/null ;;
    hdf5) command -v h5cc >/dev/null || have_pc hdf5 ;;
    yaml-cpp) have_pc yaml-cpp ;;
    boost) local v
      v=$(sed -n 's/^#define BOOST_VERSION \([0-9]*\)/\1/p' /usr/include/boost/version.hpp 2>/dev/null)
      [[ -n $v ]] && ((v >= 107400)) ;;
    nlohmann-json) have_pc nlohmann_json || have_header nlohmann/json.hpp ;;
    spdlog-fmt) have_pc spdlog fmt ;;
    pcre2) have_pc libpcre2-8 ;;
    icu) have_pc icu-uc ;;
    cli11) have_header CLI/CLI.hpp ;;
    zlib) have_pc zlib ;;
    gtest) have_pc gtest gmock ;;
    benchmark) have_pc benchmark ;;
    jemalloc) have_pc jemalloc ;;
    tools) command -v ninja >/dev/null && command -v pkg-config >/dev/null ;;
    cmake) command -v cmake >/dev/null ;;
    *) return 1 ;;
  esac
}
unpack_deb() {  # dpkg-deb where it exists, else ar + tar (any Linux)
  if command -v dpkg-deb >/dev/null; then
    dpkg-deb -x "$1" "$root"
  else
    local member
    member=$(ar t "$1" | grep '^data\.tar') || return 1
    ar p "$1" "$member" | tar -x -C "$root" --auto-compress -f - 2>/dev/null ||
      ar p "$1" "$member" | tar -x -C "$root" -J -f -
  fi
}
# Paths in the unpacked packages still say /usr: point them at the prefix.
relocate() {
  local f
  for f in "$root"/usr/lib/x86_64-linux-gnu/pkgconfig/*.pc "$root"/usr/share/pkgconfig/*.pc; do
    [[ -f $f ]] && sed -i -E "s#^([A-Za-z_]+ *= *)/usr#\1$root/usr#" "$f"
  done
  [[ -f $root/usr/bin/h5cc ]] && sed -i -E "s#^prefix=\"/usr\"#prefix=\"$root/usr\"#" "$root/usr/bin/h5cc"
  while IFS= read -r -d '' f; do
    sed -i -E "s#([\" ;(])/usr/(include|lib)#\1$root/usr/\2#g" "$f"
  done < <(find "$root/usr/lib/x86_64-linux-gnu/cmake" "$root/usr/share/cmake" -name '*.cmake' -print0 2>/dev/null)
  # HDF5's wrapper links -lcrypto -lcurl -lsz: give the runtime libraries the
  # unversioned names the linker looks for when no -dev package brought them.
  local name soname real
  for name in crypto:3 curl:4 sz:2; do
    soname=lib${name%%:*}.so.${name##*:}
    [[ -e $root/usr/lib/x86_64-linux-gnu/lib${name%%:*}.so ]] && continue
    real=$root/usr/lib/x86_64-linux-gnu/$soname
    [[ -e $real ]] || real=$(ldconfig -p 2>/dev/null | awk -v n="$soname" '$1 == n { print $NF; exit }')
    [[ -n $real ]] && ln -sf "$real" "$root/usr/lib/x86_64-linux-gnu/lib${name%%:*}.so"
  done
}
deps_stage() {
  local manifest=$deps_dir/manifest.tsv
  rm -rf "$root"
  mkdir -p "$root"
  local -a from_remote=() from_prefix=() missing=()
  local g groups
  groups=$(cut -f1 "$manifest" 2>/dev/null | awk '!seen[$0]++')
  [[ -z $groups ]] && groups="mpi hdf5 yaml-cpp boost nlohmann-json spdlog-fmt pcre2 icu cli11 zlib gtest benchmark jemalloc tools"
  for g in $groups; do
    if ((!force_prefix)) && probe "$g"; then
      from_remote+=("$g")
    elif [[ -f $manifest ]] && grep -q "^$g	" "$manifest"; then
      local grp pkg f
      while IFS=$'\t' read -r grp pkg f; do
        [[ $grp == "$g" ]] || continue
        unpack_deb "$deps_dir/debs/$f" || { echo "gpu-check: cannot unpack $f ($pkg)" >&2; return 1; }
      done <"$manifest"
      from_prefix+=("$g")
    else
      missing+=("$g")
    fi
  done
  ((${#from_prefix[@]})) && relocate
  echo "remote: ${from_remote[*]:-none}"
  echo "prefix ($root): ${from_prefix[*]:-none}"
  echo "missing: ${missing[*]:-none}"
  printf '%s\n' "${from_prefix[@]}" >"$out/prefix-groups.txt"
  if ((${#from_prefix[@]})) && [[ -n $glibc ]] &&
    awk -v v="$glibc" 'BEGIN { split(v, a, "."); exit !(a[1] * 100 + a[2] < 236) }'; then
    echo "WARNING: glibc $glibc < 2.36: Debian 12 libraries from the prefix may not load"
  fi
  ((${#missing[@]} == 0)) || { echo "no .gpu-deps for: ${missing[*]} (run scripts/gpu/fetch-deps.sh)"; return 1; }
}
run_stage deps 120 deps_stage
deps_desc=$(grep -E '^(remote|prefix|missing)[ :]' "$logs/deps.log" 2>/dev/null | sed 's/ ([^)]*)//' | paste -sd'|' - |
  sed 's/|/; /g')
cat "$logs/deps.log"

# Environment pointing at the prefix (harmless when nothing was unpacked).
lib=$root/usr/lib/x86_64-linux-gnu
export PATH=$root/usr/bin:$PATH
export PKG_CONFIG_PATH=$lib/pkgconfig:$root/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export LD_LIBRARY_PATH=$lib:$lib/openmpi/lib:$lib/hdf5/serial${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
[[ -d $lib/openmpi ]] && export OPAL_PREFIX=$root/usr  # Open MPI finds its components and help files
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_pml=ob1  # 1 rank on 1 node: no network transports probed

# ---- configure ---------------------------------------------------------------
cmake_args=(-S "$repo" -B "$out" -DCMAKE_BUILD_TYPE=Release -DLLMSREC_WITH_NCCL=ON -DLLMSREC_BUILD_BENCH=OFF
  "-DCMAKE_PREFIX_PATH=$root/usr;$lib/cmake;$torch_prefix")
command -v ninja >/dev/null && cmake_args+=(-G Ninja)
grep -qx mpi "$out/prefix-groups.txt" 2>/dev/null && cmake_args+=("-DMPI_C_COMPILER=$root/usr/bin/mpicc.openmpi")
grep -qx hdf5 "$out/prefix-groups.txt" 2>/dev/null &&
  cmake_args+=("-DHDF5_C_COMPILER_EXECUTABLE=$root/usr/bin/h5cc")
grep -qx cli11 "$out/prefix-groups.txt" 2>/dev/null && cmake_args+=("-DCMAKE_CXX_FLAGS=-isystem $root/usr/include")
# NCCL: the CUDA toolkit's, else the nvidia-nccl wheel that a Python torch uses.
if ! ls /usr/local/cuda/include/nccl.h /usr/include/nccl.h >/dev/null 2>&1; then
  nccl_root=$(python3 -c 'import nvidia.nccl as m; print(list(m.__path__)[0])' 2>/dev/null)
  [[ -n $nccl_root ]] && cmake_args+=("-DNCCL_ROOT=$nccl_root")
fi
if [[ ${st_status[deps]} != ok ]]; then
  skip_stage configure "deps failed"
elif ! command -v cmake >/dev/null; then
  skip_stage configure "no cmake on this machine (run scripts/gpu/fetch-deps.sh --with-cmake here)"
elif [[ -z $torch_prefix ]]; then
  skip_stage configure "no libtorch: no python3 torch and no --torch-prefix"
elif [[ $torch_desc == *cxx11_abi=False* ]]; then
  skip_stage configure "this torch uses the old C++ ABI; Debian's libraries need cxx11_abi=True (torch >= 2.7 wheels)"
else
  rm -f "$out/CMakeCache.txt"  # pkg-config results are cached: re-probe with this run's environment
  run_stage configure 120 cmake "${cmake_args[@]}"
  grep -E 'llmsrec: NCCL backend|Found (MPI_C|HDF5|Boost|nlohmann|ZLIB|GTest)|Found (libpcre2|icu-uc)|Found Torch' \
    "$logs/configure.log" | sed 's/^/    /'
  note configure "$(grep -o 'NCCL backend [A-Z]* (NCCL [0-9.]*' "$logs/configure.log" | head -1))"
  ok configure && ! grep -q 'NCCL backend ON' "$logs/configure.log" && {
    st_status[configure]=FAILED
    note configure "NCCL backend not ON"
  }
fi

# ---- build and GPU stages ----------------------------------------------------
gpu_stages=(build unit nccl prep lm bench train embed)
if ((no_gpu)); then
  for s in "${gpu_stages[@]}"; do skip_stage "$s" "--no-gpu"; done
  summary
  exit $?
fi
if ok configure; then
  run_stage build "${GPU_CHECK_BUILD_TIMEOUT_S:-330}" cmake --build "$out" -j"$jobs" --target llmsrec_cli llmsrec_unit_tests
else
  skip_stage build "configure did not succeed"
fi
if ! ok build; then
  for s in unit nccl prep lm bench train embed; do skip_stage "$s" "no build"; done
  summary
  exit $?
fi
llmsrec=$out/llmsrec
[[ -z $gpu_name ]] && note build "no GPU seen by nvidia-smi: the cuda stages will fail"

# Unit tests: every test, CUDA ones by name (the device axis puts the device in it).
run_stage unit 150 ctest --test-dir "$out" -L unit -j"$jobs" --timeout 90 --output-on-failure
# A test runs on CUDA when "cuda" is a whole segment of its name (CUDA/Op.Test,
# Op.Test/cuda, ..._cuda_bf16), not part of a word (NcclRules.CudaErrorNames).
cuda_count() {  # $1: a regex of ctest result words (Passed, ***Failed, ...)
  awk -v want="$1" '$2 == "Test" {
      name = tolower($4)
      if (name !~ /(^|[\/_.])cuda([\/_.]|$)/) next
      for (i = 5; i <= NF; ++i) if ($i ~ want) { ++n; break }
    } END { print n + 0 }' "$logs/unit.log"
}
cuda_pass=$(cuda_count '^Passed$')
cuda_fail=$(cuda_count 'Failed|Exception|Timeout|Not')
cuda_skip=$(cuda_count 'Skipped')
note unit "$(grep -E 'tests passed, [0-9]+ tests failed out of' "$logs/unit.log" | tail -1)"
note unit "on CUDA: $cuda_pass passed, $cuda_fail failed, $cuda_skip skipped"

# NCCL: all-reduces of a host buffer through the NCCL communicator (staged).
ngpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
nccl_check() {
  local -a launch=()
  local mpiexec
  mpiexec=$(command -v mpiexec || command -v mpiexec.openmpi)
  if ((ngpus > 1)) && [[ -n $mpiexec ]]; then
    launch=("$mpiexec" -np "$((ngpus > 8 ? 8 : ngpus))" --oversubscribe -x LD_LIBRARY_PATH)
    [[ -n ${OPAL_PREFIX:-} ]] && launch+=(-x OPAL_PREFIX)
  fi
  "${launch[@]}" "$llmsrec" cluster check --steps 20 --bytes 67108864 --set cluster.backend=nccl \
    --set cluster.control_port=-1 --json >"$out/nccl.json"
}
run_stage nccl 60 nccl_check
ok nccl && note nccl "$(python3 - "$out/nccl.json" 2>&1 <<'EOF'
import json, sys
j = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
busbw = j.get("mean_busbw_gbps", 0)
print(f"backend={j.get('backend')} ranks={len(j.get('ranks', []))} mean_busbw_gbps={busbw:.1f}")
EOF
)"

# The demo's settings (launcher/demo_pipeline.cpp), smaller teacher; a big tiny LLaMA.
sets=(--set "run.dir=$run_dir" --set data.format=synthetic --set teacher.epochs=5 --set teacher.maxlen=32
  --set train.epochs=1 --set train.validations_per_epoch=2 --set train.valid_users=500 --set cluster.control_port=-1)
cuda_sets=(--set "llm.path=$run_dir/llm" --set cluster.device=cuda --set llm.dtype=bf16)
cfg=(-c "$repo/configs/demo.yaml")
rm -rf "$run_dir"
prep() {
  "$llmsrec" prepare "${cfg[@]}" "${sets[@]}" &&
    "$llmsrec" teacher train "${cfg[@]}" "${sets[@]}" &&
    "$llmsrec" teacher export "${cfg[@]}" "${sets[@]}"
}
run_stage prep 120 prep
if ok prep; then
  run_stage lm 60 "$llmsrec" lm make-tiny "$run_dir/llm" --dim 1024 --layers 8 --heads 16 --kv-heads 8 \
    --hidden-dim 2816 --vocab 32000 --max-pos 2048 --seed 1 --corpus-from "$run_dir/dataset.h5"
else
  skip_stage lm "no dataset"
fi
if ok lm; then
  bench() { "$llmsrec" bench train "${cfg[@]}" "${sets[@]}" "${cuda_sets[@]}" --steps 10 --warmup 3 --json >"$out/bench.json"; }
  run_stage bench 120 bench
  if ok bench; then
    note bench "$(python3 - "$out/bench.json" <<'EOF'
import json, sys
j = json.loads(open(sys.argv[1]).read())
def g(k, f):
    v = j.get(k)
    return f"{k}=" + (format(v, f) if isinstance(v, (int, float)) else "missing")
print(" ".join([g("ms_per_step", ".1f"), g("mfu", ".3f"), g("achieved_flops_per_s", ".3g"),
                g("peak_flops_per_s", ".3g")]))
EOF
)"
  fi
  run_stage train 120 "$llmsrec" train "${cfg[@]}" "${sets[@]}" "${cuda_sets[@]}" --set train.max_steps=20 --json
  if ok train; then
    run_stage embed 90 "$llmsrec" embed "${cfg[@]}" "${sets[@]}" "${cuda_sets[@]}" --last --json
  else
    skip_stage embed "no trained checkpoint"
  fi
else
  for s in bench train embed; do skip_stage "$s" "no LLaMA"; done
fi
summary
