#!/bin/sh
# programs_test: real programs run with libpargc-malloc as their malloc
# (LD_PRELOAD), in each mode (PARGC_MALLOC_MODE; sqlite3 and xz also in
# collect mode with GC_ENABLE_INCREMENTAL), must print what they
# print without it.  sort, python3, sqlite3, perl and xz where installed (a
# missing one is skipped, not failed), the C++ program cxx_prog and
# torture_test (threads, fork, dlopen).
top=${top_builddir:-.}
lib=$(cd "$top" && pwd)/.libs/libpargc-malloc.so
if [ ! -e "$lib" ]; then
  echo "FAIL: $lib not built"
  exit 1
fi
tmp=${TMPDIR:-/tmp}/pargc_malloc_programs.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
ran=0

# compare NAME CMD...: run CMD plainly and under the library in each
# mode of $modes (both unless the caller sets it); stdout and the exit
# status must match, stderr must be empty under the library when it is
# empty without it.  A run under the library that takes more than 300 s
# (each takes seconds) is a hang: killed, status 124.
compare() {
  name=$1
  shift
  "$@" > "$tmp/plain.out" 2> "$tmp/plain.err"
  plain_rc=$?
  for mode in ${modes:-free collect}; do
    # collect-conc: collect mode asking for concurrent collection, which
    # it runs only with a barrier that system calls cannot trip over (the
    # warning that it collects stop-parallel instead is expected).
    # collect-sd: the same with PARGC_BARRIER=soft-dirty, which falls
    # back to mprotect where the kernel's bits do not work.
    inc=0 barrier=auto
    case $mode in collect-conc) inc=1 ;; collect-sd) inc=1 barrier=soft-dirty ;; esac
    env LD_PRELOAD="$lib" PARGC_MALLOC_MODE="${mode%-*}" GC_ENABLE_INCREMENTAL=$inc \
      PARGC_BARRIER=$barrier timeout 300 "$@" > "$tmp/pargc.out" 2> "$tmp/pargc.all"
    rc=$?
    grep -v '^pargc: warning: PARGC_MALLOC_MODE=collect: concurrent mode needs' \
      "$tmp/pargc.all" > "$tmp/pargc.err"
    if [ $rc -ne $plain_rc ] || ! cmp -s "$tmp/plain.out" "$tmp/pargc.out"; then
      echo "FAIL: $name ($mode): status $rc (plain: $plain_rc) or output differs"
      head -c 2000 "$tmp/pargc.err"
      fail=1
    elif [ ! -s "$tmp/plain.err" ] && [ -s "$tmp/pargc.err" ]; then
      echo "FAIL: $name ($mode): wrote to stderr:"
      head -c 2000 "$tmp/pargc.err"
      fail=1
    else
      echo "ok: $name ($mode)"
    fi
  done
  ran=$((ran + 1))
}

have() { command -v "$1" > /dev/null 2>&1; }

# Input for sort: 200000 lines, pseudo-random, from awk (always there).
awk 'BEGIN { s = 1; for (i = 0; i < 200000; i++) { s = (s * 1103515245 + 12345) % 2147483648; print s % 100003, "line", i } }' > "$tmp/lines"
if have sort; then
  compare sort sort "$tmp/lines"
  compare sort-n sort -n -k1,1 -k3,3n "$tmp/lines"
  compare sort-parallel sort --parallel=2 -S 1M "$tmp/lines"
else
  echo "skip: sort not installed"
fi
if have python3; then
  # Free mode only: Python keeps pointers to malloc'd objects in memory
  # it maps itself (its object arenas, its frame stacks), which collect
  # mode does not scan (docs/malloc.md).
  modes=free
  compare python3 python3 -c '
import collections, json, threading, os
d = collections.Counter(str(i * 7919 % 1000) for i in range(200000))
s = json.dumps(sorted(d.items()))
out = []
def w(k):
    out.append(sum(len(str(x)) for x in range(k * 10000, k * 10000 + 50000)))
ts = [threading.Thread(target=w, args=(k,)) for k in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
pid = os.fork()
if pid == 0:
    os._exit(len([bytes(i % 500) for i in range(20000)]) % 7)
print(len(s), sorted(out), os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
'
  modes=
else
  echo "skip: python3 not installed"
fi
if have sqlite3; then
  cat > "$tmp/q.sql" <<'SQL'
create table t(a integer, b text);
with recursive c(x) as (select 1 union all select x + 1 from c where x < 100000)
insert into t select x, printf('%08d', x * 7919 % 100003) || 'abc' from c;
create index ti on t(b);
select count(*), sum(a), max(length(b)) from t;
select b from t where a % 9973 = 0 order by b;
SQL
  modes="free collect collect-conc collect-sd"
  compare sqlite3 sqlite3 ":memory:" ".read $tmp/q.sql"
  modes=
else
  echo "skip: sqlite3 not installed"
fi
if have perl; then
  compare perl perl -e 'my %h; $h{$_ * 31 % 100000} = "x" x ($_ % 100) for 1..200000; my $s = 0; $s += length($h{$_}) for keys %h; print scalar(keys %h), " $s\n"'
else
  echo "skip: perl not installed"
fi
if have xz; then
  # xz installs a handler for SIGXCPU, the collector's restart signal,
  # after the collector did (collect mode); -T2 runs two threads, so
  # collections restart a stopped one.  The first restart used to run
  # xz's handler, which took it for a CPU limit and ended the process.
  for i in 1 2 3 4 5 6; do cat "$tmp/lines"; done > "$tmp/lines6"
  modes="free collect collect-conc"
  compare xz-threads sh -c "xz -1 -T2 -c '$tmp/lines6' | xz -dc | cksum"
  modes=
else
  echo "skip: xz not installed"
fi
if [ -x "$top/tests/malloc/cxx_prog" ]; then
  compare cxx_prog "$top/tests/malloc/cxx_prog"
fi
if [ -x "$top/tests/malloc/torture_test" ]; then
  # Linked with the library already; run it plainly under the preload.
  compare torture "$top/tests/malloc/torture_test"
fi

if [ $ran -eq 0 ]; then
  echo "SKIP: none of the programs is available"
  exit 77
fi
exit $fail
