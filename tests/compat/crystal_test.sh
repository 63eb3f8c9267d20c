#!/bin/sh
# A real client, unchanged: Debian's Crystal compiler (linked with
# libgc.so.1) builds tests/compat/crystal/fibers.cr twice -- with the
# default runtime, whose fibers run on the main thread and which writes
# each running fiber's stack base into GC_stackbottom, and with
# -Dpreview_mt, whose threads' fiber bases are set with
# GC_set_stackbottom from a GC_set_push_other_roots callback.  Both
# programs link libgc.so.1 too.  Reference: the default build on
# Debian's libgc.  Then through pargc-run, each output must equal it:
#   - the default build in stop mode, in concurrent mode with a cycle
#     for every collection, and in concurrent mode as it comes;
#   - the -Dpreview_mt build on 4 worker threads, stop and concurrent;
#   - the compiler itself, a large collected program, building the
#     default program again on pargc (stop mode), and that build run.
# Skipped (exit 77) where crystal is not installed or not linked with
# libgc.so.1.
set -u
top=${top_builddir:-.}
src=${top_srcdir:-.}
. "$src/tests/compat/client.sh"
crystal=$(command -v crystal || true)
client_require "$crystal" crystal
client_tmpdir crystal
prog=$src/tests/compat/crystal/fibers.cr
export CRYSTAL_CACHE_DIR=$tmp/cache

build() { # OUT [FLAGS...]: compile $prog on the system's libgc
  out=$1
  shift
  if ! timeout 600 "$crystal" build "$@" "$prog" -o "$tmp/$out" >"$tmp/err" 2>&1; then
    echo "FAIL: crystal does not build $prog on the system's libgc:"
    tail -5 "$tmp/err"
    exit 1
  fi
}
build fibers
build fibers-mt -Dpreview_mt
if ! timeout 300 "$tmp/fibers" >"$tmp/ref" 2>"$tmp/err"; then
  echo "FAIL: the program does not run on the system's libgc:"
  tail -5 "$tmp/err"
  exit 1
fi

on_pargc() { # MODE MIN_LIVE LABEL COMMAND...
  mode=$1 min=$2 label=$3
  shift 3
  PARGC_RUN_LIBDIR=$top/libgc-compat PARGC_MODE=$mode PARGC_CONC_MIN_LIVE=$min \
    PARGC_STATS_FILE=$tmp/stats CRYSTAL_WORKERS=4 \
    timeout 300 "$top/pargc-run" "$@" >"$tmp/out" 2>"$tmp/err"
  client_result $? "$label, $mode mode, PARGC_CONC_MIN_LIVE=$min" "$(tail -1 "$tmp/out")"
}
for run in "stop 0" "concurrent 0" "concurrent 2M"; do
  set -- $run
  on_pargc "$1" "$2" "fibers" "$tmp/fibers"
done
for mode in stop concurrent; do
  on_pargc "$mode" 0 "fibers, -Dpreview_mt, 4 workers" "$tmp/fibers-mt"
done

# The compiler on pargc: its build must run as the reference does.
rm -rf "$CRYSTAL_CACHE_DIR"
PARGC_RUN_LIBDIR=$top/libgc-compat PARGC_STATS_FILE=$tmp/stats \
  timeout 600 "$top/pargc-run" "$crystal" build "$prog" -o "$tmp/fibers-p" >"$tmp/err" 2>&1 &&
  timeout 300 "$tmp/fibers-p" >"$tmp/out" 2>>"$tmp/err"
client_result $? "the compiler on pargc, its build run on libgc" "$(tail -1 "$tmp/out")"
client_summary
