#!/bin/sh
# Packs what the checks on a GPU machine need into a directory and a
# tarball, so that one command there measures what needs its 16 cores
# (the performance model against measured collections, PARGC_GC_THREADS=auto,
# the collector's scaling, allocation throughput) and then runs every
# check of the CUDA heap that wants a GPU: see docs/gpu.md, "Running the
# checks on a GPU machine".
#
# The pack holds the binaries, remote-run.sh, model-validate.sh and the
# sources of the GPU binaries.  The GPU binaries link the CUDA runtime
# statically, so they need only the C and C++ runtimes there; should they
# not start there anyway (an older glibc), remote-run.sh rebuilds them
# from the packed sources with that machine's nvcc.  The collector's
# binaries are the real ones, not libtool's wrapper scripts (which hold
# this machine's paths); lib/ has every library they load beyond glibc,
# libstdc++ and libgcc: libpargc, Boehm GC's libgc (for the -bdwgc
# binaries) and hwloc with what it needs (libpargc opens hwloc at run
# time, so ldd does not list it).
#
# Usage, from the repository root:
#   sh scripts/remote-pack.sh [BUILD_DIR [PACK_DIR]]
# BUILD_DIR (default build) must be configured with the GPU heap (nvcc
# found) and built:
#   make -C BUILD_DIR && make -C BUILD_DIR examples bench &&
#   make -C BUILD_DIR tests/gpu/gpu_heap_test bench/gpu/gpu_bench
# (the last also comes with make check).  PACK_DIR (default remote-pack)
# is replaced; PACK_DIR.tar.gz is written beside it.  Two optional parts:
# STRESS_BUILD=DIR packs ten stress tests from DIR, a build with
# assertions whose make check has built them (stress/); and when
# bench/malloc_suite.sh --prepare has built mimalloc-bench's programs and
# mimalloc is installed, larson, xmalloc-test, mimalloc and
# libpargc-malloc are packed (malloc/).
#
# Layout: bin/ (GPU binaries, fullgc-*, gcbench*, alloc_tp-*), lib/,
# model/tools/{pargc-predict,model-heaps} and model/examples/gcbench
# (the build layout model-validate.sh expects), model-validate.sh,
# remote-run.sh, src/, and stress/ and malloc/ when packed.
set -e
build=${1:-build}
dest=${2:-remote-pack}
name=$(basename "$dest")

# The real executable of a program libtool may have wrapped.
real() {
  d=$(dirname "$1") b=$(basename "$1")
  for f in "$build/$d/.libs/$b" "$build/$1"; do
    if [ -f "$f" ] && [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ]; then
      echo "$f"
      return
    fi
  done
  echo "remote-pack: no executable $build/$1 (a wrapper script without .libs/$b?)" >&2
  return 1
}

missing=
for b in tests/gpu/gpu_heap_test bench/gpu/gpu_bench tools/pargc-predict tools/model-heaps \
    examples/gcbench examples/gcbench-bdwgc bench/fullgc-pargc bench/fullgc-bdwgc \
    bench/alloc_tp-pargc bench/alloc_tp-bdwgc .libs/libpargc.so.0; do
  [ -e "$build/$b" ] || missing="$missing $b"
done
if [ -n "$missing" ]; then
  echo "remote-pack: missing in $build:$missing" >&2
  echo "remote-pack: configure with nvcc, then make, make examples bench," \
    "make tests/gpu/gpu_heap_test bench/gpu/gpu_bench" >&2
  exit 1
fi

rm -rf "$dest" "$dest.tar.gz"
mkdir -p "$dest/bin" "$dest/lib" "$dest/model/tools" "$dest/model/examples"
dest=$(cd "$dest" && pwd)
for b in tests/gpu/gpu_heap_test bench/gpu/gpu_bench bench/fullgc-pargc bench/fullgc-bdwgc \
    examples/gcbench examples/gcbench-bdwgc bench/alloc_tp-pargc bench/alloc_tp-bdwgc; do
  cp "$(real "$b")" "$dest/bin/"
done
cp "$(real tools/pargc-predict)" "$(real tools/model-heaps)" "$dest/model/tools/"
cp "$(real examples/gcbench)" "$dest/model/examples/"
cp scripts/remote-run.sh tools/model-validate.sh "$dest/"
# Stress tests on 16 cores, from a build with assertions
# (--enable-assertions, and UBSan where configured), when
# STRESS_BUILD names one whose `make check` has built them.
stress="gc_stress_test threads_stress_test conc_race_test free_large_race_test alloc_stress_test
  finalize_stress_test conc_heap_test suspend_stress_test small_free_stress_test kinds_stress_test"
if [ -n "${STRESS_BUILD:-}" ]; then
  mkdir -p "$dest/stress"
  for t in $stress; do
    f=$STRESS_BUILD/tests/stress/$t
    if [ -f "$f" ] && [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ]; then
      cp "$f" "$dest/stress/"
    else
      echo "remote-pack: $f missing or not a program: left out" >&2
    fi
  done
fi
# The malloc library against mimalloc on mimalloc-bench's threaded
# programs, when bench/malloc_suite.sh --prepare has built them and
# mimalloc is installed (apt-get install libmimalloc2.0).
suite=${TMPDIR:-/tmp}/pargc_malloc_suite/bin
mi=$( (ldconfig -p 2> /dev/null || /sbin/ldconfig -p) |
      awk '$1 ~ /^libmimalloc\.so\.[0-9]+$/ && /x86-64/ { print $NF; exit }')
if [ -x "$suite/larson" ] && [ -x "$suite/xmalloc-test" ] && [ -n "$mi" ] &&
   [ -e "$build/.libs/libpargc-malloc.so.0" ]; then
  mkdir -p "$dest/malloc"
  cp "$suite/larson" "$suite/xmalloc-test" "$dest/malloc/"
  cp -L "$mi" "$dest/malloc/libmimalloc.so"
  cp -L "$build/.libs/libpargc-malloc.so.0" "$dest/malloc/libpargc-malloc.so"
else
  echo "remote-pack: no malloc step (needs bench/malloc_suite.sh --prepare, libmimalloc and" \
    "$build/.libs/libpargc-malloc.so.0)" >&2
fi

# The sources remote-run.sh --build compiles, laid out as in the
# repository.
mkdir -p "$dest/src/tests/gpu" "$dest/src/bench/gpu"
cp -R include gpu "$dest/src/"
cp tests/check.h "$dest/src/tests/"
cp tests/gpu/*.cu tests/gpu/*.h "$dest/src/tests/gpu/"
cp bench/gpu/gpu_bench.cu "$dest/src/bench/gpu/"

# Libraries: libpargc, hwloc (by the name libpargc opens), then, until
# nothing is added, whatever the binaries and libraries in the pack load
# that is not part of glibc or the C++ runtime.
cp -L "$build/.libs/libpargc.so.0" "$dest/lib/"
hwloc=$(sed -n 's/^#define PARGC_HWLOC_LIBRARY "\(.*\)"/\1/p' "$build/config.h")
if [ -n "$hwloc" ]; then
  f=$( (ldconfig -p 2> /dev/null || /sbin/ldconfig -p) |
       awk -v n="$hwloc" '$1 == n && /x86-64/ { print $NF; exit }')
  for d in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/local/lib /usr/lib; do
    if [ -z "$f" ] && [ -e "$d/$hwloc" ]; then f=$d/$hwloc; fi
  done
  if [ -n "$f" ]; then
    cp -L "$f" "$dest/lib/"
  else
    echo "remote-pack: $hwloc not found here: the pack will run without hwloc" >&2
  fi
fi
system_lib() {
  case $1 in
    libc.so.*|libm.so.*|libmvec.so.*|libpthread.so.*|libdl.so.*|librt.so.*|libresolv.so.*|\
    libutil.so.*|ld-linux*|libstdc++.so.*|libgcc_s.so.*) return 0 ;;
  esac
  return 1
}
added=yes
while [ $added = yes ]; do
  added=no
  for f in "$dest"/bin/* "$dest"/model/tools/* "$dest"/model/examples/* "$dest"/lib/* \
      "$dest"/malloc/* "$dest"/stress/*; do
    [ -e "$f" ] || continue
    LD_LIBRARY_PATH="$dest/lib" ldd "$f" 2> /dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'
  done | sort -u > "$dest/.libs-needed"
  while read -r lib; do
    b=$(basename "$lib")
    if ! system_lib "$b" && [ ! -e "$dest/lib/$b" ]; then
      cp -L "$lib" "$dest/lib/"
      added=yes
    fi
  done < "$dest/.libs-needed"
done
rm -f "$dest/.libs-needed"

# Check: with LD_LIBRARY_PATH=PACK/lib every library that is not glibc's
# or the C++ runtime's comes from PACK/lib, none is missing.
bad=
for f in "$dest"/bin/* "$dest"/model/tools/* "$dest"/model/examples/* "$dest"/lib/*; do
  LD_LIBRARY_PATH="$dest/lib" ldd "$f" 2> /dev/null | while read -r lib arrow path rest; do
    [ "$arrow" = "=>" ] || continue
    if [ "$path" = not ]; then
      echo "remote-pack: $f: $lib not found" >&2
      echo bad
    elif ! system_lib "$lib" && [ "$path" != "$dest/lib/$lib" ]; then
      echo "remote-pack: $f: $lib from $path, not from $dest/lib" >&2
      echo bad
    fi
  done
done > "$dest/.bad"
bad=$(cat "$dest/.bad")
rm -f "$dest/.bad"
[ -z "$bad" ] || exit 1

tar -C "$(dirname "$dest")" -czf "$dest.tar.gz" "$name"
newest=$(objdump -T "$dest"/bin/* "$dest"/model/tools/* "$dest"/lib/* 2> /dev/null |
  grep -o 'GLIBC_2\.[0-9]*' | sort -t. -k2 -n -u | tail -1)
echo "remote-pack: $(du -sh "$dest" | cut -f1) in $dest, $(du -sh "$dest.tar.gz" | cut -f1) in $dest.tar.gz (newest glibc symbol: ${newest:-none})"
echo "remote-pack: on the GPU machine: sh $name/remote-run.sh [RESULTS_DIR] (at most 8 minutes)"
ls -l "$dest/bin" "$dest/model/tools" "$dest/model/examples" "$dest/lib"
