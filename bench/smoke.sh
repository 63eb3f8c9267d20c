#!/bin/sh
# smoke.sh: the `make check` test of the benchmark suite.  Runs
# bench/run.sh --tiny on the programs already built in this build tree
# (Boehm GC, mimalloc and glibc builds always; the pargc builds as soon as
# they link) and checks that every configuration gave a result and every
# row of the summary holds a number.
set -eu
srcdir=${top_srcdir:-$(dirname "$0")/..}
builddir=${top_builddir:-.}
out=$builddir/bench/smoke-results
rm -rf "$out"
sh "$srcdir/bench/run.sh" --tiny --no-build --builddir "$builddir" --results "$out" >"$out.txt" 2>&1 || {
  cat "$out.txt"; echo "smoke: run.sh failed"; exit 1; }
cat "$out.txt"
status=0
if grep -E '^(failed|no result)' "$out/notes.txt"; then
  echo "smoke: some configurations gave no result (above)"; status=1
fi
rows=$(awk 'END { print NR - 1 }' "$out/summary.csv")
if [ "$rows" -lt 1 ]; then
  echo "smoke: the summary is empty"; status=1
fi
# Column 6 is the median; a number is all that is asked of it.
awk -F, 'NR > 1 && $6 !~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/ { print "smoke: no number in row: " $0; bad = 1 }
  END { exit bad }' "$out/summary.csv" || status=1
[ $status = 0 ] && echo "smoke: $rows rows, all with a number"
exit $status
