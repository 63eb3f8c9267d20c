#!/bin/sh
# pargc-predict end to end: a quick calibration writes a machine file
# whose figures are in range (the misses a core keeps in flight, the
# CPUs the GC threads get, the cost of a collection measured on an empty
# heap), and --run predicts a small program's largest collection from
# that file, one line per thread count and the best.  The model's parts
# are tested on synthetic snapshots in model_test; this checks the tool
# that puts them together.
set -u
b=${top_builddir:-.}
tmp=${TMPDIR:-/tmp}/pargc_predict.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT INT TERM
failed=0
fail() {
  echo "FAIL: $*"
  failed=1
}

if ! "$b/tools/pargc-predict" --calibrate --quick -o "$tmp/machine" 2> "$tmp/err"; then
  fail "--calibrate --quick: $(tail -3 "$tmp/err")"
  exit 1
fi
val() { sed -n "s/^$1 //p" "$tmp/machine"; }
cpus=$(val cpus) mlp=$(val mlp) avail=$(val avail_cpus) fixed=$(val fixed_ns) sl=$(val sl_ns)
echo "machine: cpus $cpus, avail_cpus $avail, mlp $mlp, sl_ns $sl, fixed_ns $fixed"
awk -v v="$mlp" 'BEGIN { exit !(v >= 1 && v <= 64) }' || fail "mlp $mlp not in 1..64"
awk -v v="$avail" -v c="$cpus" 'BEGIN { exit !(v >= 1 && v <= c) }' ||
  fail "avail_cpus $avail not in 1..$cpus"
awk -v v="$sl" 'BEGIN { exit !(v > 0) }' || fail "sl_ns $sl"
# An empty heap's collection: microseconds.  (A fitted intercept was
# 0.5-2.9 ms.)
awk -v v="$fixed" 'BEGIN { exit !(v > 0 && v < 2000000) }' || fail "fixed_ns $fixed"

if ! "$b/tools/pargc-predict" --machine "$tmp/machine" --threads 1,2,4 \
    --run "$b/tools/model-heaps" trees 8 2 > "$tmp/out" 2> "$tmp/err"; then
  fail "--run: $(tail -3 "$tmp/err")"
else
  cat "$tmp/out"
  n=$(grep -c '^threads=[124] predicted_ms=[0-9.]* cpu_ms=' "$tmp/out")
  [ "$n" = 3 ] || fail "expected 3 prediction lines, got $n"
  grep -q '^best: threads=[124] predicted_ms=' "$tmp/out" || fail "no best line"
  # A tree of 8 MiB marks in milliseconds, not seconds.
  awk -F'[= ]' '/^threads=1 / { exit !($4 > 0.05 && $4 < 5000) }' "$tmp/out" ||
    fail "one-thread prediction out of range"
fi
exit $failed
