#!/bin/sh
# A real client, unchanged: Debian's Asymptote (asy, linked with
# libgc.so.1) runs tests/compat/asy/client.asy -- arrays and strings
# grown by doubling with the old buffer freed by GC_FREE, a path, a list
# of 200000 structs kept across more garbage -- on Debian's libgc (the
# reference), then through pargc-run stopped, concurrent with a cycle for
# every collection, and concurrent as it comes.  Every output must equal
# the reference, and the largest heap of a run must stay within twice
# libgc's: free runs that were never joined took pargc's to 7 times
# (292 MB against 40).  Skipped (exit 77) where asy is not installed or
# not linked with libgc.so.1.
set -u
top=${top_builddir:-.}
src=${top_srcdir:-.}
. "$src/tests/compat/client.sh"
asy=$(command -v asy || true)
client_require "$asy" asy
client_tmpdir asy
prog=$src/tests/compat/asy/client.asy
# asy runs in $tmp, where it may leave files: absolute paths.
top=$(cd "$top" && pwd)
prog=$(cd "$(dirname "$prog")" && pwd)/client.asy
cd "$tmp" || exit 1

if ! GC_PRINT_STATS=1 timeout 300 "$asy" -noV "$prog" >"$tmp/ref" 2>"$tmp/err"; then
  echo "FAIL: asy does not run on the system's libgc:"
  tail -5 "$tmp/err"
  exit 1
fi
# libgc's statistics: "Grow heap to N KiB ..." as it grows, "... heap N
# KiB (...)" after each collection.
libgc_heap=$(sed -n 's/.* heap \(to \)\{0,1\}\([0-9]*\) KiB.*/\2/p' "$tmp/err" | sort -n | tail -1)
libgc_heap=$((${libgc_heap:-0} * 1024))
if [ "$libgc_heap" -eq 0 ]; then
  echo "FAIL: no heap size in libgc's statistics:"
  tail -5 "$tmp/err"
  exit 1
fi
for run in "stop 0" "concurrent 0" "concurrent 2M"; do
  set -- $run
  client_pargc "$1" "$2" "$asy" -noV "$prog"
  status=$?
  heap=$(sed -n 's/.*"heap_bytes":\([0-9]*\).*/\1/p' "$tmp/stats" 2>/dev/null | sort -n | tail -1)
  heap=${heap:-0}
  if [ "$status" -eq 0 ] && [ "$heap" -gt $((2 * libgc_heap)) ]; then
    echo "largest heap $heap bytes, more than twice libgc's $libgc_heap" >>"$tmp/err"
    status=1
  fi
  client_result $status "$1 mode, PARGC_CONC_MIN_LIVE=$2" \
    "heap $((heap >> 20)) MiB (libgc $((libgc_heap >> 20)) MiB)"
done
client_summary
