#!/bin/sh
# Unmodified binaries: programs linked against Debian's libgc.so.1 (the
# compat tests' Boehm-header builds, tests/compat/bin/*-bh-*.bct, and the
# C++ ones against libgccpp.so.1 too) run on libpargc through pargc-run,
# without relinking, and pass; the differential program prints the same
# observations on both libraries; `make install` puts libgc.so.1 and
# libgccpp.so.1 links in $(libdir)/pargc and a pargc-run that names it.
set -u
top=${top_builddir:-.}
bin=$top/tests/compat/bin
if ! ls "$bin"/*-bh-*.bct >/dev/null 2>&1; then
  echo "SKIP: no programs built against Debian's libgc (libgc-dev missing?)"
  exit 77
fi
tmp=${TMPDIR:-/tmp}/pargc_run.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT INT TERM
failed=0 ran=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

# Runs "$@" through the build tree's pargc-run; the statistics file
# shows libpargc did the collecting.
run_pargc() {
  rm -f "$tmp/stats"
  PARGC_RUN_LIBDIR=$top/libgc-compat PARGC_STATS_FILE=$tmp/stats "$top/pargc-run" "$@"
}

for p in "$bin"/*-bh-*.bct; do
  ran=$((ran + 1))
  if ! run_pargc "$p" >"$tmp/out" 2>&1; then
    fail "$p on libpargc:"; tail -5 "$tmp/out"
  elif [ ! -s "$tmp/stats" ]; then
    fail "$p: libpargc was not the library loaded"
  fi
done

# The loader resolves libgc.so.1 (and libgccpp.so.1) to the links.
cpp=$(ls "$bin"/cpp-bh-plain.bct 2>/dev/null)
if [ -n "$cpp" ]; then
  PARGC_RUN_LIBDIR=$top/libgc-compat "$top/pargc-run" env LD_TRACE_LOADED_OBJECTS=1 "$cpp" >"$tmp/ldd" 2>&1
  grep -q "libgc.so.1 => .*libgc-compat/libgc.so.1" "$tmp/ldd" || { fail "libgc.so.1 not from libgc-compat"; cat "$tmp/ldd"; }
  grep -q "libgccpp.so.1 => .*libgc-compat/libgccpp.so.1" "$tmp/ldd" || { fail "libgccpp.so.1 not from libgc-compat"; cat "$tmp/ldd"; }
fi

# Same observations as on Debian's libgc, from the same binary.
diffp=$bin/difftest-ph-plain.bct
if [ -x "$diffp" ]; then
  "$diffp" >"$tmp/boehm" 2>&1 || fail "difftest on Debian's libgc"
  run_pargc "$diffp" >"$tmp/pargc" 2>&1 || fail "difftest on libpargc"
  diff -u "$tmp/boehm" "$tmp/pargc" || fail "difftest: observations differ (- libgc, + libpargc)"
fi

# Without a directory to use, pargc-run says so and fails.
if PARGC_RUN_LIBDIR=$tmp/none "$top/pargc-run" true 2>"$tmp/err"; then
  fail "pargc-run ran without libgc.so.1"
fi
grep -q "libgc.so.1 not found" "$tmp/err" || fail "pargc-run: no message for a missing directory"

# The installed layout.
if ${MAKE:-make} -s -C "$top" install DESTDIR="$tmp/inst" >"$tmp/install.log" 2>&1; then
  libdir=$(sed -n 's/^dir=\${PARGC_RUN_LIBDIR:-\(.*\)}$/\1/p' "$tmp/inst$pargc_bindir/pargc-run")
  case $libdir in
    "$pargc_libdir/pargc") ;;
    *) fail "installed pargc-run names '$libdir', not $pargc_libdir/pargc" ;;
  esac
  for l in libgc.so.1 libgccpp.so.1; do
    [ -e "$tmp/inst$pargc_libdir/pargc/$l" ] || fail "installed $l link is missing or dangling"
  done
  p=$bin/threads-bh-thr.bct
  rm -f "$tmp/stats"
  PARGC_RUN_LIBDIR=$tmp/inst$pargc_libdir/pargc PARGC_STATS_FILE=$tmp/stats \
    "$tmp/inst$pargc_bindir/pargc-run" "$p" >"$tmp/out" 2>&1 && [ -s "$tmp/stats" ] ||
    fail "$p through the installed pargc-run"
else
  fail "make install DESTDIR=..."; tail -20 "$tmp/install.log"
fi

echo "$ran programs built for libgc run on libpargc; $failed failures"
[ "$failed" -eq 0 ]
