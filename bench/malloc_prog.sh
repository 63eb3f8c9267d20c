#!/bin/sh
# malloc_prog.sh: a real program's run time and peak RSS with a given
# malloc, as one RESULT line (bench/common.h's format) for bench/run.sh.
#
#   malloc_prog.sh [-p LIBRARY] [-s SIZE] sort|sqlite3|python3
#
# LIBRARY is preloaded into the program only (nothing when absent: the C
# library's malloc).  SIZE scales the input (1 = the quick sizes).  The
# program's input is made once, under ${TMPDIR:-/tmp}; the label is
# BENCH_LABEL's.  Prints nothing (and exits 77) when the program or
# /usr/bin/time is missing.
lib= size=1
while [ $# -gt 1 ]; do
  case $1 in
    -p) lib=$2; shift ;;
    -s) size=$2; shift ;;
    *) break ;;
  esac
  shift
done
prog=$1
command -v "$prog" >/dev/null 2>&1 && [ -x /usr/bin/time ] || exit 77
dir=${TMPDIR:-/tmp}/pargc_malloc_prog.$size
mkdir -p "$dir"
case $prog in
  sort)
    in=$dir/lines.txt
    [ -s "$in" ] || awk -v n=$((size * 1500000)) 'BEGIN { s = 1; for (i = 0; i < n; i++) { s = (s * 1103515245 + 12345) % 2147483648; print s % 1000003, "line", i, s } }' > "$in"
    set -- sort -S 64M "$in" ;;
  sqlite3)
    in=$dir/q.sql
    [ -s "$in" ] || cat > "$in" <<SQL
create table t(a integer, b text);
with recursive c(x) as (select 1 union all select x + 1 from c where x < $((size * 300000)))
insert into t select x, printf('%08d', x * 7919 % 100003) || 'abc' from c;
create index ti on t(b);
select count(*), sum(a), max(length(b)) from t;
SQL
    set -- sqlite3 :memory: ".read $in" ;;
  python3)
    in=$dir/dicts.py
    [ -s "$in" ] || cat > "$in" <<PY
import json
d = {str(i): [i] * 3 for i in range($((size * 300000)))}
s = json.dumps(d)
l = sorted(d.items(), key=lambda kv: -kv[1][0])
print(len(s), len(l))
PY
    set -- python3 "$in" ;;
  *) echo "malloc_prog.sh: unknown program $prog" >&2; exit 2 ;;
esac
out=$dir/time.$$
if [ -n "$lib" ]; then
  /usr/bin/time -f "%e %M" -o "$out" env LD_PRELOAD="$lib" "$@" > /dev/null || exit 1
else
  /usr/bin/time -f "%e %M" -o "$out" "$@" > /dev/null || exit 1
fi
read -r secs rss < "$out"
rm -f "$out"
echo "RESULT workload=prog-$prog impl=${BENCH_LABEL:-?} threads=1 value=$secs unit=s rss_kb=$rss"
