#!/bin/sh
# The collector's stress tests again, in concurrent mode (PARGC_MODE=
# concurrent) under PARGC_VERIFY, with the mprotect barrier and, where the
# kernel has it, soft-dirty; and the lost-object race test with the manual
# barrier.  Each run must pass
# and must have run at least one concurrent cycle (PARGC_STATS_FILE).
set -u
b=${top_builddir:-.}/tests/stress
tmp=${TMPDIR:-/tmp}/pargc_conc.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT INT TERM
passed=0 failed=0

run() { # barrier program args...
  barrier=$1; prog=$2; shift 2
  stats=$tmp/$prog-$barrier.json
  rm -f "$stats"
  if PARGC_MODE=concurrent PARGC_CONC_MIN_LIVE=0 PARGC_BARRIER=$barrier PARGC_VERIFY=1 \
      PARGC_STATS_FILE=$stats \
      "$b/$prog" "$@" >"$tmp/out" 2>&1; then
    if grep -q '"concurrent":1' "$stats" 2>/dev/null; then
      passed=$((passed + 1))
      echo "ok: $prog ($barrier, $(grep -c '"concurrent":1' "$stats") concurrent cycles)"
      return
    fi
    echo "FAIL: $prog ($barrier): no concurrent cycle ran"
  else
    echo "FAIL: $prog ($barrier):"
    tail -20 "$tmp/out"
  fi
  failed=$((failed + 1))
}

barriers=mprotect
# soft-dirty where the kernel has it (else pargc warns and falls back).
if ! PARGC_BARRIER=soft-dirty "$b/conc_race_test" 1 2>&1 | grep -q "soft-dirty bits do not work"; then
  barriers="$barriers soft-dirty"
else
  echo "note: the kernel's soft-dirty bits do not work here; soft-dirty not tested"
fi
for barrier in $barriers; do
  for prog in gc_stress_test kinds_stress_test free_gc_stress_test small_free_stress_test \
      deque_overflow_test fork_test suspend_stress_test malloc_many_stress_test conc_race_test \
      idle_return_test; do
    run "$barrier" "$prog"
  done
done
run manual conc_race_test
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
