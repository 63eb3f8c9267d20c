#!/bin/sh
# abi_test.sh: are pargc's public headers ABI-identical to Debian's Boehm
# GC 8.2 headers?  Two checks, each in the four client variants (plain,
# -DGC_THREADS, -DGC_DEBUG, both):
#  1. abi_probe.c, compiled against each header set and run, prints type
#     sizes, struct offsets, enum and macro values and macro expansions;
#     the outputs must be identical.
#  2. gcc -aux-info lists every function prototype each header set
#     declares; the lists must be identical, apart from the differences
#     listed in abi_expected.diff (reviewed, with a reason each).
#  3. abi_probe_cpp.cc does the same for gc_cpp.h and gc_allocator.h
#     (class layouts, GCPlacement values), when $CXX is set.
#  4. pargc's headers compile cleanly as C89 and C++98 (-pedantic), as
#     Boehm GC's do.
# Needs the compiler ($CC) and Boehm's headers ($BDWGC_INCLUDEDIR, from
# configure); skipped (77) without them.
srcdir_compat=$(dirname "$0")
top_srcdir=${top_srcdir:-$srcdir_compat/../..}
CC=${CC:-cc}
if [ -z "$BDWGC_INCLUDEDIR" ] || [ ! -f "$BDWGC_INCLUDEDIR/gc/gc.h" ]; then
  echo "SKIP: Boehm GC headers (libgc-dev) not found"; exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pargc_abi.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM

status=0
headers='#include <gc/gc.h>
#include <gc/gc_mark.h>
#include <gc/gc_typed.h>
#include <gc/gc_inline.h>
#include <gc/gc_gcj.h>
#include <gc/gc_disclaim.h>
#include <gc/gc_backptr.h>
#include <gc/javaxfc.h>'
printf '%s\n' "$headers" > "$tmp/all.c"
for variant in plain GC_THREADS GC_DEBUG GC_THREADS+GC_DEBUG; do
  case $variant in
    plain) defs= ;;
    GC_THREADS) defs=-DGC_THREADS ;;
    GC_DEBUG) defs=-DGC_DEBUG ;;
    *) defs="-DGC_THREADS -DGC_DEBUG" ;;
  esac
  for side in pargc boehm; do
    if [ $side = pargc ]; then inc="-I$top_srcdir/include"; else inc="-I$BDWGC_INCLUDEDIR"; fi
    $CC -Wno-deprecated-declarations $defs $inc -o "$tmp/probe_$side" "$srcdir_compat/abi_probe.c" || { status=1; continue; }
    "$tmp/probe_$side" > "$tmp/probe_$side.txt" || status=1
    $CC $defs -D_GNU_SOURCE $inc -c -aux-info "$tmp/aux_$side.raw" -o /dev/null "$tmp/all.c" || status=1
    # Keep the prototypes, drop where they came from and spacing.
    grep -o 'extern .*' "$tmp/aux_$side.raw" | grep 'GC_' | sed 's/  */ /g' | LC_ALL=C sort -u \
      > "$tmp/aux_$side.txt"
  done
  if ! diff -u "$tmp/probe_boehm.txt" "$tmp/probe_pargc.txt" > "$tmp/probe.diff"; then
    echo "FAIL [$variant]: abi_probe output differs (- Boehm, + pargc):"
    cat "$tmp/probe.diff"
    status=1
  else
    echo "ok [$variant]: $(wc -l < "$tmp/probe_pargc.txt") sizes, offsets, values and expansions agree"
  fi
  diff "$tmp/aux_boehm.txt" "$tmp/aux_pargc.txt" | grep '^[<>]' > "$tmp/aux.diff"
  # Every difference must be one of the accepted ones.
  grep '^[<>]' "$srcdir_compat/abi_expected.diff" > "$tmp/allowed"
  if grep -v -x -F -f "$tmp/allowed" "$tmp/aux.diff" > "$tmp/unexpected"; then
    echo "FAIL [$variant]: prototypes differ (< Boehm, > pargc), not in abi_expected.diff:"
    cat "$tmp/unexpected"
    status=1
  else
    echo "ok [$variant]: $(wc -l < "$tmp/aux_pargc.txt") prototypes agree" \
      "($(wc -l < "$tmp/aux.diff") accepted differences)"
  fi
done

if [ -n "$CXX" ]; then
  for side in pargc boehm; do
    if [ $side = pargc ]; then inc="-I$top_srcdir/include"; else inc="-I$BDWGC_INCLUDEDIR"; fi
    $CXX $inc -o "$tmp/cpp_$side" "$srcdir_compat/abi_probe_cpp.cc" && "$tmp/cpp_$side" > "$tmp/cpp_$side.txt" \
      || status=1
  done
  if diff -u "$tmp/cpp_boehm.txt" "$tmp/cpp_pargc.txt"; then
    echo "ok [C++]: $(wc -l < "$tmp/cpp_pargc.txt") layouts, values and expansions agree"
  else
    echo "FAIL [C++]: abi_probe_cpp output differs (- Boehm, + pargc)"
    status=1
  fi
fi

# Old language levels: the headers must not need C99 or C++11.
printf '%s\n#include <gc/leak_detector.h>\nint main(void) { return 0; }\n' "$headers" > "$tmp/c89.c"
for defs in "" "-DGC_THREADS -DGC_DEBUG"; do
  if $CC -std=c89 -pedantic -Werror -Wno-long-long $defs -I"$top_srcdir/include" -fsyntax-only "$tmp/c89.c"; then
    echo "ok [C89 $defs]: headers compile"
  else
    echo "FAIL [C89 $defs]: headers do not compile cleanly"; status=1
  fi
done
if [ -n "$CXX" ]; then
  printf '#include <gc/gc_cpp.h>\n#include <gc/gc_allocator.h>\nint main() { return 0; }\n' > "$tmp/cxx98.cc"
  if $CXX -std=c++98 -pedantic -Werror -Wno-long-long -I"$top_srcdir/include" -fsyntax-only "$tmp/cxx98.cc"; then
    echo "ok [C++98]: headers compile"
  else
    echo "FAIL [C++98]: headers do not compile cleanly"; status=1
  fi
fi
exit $status
