#!/bin/sh
# fuzz_campaign.sh: a short campaign of the random API-sequence driver
# (tests/fuzz/fuzz_driver) in every collector mode, and of the same
# driver built against Boehm GC (fuzz_driver_boehm), which checks the
# harness itself.  Run by `make fuzz-campaign`; scripts/fuzz-long.sh runs it for
# hours with random seeds.  See docs/testing.md.
#
# Environment (all optional):
#   FUZZ_SEEDS    seeds to run in every mode          (default "1 2")
#   FUZZ_OPS      operations per worker slot          (default 4000)
#   FUZZ_THREADS  worker slots                        (default 3)
#   FUZZ_MODES    labels of the modes to run          (default all)
#   FUZZ_EXTRA    more driver options for every run   (e.g. --no-fork)
#   FUZZ_WATCHDOG seconds without progress that count as a hang (20)
#   FUZZ_TIMEOUT  seconds a run may take in all (300)
#   FUZZ_KEEP     a folder to keep failing runs' output in
#   FUZZ_FAILURES a file to append one line per failure to
#                 ("MODE seed N: REASON :: COMMAND")
# Each failure prints the driver's report and the exact command that
# reproduces it; the script exits 1 if any run failed.
set -u
builddir=$(cd "${top_builddir:-.}" && pwd)
drv=tests/fuzz/fuzz_driver
boehm=tests/fuzz/fuzz_driver_boehm
seeds=${FUZZ_SEEDS:-1 2}
ops=${FUZZ_OPS:-4000}
threads=${FUZZ_THREADS:-3}
only=${FUZZ_MODES:-}
extra=${FUZZ_EXTRA:-}
tmp=${TMPDIR:-/tmp}/pargc_fuzz.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT INT TERM
passed=0 failed=0 failures=
start=$(date +%s)

# label  binary  environment (comma-separated, - for none)  options (same)
modes() {
  cat <<'EOF'
stop-1gc         p  PARGC_GC_THREADS=1                           -
stop-2gc         p  PARGC_GC_THREADS=2                           -
stop-8gc         p  PARGC_GC_THREADS=8                           -
stop-8gc-verify  p  PARGC_GC_THREADS=8,PARGC_VERIFY=1            -
conc-mprotect    p  PARGC_MODE=concurrent,PARGC_BARRIER=mprotect,PARGC_CONC_MIN_LIVE=0 -
conc-manual      p  PARGC_MODE=concurrent,PARGC_BARRIER=manual,PARGC_CONC_MIN_LIVE=0 --manual-vdb
conc-soft-dirty  p  PARGC_MODE=concurrent,PARGC_BARRIER=soft-dirty,PARGC_CONC_MIN_LIVE=0 -
conc-switch      p  PARGC_MODE=concurrent,PARGC_CONC_MIN_LIVE=4M -
incremental-api  p  PARGC_CONC_MIN_LIVE=0                        --incremental
boehm-stop       b  -                                            -
boehm-manual     b  -                                            --incremental,--manual-vdb
EOF
}

# What a driver exit status means.
meaning() {
  case $1 in
  0) echo "passed" ;;
  3) echo "lost object or API mismatch" ;;
  4) echo "hang: no progress (watchdog)" ;;
  124 | 137) echo "killed by the campaign's timeout" ;;
  134) echo "aborted (SIGABRT)" ;;
  139) echo "crashed (SIGSEGV)" ;;
  *) echo "exit status $1" ;;
  esac
}

# Concurrent modes must really have run concurrent cycles (the small
# heaps here run them with PARGC_CONC_MIN_LIVE=0; conc-switch keeps a
# threshold, so that its collections change between stopped ones and
# cycles as the live data grows and shrinks, and may run no cycle).
check_concurrent() { # label stats-file
  case $1 in
  conc-switch) ;;
  conc-* | incremental-api)
    grep -q '"concurrent":1' "$2" 2>/dev/null || { echo "no concurrent cycle ran"; return 1; } ;;
  esac
  return 0
}

run() { # label binary env opts seed
  label=$1 bin=$2 env=$(echo "$3" | tr , ' ') opts=$(echo "$4" | tr , ' ') seed=$5
  [ "$env" = - ] && env=
  [ "$opts" = - ] && opts=
  prog=$drv
  if [ "$bin" = b ]; then
    prog=$boehm
    if [ ! -x "$builddir/$boehm" ]; then
      echo "skip: $label (Boehm GC not installed)"
      return
    fi
  fi
  stats=$tmp/stats.json out=$tmp/out
  rm -f "$stats"
  args="--seed $seed --threads $threads --ops $ops --watchdog ${FUZZ_WATCHDOG:-20} $opts $extra"
  t0=$(date +%s)
  (cd "$builddir" && env PARGC_STATS_FILE="$stats" $env timeout "${FUZZ_TIMEOUT:-300}" "./$prog" $args) >"$out" 2>&1
  rc=$?
  why=$(meaning $rc)
  [ $rc -eq 0 ] && ! why=$(check_concurrent "$label" "$stats") && rc=1
  secs=$(($(date +%s) - t0))
  note=
  grep -q "soft-dirty bits do not work" "$out" && note=" (no soft-dirty here: fell back to mprotect)"
  if [ $rc -eq 0 ]; then
    passed=$((passed + 1))
    echo "ok: $label seed $seed, ${secs}s$note: $(grep -a 'pargc-fuzz: ok' "$out" | sed 's/.* ops in [^;]*; //' | cut -d';' -f1)"
    return
  fi
  failed=$((failed + 1))
  cmd="cd $builddir && $env ./$prog $args"
  failures="$failures
  $label seed $seed: $why
    $cmd"
  echo "FAIL: $label seed $seed after ${secs}s: $why$note"
  grep -a "FAILURE\|HANG\|first 64 bytes\|Segmentation\|Abort" "$out" | head -5 | cut -c1-600 | sed 's/^/  /'
  tail -3 "$out" | grep -av "pargc-fuzz" | sed 's/^/  | /'
  echo "  reproduce: $cmd"
  if [ -n "${FUZZ_FAILURES:-}" ]; then
    echo "$label seed $seed: $why :: $cmd" >>"$FUZZ_FAILURES"
  fi
  if [ -n "${FUZZ_KEEP:-}" ]; then
    mkdir -p "$FUZZ_KEEP"
    cp "$out" "$FUZZ_KEEP/$label-seed$seed.log"
  fi
}

modes | while read -r label bin env opts; do
  echo "$label $bin $env $opts"
done >"$tmp/modes"
while read -r label bin env opts; do
  if [ -n "$only" ] && ! echo " $only " | grep -q " $label "; then
    continue
  fi
  for seed in $seeds; do
    run "$label" "$bin" "$env" "$opts" "$seed"
  done
done <"$tmp/modes"

echo "$passed passed, $failed failed in $(($(date +%s) - start))s"
if [ "$failed" -gt 0 ]; then
  echo "failing runs (mode, seed, reason, command):$failures"
  exit 1
fi
exit 0
