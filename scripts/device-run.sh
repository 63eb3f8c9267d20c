#!/bin/sh
# Runs on the device machine (an H200 with 16 cores), from the repository
# root, the checks this project needs a GPU or many cores for; made for one
# call of the device tool, within its 10-minute limit.  Prepare here with
# scripts/device-pack.sh, then call the tool with carry [".device"] and
# the command `sh .device/device-run.sh` (docs/gpu.md, "On the device
# machine").
#
# Each step has a time limit (seconds, below) and writes its own file in
# $OUT (the tool brings back at most 8); summary.txt holds each step's exit
# status and time.  Most important first: the GPU test, the GPU benchmark,
# GC scaling to 16 threads, then the CUDA sanitizers (the slowest).
out=${OUT:-/tmp/pargc-device}
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)
bin=$here/bin
export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)

case $1 in
  --scaling)
    # Full collections of 512 MB live and GCBench, pargc and Boehm GC side
    # by side, for 1 to 16 GC (or program) threads.
    for g in 1 2 4 8 16; do
      "$bin/fullgc-pargc" -m 512 -g "$g" -c 3
      "$bin/fullgc-bdwgc" -m 512 -g "$g" -c 3
    done
    for t in 1 4 16; do
      "$bin/gcbench" -t "$t"
      "$bin/gcbench-bdwgc" -t "$t"
    done
    exit 0 ;;
  --sanitize)
    "$sanitizer" --tool memcheck --leak-check full --error-exitcode 1 "$bin/gpu_heap_test" || exit
    "$sanitizer" --tool racecheck --error-exitcode 1 "$bin/gpu_heap_test" || exit
    exec "$sanitizer" --tool synccheck --error-exitcode 1 "$bin/gpu_heap_test" ;;
esac

step() {
  name=$1 limit=$2
  shift 2
  t0=$(date +%s)
  timeout "$limit" "$@" >"$out/$name.txt" 2>&1
  rc=$?
  t1=$(date +%s)
  [ $rc -eq 124 ] && echo "(stopped after $limit s)" >>"$out/$name.txt"
  echo "$name: rc=$rc $((t1 - t0))s" | tee -a "$out/summary.txt"
}

{
  date -u '+%Y-%m-%d %H:%M UTC'
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  echo "cores: $(nproc)"
  uname -a
} >"$out/summary.txt" 2>&1

step gpu_test 90 "$bin/gpu_heap_test"
step gpu_bench 170 "$bin/gpu_bench" --quick
step scaling 160 sh "$0" --scaling
step sanitize 150 sh "$0" --sanitize
echo "files: $(ls "$out" | tr '\n' ' ')"
