#!/bin/sh
# fuzz-long.sh [hours] [build-dir]: run the fuzz campaign
# (tests/fuzz/fuzz_campaign.sh) over and over for `hours` (default 1,
# fractions allowed), each round with fresh random seeds, a random number
# of threads and of operations, in every mode, against pargc and Boehm GC.
# Failures are printed as they happen, with the command that reproduces
# each, and listed again at the end; the logs of failing runs are kept.
#
#   scripts/fuzz-long.sh 8 build      # eight hours, build dir ./build
#
# The build dir must be configured; the drivers are built first.
# FUZZ_MODES and FUZZ_EXTRA pass through to the campaign (docs/testing.md).
set -u
hours=${1:-1}
src=$(cd "$(dirname "$0")/.." && pwd)
builddir=$(cd "${2:-${BUILD:-.}}" && pwd) || exit 2
if [ ! -f "$builddir/Makefile" ]; then
  echo "usage: $0 [hours] [configured build dir]" >&2
  exit 2
fi
make -C "$builddir" tests/fuzz/fuzz_driver >/dev/null || exit 2
make -C "$builddir" tests/fuzz/fuzz_driver_boehm >/dev/null 2>&1 ||
  echo "note: no Boehm GC build of the driver (libgc-dev missing?)"

logs=$builddir/fuzz-long-$(date +%Y%m%d-%H%M%S)
mkdir -p "$logs"
failures=$logs/failures.txt
: >"$failures"
end=$(($(date +%s) + $(awk "BEGIN { print int($hours * 3600) }")))
rand() { od -An -N4 -tu4 /dev/urandom | tr -d ' '; }
pick() { shift $(($(rand) % $# )); echo "$1"; }

round=0 runs=0
echo "fuzzing until $(date -d @$end); logs in $logs"
while [ "$(date +%s)" -lt "$end" ]; do
  round=$((round + 1))
  seeds="$(($(rand) % 1000000000)) $(($(rand) % 1000000000))"
  threads=$(pick 1 2 3 4 6 8)
  ops=$(pick 2000 5000 10000 20000 40000)
  echo "== round $round: seeds $seeds, $threads threads, $ops ops each"
  FUZZ_SEEDS=$seeds FUZZ_THREADS=$threads FUZZ_OPS=$ops FUZZ_WATCHDOG=60 \
    FUZZ_KEEP=$logs/round$round FUZZ_FAILURES=$failures top_builddir=$builddir \
    sh "$src/tests/fuzz/fuzz_campaign.sh" >"$logs/round$round.txt" 2>&1
  grep -a "^FAIL\|^  pargc-fuzz\|^  reproduce" "$logs/round$round.txt"
  runs=$((runs + $(grep -ac "^ok:\|^FAIL:" "$logs/round$round.txt")))
done

nfail=$(wc -l <"$failures")
echo "== $round rounds, $runs runs, $nfail failed (logs in $logs)"
if [ "$nfail" -gt 0 ]; then
  echo "failing runs (mode, seed, reason :: command):"
  sed 's/^/  /' "$failures"
  exit 1
fi
