#!/bin/sh
# diff_test.sh: run diff_test.c built against Debian's libgc and built
# against libpargc (both from pargc's headers, plain variant) and require
# the same observations.  The two programs are built by make check when
# the pargc-linked compat tests are switched on (see compat.am).
boehm=${top_builddir:-.}/tests/compat/bin/difftest-ph-plain.bct
pargc=${top_builddir:-.}/tests/compat/pbin/difftest-ph-plain.pct
for p in "$boehm" "$pargc"; do
  if [ ! -x "$p" ]; then echo "SKIP: $p not built"; exit 77; fi
done
tmp=${TMPDIR:-/tmp}/pargc_diff.$$
trap 'rm -f "$tmp".*' EXIT INT TERM
"$boehm" > "$tmp.boehm" 2>&1 || { echo "FAIL: Boehm-linked run failed"; cat "$tmp.boehm"; exit 1; }
"$pargc" > "$tmp.pargc" 2>&1 || { echo "FAIL: pargc-linked run failed"; cat "$tmp.pargc"; exit 1; }
if diff -u "$tmp.boehm" "$tmp.pargc"; then
  echo "ok: $(wc -l < "$tmp.pargc") observations agree"
  exit 0
fi
echo "FAIL: observations differ (- Boehm GC, + pargc)"
exit 1
