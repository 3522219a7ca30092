#!/usr/bin/env bash
# Run HERE (Debian 12, apt configured): downloads the Debian 12 packages that
# llmsrec's build needs besides libtorch and CUDA into .gpu-deps/debs (ignored
# by git), so scripts/gpu-check.sh can build on a GPU machine that cannot reach
# a package mirror. The files travel with the working tree (the device tool
# carries at most 64 MiB), so the total is checked against a budget.
#
#   bash scripts/gpu/fetch-deps.sh             # build deps (~45 MiB)
#   bash scripts/gpu/fetch-deps.sh --with-cmake  # also cmake + its libs (~12 MiB more)
#
# Output: .gpu-deps/debs/*.deb and .gpu-deps/manifest.tsv, one line per
# (group, package, file): gpu-check.sh probes each group on the remote machine
# first and unpacks a group's debs only when the remote lacks it.
#
# Left out on purpose (size): SentencePiece (optional in CMakeLists.txt: the
# SentencePiece tokenizer tests skip), OpenBLAS (a Python torch brings MKL or
# OpenBLAS), hdf5-tools/h5py (integration tests only), hwloc's X11 plugins,
# Fortran/C++ HDF5 libraries (llmsrec uses the C API), compilers.
set -euo pipefail
cd "$(dirname "$0")/../.."

budget_mib=60
with_cmake=0
for arg in "$@"; do
  case "$arg" in
    --with-cmake) with_cmake=1 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "fetch-deps: unknown argument '$arg' (expected --with-cmake)" >&2; exit 2 ;;
  esac
done

# group -> the packages whose files the build uses (headers, .so links, CMake
# or pkg-config files, wrappers). Their runtime libraries are added below.
declare -A group_pkgs=(
  [mpi]="libopenmpi-dev openmpi-bin openmpi-common"
  [hdf5]="libhdf5-dev hdf5-helpers libaec-dev libcurl4-openssl-dev"
  [yaml-cpp]="libyaml-cpp-dev"
  [boost]="libboost1.74-dev"
  [nlohmann-json]="nlohmann-json3-dev"
  [spdlog-fmt]="libspdlog-dev libfmt-dev"
  [pcre2]="libpcre2-dev"
  [icu]="libicu-dev"
  [cli11]="libcli11-dev"
  [zlib]="zlib1g-dev"
  [gtest]="libgtest-dev libgmock-dev"
  [benchmark]="libbenchmark-dev"
  [jemalloc]="libjemalloc-dev"
  [tools]="ninja-build pkgconf pkgconf-bin libpkgconf3"
)
group_order=(mpi hdf5 yaml-cpp boost nlohmann-json spdlog-fmt pcre2 icu cli11 zlib gtest benchmark jemalloc tools)
if ((with_cmake)); then
  group_pkgs[cmake]="cmake cmake-data"
  group_order+=(cmake)
fi

# Present on any glibc 2.36+ Linux that can run a Debian 12 binary at all, or
# not needed by what we link: never shipped.
skip_re='^(libc6|libc6-dev|libc-dev-bin|linux-libc-dev|libgcc-s1|libgcc-.*-dev|libstdc\+\+.*|gcc-.*|cpp.*|g\+\+.*|gfortran.*|libgfortran.*|libquadmath0|zlib1g|libcrypt1|libcrypt-dev|libselinux1|libzstd1|liblzma5|libbz2-1.0|libgmp10|libsystemd0|libcap2|libudev1|libtinfo6|libncursesw6|libexpat1|libblkid1|libuuid1|libmount1|libffi8|libgpg-error0|libgcrypt20|liblz4-1|libp11-kit0|libidn2-0|libunistring2|libtasn1-6|libnettle8|libhogweed6|libgnutls30|libkrb5-3|libgssapi-krb5-2|libk5crypto3|libkrb5support0|libcom-err2|libkeyutils1|libsasl2-2|libsasl2-modules-db|libdb5.3|libldap-2.5-0|debconf|dpkg|perl.*|libperl.*|libhwloc-plugins|libxnvctrl0|libx11.*|libxcb.*|libxau6|libxdmcp6|libxext6|libbsd0|libmd0|libxml2|libjs-.*|libhdf5-fortran-.*|libhdf5-hl-fortran-.*|libhdf5-cpp-.*|libhdf5-hl-cpp-.*|libjpeg-dev|libjpeg62-turbo-dev|libssl-dev|mpi-default-.*|libhwloc-dev|libevent-dev|libibverbs-dev|libnl-.*-dev|libpmix-dev|libfabric-dev|libnuma-dev|libltdl-dev|libudev-dev|gcc|g\+\+|openssh-client|binutils.*|make|libicu-dev-.*|icu-devtools|libjsoncpp-dev|python3.*|procps|dh-.*|emacsen-common|libncurses.*|readline-common|libreadline8|sensible-utils|libproc2-0|adduser|passwd|libpam.*|libaudit.*|libcap-ng0|libsemanage.*|libsepol2|catch2)$'

direct_deps() {  # the Depends/Pre-Depends of $1 (first alternative only)
  apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances "$1" |
    awk '/^ *\|?(Pre)?Depends: [^<]/ && !alt { print $2 } { alt = ($1 ~ /^\|/) }' | sort -u
}

# Closure: a group's packages plus every library they need, minus skip_re.
closure() {
  local -a todo=("$@")
  declare -A seen=()
  while ((${#todo[@]})); do
    local p=${todo[-1]}
    unset 'todo[-1]'
    [[ -n ${seen[$p]:-} || $p =~ $skip_re ]] && continue
    seen[$p]=1
    local d
    for d in $(direct_deps "$p"); do
      [[ -n ${seen[$d]:-} || $d =~ $skip_re ]] && continue
      todo+=("$d")
    done
  done
  printf '%s\n' "${!seen[@]}" | sort
}

out=.gpu-deps
mkdir -p "$out/debs"
manifest=$out/manifest.tsv.tmp
: >"$manifest"
declare -A fetched=()
for g in "${group_order[@]}"; do
  # shellcheck disable=SC2086  # word splitting of the package list is intended
  for p in $(closure ${group_pkgs[$g]}); do
    if [[ -z ${fetched[$p]:-} ]]; then
      if ! compgen -G "$out/debs/${p}_*.deb" >/dev/null; then
        # As root apt warns that _apt cannot write here; harmless, filtered.
        (cd "$out/debs" && apt-get download -qq "$p" 2> >(grep -v 'unsandboxed as root' >&2)) ||
          { echo "fetch-deps: apt-get download $p failed (run apt-get update?)" >&2; exit 1; }
      fi
      debs=("$out/debs/${p}"_*.deb)
      fetched[$p]=$(basename "${debs[0]}")
    fi
    printf '%s\t%s\t%s\n' "$g" "$p" "${fetched[$p]}" >>"$manifest"
  done
done
mv "$manifest" "$out/manifest.tsv"

# Drop debs of an earlier run that the manifest no longer names.
for f in "$out"/debs/*.deb; do
  cut -f3 "$out/manifest.tsv" | grep -qxF "$(basename "$f")" || rm -f "$f"
done

bytes=$(du -cb "$out"/debs/*.deb | tail -1 | cut -f1)
mib=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
echo "fetch-deps: ${#fetched[@]} packages in ${#group_order[@]} groups, $mib MiB in $out/debs (budget $budget_mib MiB)"
for g in "${group_order[@]}"; do
  files=$(awk -F'\t' -v g="$g" '$1 == g { print "'"$out"'/debs/" $3 }' "$out/manifest.tsv")
  # shellcheck disable=SC2086
  printf '  %-14s %6.1f MiB  %s\n' "$g" "$(du -cb $files | tail -1 | awk '{ print $1 / 1048576 }')" \
    "$(awk -F'\t' -v g="$g" '$1 == g { printf "%s ", $2 }' "$out/manifest.tsv")"
done
if awk -v b="$bytes" -v m="$budget_mib" 'BEGIN { exit !(b > m * 1048576) }'; then
  echo "fetch-deps: ERROR: $mib MiB is over the $budget_mib MiB budget (the device tool carries 64 MiB in all)" >&2
  exit 1
fi
