#!/bin/sh
# A real client, unchanged: Debian's Guile 3 with libpargc loaded in place
# of Boehm GC's libgc.so.1, through pargc-run.  Each script in tests/compat/guile/ runs once
# on the system's libgc (its output is the reference) and then
# GUILE_TEST_RUNS times (default 3) on libpargc in the default mode and
# in concurrent mode; every output must equal the reference.  Skipped
# (exit 77) where Guile is not installed or is not linked with
# libgc.so.1.
set -u
src=${top_srcdir:-.}/tests/compat/guile
top=${top_builddir:-.}
runs=${GUILE_TEST_RUNS:-3}

guile=$(command -v guile-3.0 || command -v guile || true)
. "${top_srcdir:-.}/tests/compat/client.sh"
client_require "$guile" guile
client_tmpdir guile
mkdir -p "$tmp/cache"
# Compiled once (on the reference run), in a cache of our own.
export XDG_CACHE_HOME="$tmp/cache"
passed=0 failed=0

for script in "$src"/*.scm; do
  name=$(basename "$script" .scm)
  if ! timeout 300 "$guile" "$script" >"$tmp/ref" 2>"$tmp/err"; then
    echo "FAIL: $name does not run on the system's libgc:"
    tail -5 "$tmp/err"
    failed=$((failed + 1))
    continue
  fi
  for mode in stop concurrent; do
    i=1 bad=$failed
    while [ "$i" -le "$runs" ]; do
      if PARGC_RUN_LIBDIR=$top/libgc-compat PARGC_MODE=$mode PARGC_CONC_MIN_LIVE=0 \
          timeout 300 "$top/pargc-run" "$guile" "$script" \
          >"$tmp/out" 2>"$tmp/err" && cmp -s "$tmp/ref" "$tmp/out"; then
        passed=$((passed + 1))
      else
        echo "FAIL: $name, $mode mode, run $i:"
        diff "$tmp/ref" "$tmp/out" | head -5
        tail -5 "$tmp/err"
        failed=$((failed + 1))
      fi
      i=$((i + 1))
    done
    [ "$failed" -eq "$bad" ] && echo "ok: $name, $mode mode, $runs runs: $(cat "$tmp/ref")"
  done
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
