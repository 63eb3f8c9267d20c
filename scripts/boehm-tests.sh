#!/usr/bin/env bash
# boehm-tests.sh BDWGC_SRC [BUILDDIR]
#
# Builds Boehm GC's own test programs from a Boehm GC 8.2 source tree
# (tests/test.c -- "gctest" -- and the smaller ones beside it) against
# libpargc, as Boehm GC's build does against libgc, and runs each in
# pargc's stop-parallel and concurrent modes.  Prints one line per
# program and mode, then "N passed, N failed"; exits nonzero on a
# failure.  BUILDDIR is a configured pargc build (default: build).
#
# The programs include Boehm GC's private headers, so they need its
# source, not only libgc-dev: for example
#   git clone -b v8.2.8 https://github.com/ivmai/bdwgc
# Its gc_version.h is copied with the version libpargc reports
# (GC_get_version), which the programs compare with their own.
set -euo pipefail
src=${1:?usage: boehm-tests.sh BDWGC_SRC [BUILDDIR]}
builddir=$(cd "${2:-build}" && pwd)
libs=$builddir/.libs
[ -e "$libs/libpargc.so" ] || { echo "boehm-tests: $libs/libpargc.so not built" >&2; exit 2; }
[ -f "$src/tests/test.c" ] || { echo "boehm-tests: $src/tests/test.c not found" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The version libpargc reports, for the copied gc_version.h.
cat >"$work/version.c" <<'C'
#include <stdio.h>
unsigned GC_get_version(void);
int main(void) { unsigned v = GC_get_version(); printf("%u %u %u\n", v >> 16, (v >> 8) & 255, v & 255); return 0; }
C
gcc -o "$work/version" "$work/version.c" -L"$libs" -lpargc
read -r major minor micro < <(LD_LIBRARY_PATH=$libs "$work/version")
cp -r "$src/include" "$work/include"
sed -i -e "s/^#define GC_TMP_VERSION_MAJOR .*/#define GC_TMP_VERSION_MAJOR $major/" \
  -e "s/^#define GC_TMP_VERSION_MINOR .*/#define GC_TMP_VERSION_MINOR $minor/" \
  -e "s/^#define GC_TMP_VERSION_MICRO .*/#define GC_TMP_VERSION_MICRO $micro/" \
  "$work/include/gc_version.h"

# The configuration of a default Boehm GC build on Linux.
cflags="-O2 -I$work/include -DGC_THREADS -DPARALLEL_MARK -DTHREAD_LOCAL_ALLOC
  -DGC_ENABLE_SUSPEND_THREAD -DGC_GCJ_SUPPORT -DATOMIC_UNCOLLECTABLE -DGC_NOT_DLL
  -DNO_EXECUTE_PERMISSION -DHANDLE_FORK -DUSE_MMAP -DUSE_MUNMAP -DENABLE_DISCLAIM"
progs="test disclaim_test disclaim_weakmap_test huge_test initsecondarythread leak_test
  middle realloc_test smash_test subthread_create threadkey_test thread_leak_test"
pass=0 fail=0
# build NAME COMMAND...: compile one program, or count it failed.
build() {
  local name=$1
  shift
  if ! "$@" 2>"$work/$name.cc"; then
    echo "FAIL $name: does not build: $(head -n 1 "$work/$name.cc")"
    fail=$((fail + 1))
    return 1
  fi
}
built=
for p in $progs; do
  [ -f "$src/tests/$p.c" ] || continue
  # shellcheck disable=SC2086
  build "$p" gcc $cflags -o "$work/$p" "$src/tests/$p.c" -L"$libs" -lpargc -lpthread &&
    built="$built $p"
done
# The C++ interface (gc_cpp.h, libpargccpp), run with 10 iterations as
# Boehm GC's make check does, and static roots in a shared library.
if [ -f "$src/tests/test_cpp.cc" ]; then
  # shellcheck disable=SC2086
  build test_cpp g++ $cflags -o "$work/test_cpp" "$src/tests/test_cpp.cc" \
    -L"$libs" -lpargccpp -lpargc -lpthread && built="$built test_cpp"
fi
if [ -f "$src/tests/staticrootstest.c" ]; then
  # shellcheck disable=SC2086
  build staticrootslib gcc $cflags -fPIC -shared -o "$work/libstaticrootslib.so" \
    "$src/tests/staticrootslib.c" -L"$libs" -lpargc &&
    build staticrootstest gcc $cflags -o "$work/staticrootstest" "$src/tests/staticrootstest.c" \
      -L"$work" -lstaticrootslib -L"$libs" -lpargc -lpthread && built="$built staticrootstest"
fi
for p in $built; do
  args=
  [ "$p" = test_cpp ] && args=10
  for mode in stop concurrent; do
    # shellcheck disable=SC2086
    if PARGC_MODE=$mode PARGC_CONC_MIN_LIVE=0 LD_LIBRARY_PATH=$libs:$work timeout 600 "$work/$p" $args \
      >"$work/$p.$mode.out" 2>&1; then
      echo "PASS $p ($mode)"
      pass=$((pass + 1))
    else
      echo "FAIL $p ($mode, status $?): $(tail -n 1 "$work/$p.$mode.out")"
      fail=$((fail + 1))
    fi
  done
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
