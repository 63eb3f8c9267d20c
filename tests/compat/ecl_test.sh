#!/bin/sh
# A real client, unchanged: Debian's ECL (Embeddable Common Lisp, whose
# libecl is linked with libgc.so.1) runs tests/compat/ecl/client.lisp --
# hash tables (equal, eq, weak keys, weak values), finalizers, bignums,
# strings, deep trees and four threads -- on Debian's libgc (the
# reference) and then through pargc-run: in the default mode, in
# concurrent mode, and in stop mode with collections about ten times as
# frequent (PARGC_HEAP_BALANCE=1M), the setting that exposed a lost
# object in Guile.  Every run must print what the reference printed (the
# program checks its own tables and counts what it lost).  Skipped
# (exit 77) where ecl is not installed or not linked with libgc.so.1.
set -u
top=${top_builddir:-.}
src=${top_srcdir:-.}
. "$src/tests/compat/client.sh"
ecl=$(command -v ecl || true)
client_require "$ecl" ecl
client_tmpdir ecl
prog=$src/tests/compat/ecl/client.lisp

if ! timeout 300 "$ecl" --norc --shell "$prog" >"$tmp/ref" 2>"$tmp/err" ||
    ! grep -q '^lost: 0$' "$tmp/ref"; then
  echo "FAIL: the program does not run cleanly on the system's libgc:"
  tail -5 "$tmp/ref" "$tmp/err"
  exit 1
fi
for run in "stop 16M" "concurrent 16M" "stop 1M"; do
  set -- $run
  PARGC_RUN_LIBDIR=$top/libgc-compat PARGC_MODE=$1 PARGC_CONC_MIN_LIVE=0 PARGC_HEAP_BALANCE=$2 \
    PARGC_STATS_FILE=$tmp/stats timeout 300 "$top/pargc-run" "$ecl" --norc --shell "$prog" \
    >"$tmp/out" 2>"$tmp/err"
  client_result $? "$1 mode, PARGC_HEAP_BALANCE=$2" "as on libgc ($(tail -1 "$tmp/out"))"
done
client_summary
