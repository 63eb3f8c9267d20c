#!/bin/sh
# Runs, on a GPU machine (made for an H200 with 16 cores), every check of
# the CUDA device heap that needs a GPU and the collector's many-core
# scaling, in one command, most important first, each step under its own
# time limit and the whole under a budget (PARGC_REMOTE_BUDGET seconds,
# default 470: about 8 minutes), so that it fits a machine lent for a
# few minutes:
#
#   1 probe      nvidia-smi, then gpu_bench --probe: driver and runtime
#                versions; no GPU -> stop here with 77, a GPU that CUDA
#                cannot use (driver too old) -> stop here with 1
#   2 test       gpu_heap_test --small
#   3 headline   malloc, free, malloc+free of 16..1024 B with 2^20
#                threads: pargc, CUDA's malloc and a bump pointer,
#                interleaved
#   4 scaling    (when remote-pack.sh found them built) full collections
#                of 512 MB live and GCBench, pargc and Boehm GC, 1 to 16
#                threads: the 16-core figures the collector's docs lack
#   5 bench      mixed sizes, churn, 4 KiB..1 MiB, exhaustion
#   6 memcheck   compute-sanitizer memcheck on gpu_heap_test --small
#   7 synccheck  compute-sanitizer synccheck on the same (racecheck is not
#                run: it checks shared memory, which the heap does not use)
#   8 fulltest   gpu_heap_test at full size, if time is left
#
# Results go to the directory given as the argument, else $RESULTS, else
# ./remote-results, in at most 8 files: results.csv
# (impl,op,size,threads,ops_per_s; rows flushed one by one, so a step cut
# off by its limit keeps what it measured), summary.txt (each step's exit
# status and time), and one log per step (scaling.txt for step 4).
#
# Prepare on the build machine:  sh scripts/remote-pack.sh build-dir
# (-> remote-pack/ and remote-pack.tar.gz); copy the tarball to the GPU
# machine, then there:  tar xzf remote-pack.tar.gz &&
# sh remote-pack/remote-run.sh [RESULTS_DIR]  (allow 10 minutes), and
# copy RESULTS_DIR back.  Should the packed binaries not start there,
# they are rebuilt from the packed sources with that machine's nvcc
# (step 0).  Without a GPU every step after the probe is skipped and the
# script exits 77.
here=$(cd "$(dirname "$0")" && pwd)
case $1 in
  --build|--scaling) out= ;;
  *) out=${1:-${RESULTS:-remote-results}} ;;
esac
budget=${PARGC_REMOTE_BUDGET:-470}
# The sources: packed beside this script, or the repository it sits in.
if [ -d "$here/src/gpu" ]; then root=$here/src; else root=$(cd "$here/.." && pwd); fi
[ -n "$out" ] && mkdir -p "$out" && out=$(cd "$out" && pwd)
summary=$out/summary.txt
csv=$out/results.csv
t_begin=$(date +%s)
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)

left() {
  echo $((budget - ($(date +%s) - t_begin)))
}

# The benchmark's own budget for a step of limit $1: it starts no new
# measurement after that, so it ends before `timeout` would stop it.
bench_budget() {
  b=$(($(left) - 10))
  [ "$b" -gt $(($1 - 10)) ] && b=$(($1 - 10))
  echo $b
}

# step NAME LIMIT LOG COMMAND...: run under min(LIMIT, budget left); the
# exit status is in $rc afterwards (124: stopped at its limit; 200: not
# run, no time left).
step() {
  name=$1 limit=$2 log=$3
  shift 3
  l=$(left)
  if [ "$l" -lt 15 ]; then
    echo "$name: not run (budget spent)" | tee -a "$summary"
    rc=200
    return
  fi
  [ "$l" -lt "$limit" ] && limit=$l
  echo "== $name (limit ${limit}s): $*" >>"$log"
  t0=$(date +%s)
  timeout -k 5 "$limit" "$@" >>"$log" 2>&1
  rc=$?
  t1=$(date +%s)
  [ $rc -eq 124 ] && echo "(stopped after $limit s)" >>"$log"
  echo "$name: rc=$rc $((t1 - t0))s" | tee -a "$summary"
}

# Step 0, only when needed: the GPU binaries from the sources, with the
# nvcc of this machine, four compilations at once.
build() {
  d=$here/built
  mkdir -p "$d"
  f="-arch=sm_90 -O3 -rdc=true -std=c++17 -lineinfo -maxrregcount=64 -I$root/include -I$root -I$root/tests"
  "$nvcc" $f -c -o "$d/device.o" "$root/gpu/device.cu" &
  "$nvcc" $f -c -o "$d/host.o" "$root/gpu/host.cu" &
  "$nvcc" $f -c -o "$d/test.o" "$root/tests/gpu/gpu_heap_test.cu" &
  "$nvcc" $f -c -o "$d/bench.o" "$root/bench/gpu/gpu_bench.cu" &
  wait
  "$nvcc" -arch=sm_90 -rdc=true -o "$d/gpu_heap_test" "$d/test.o" "$d/device.o" "$d/host.o" &&
    "$nvcc" -arch=sm_90 -rdc=true -o "$d/gpu_bench" "$d/bench.o" "$d/device.o" "$d/host.o"
}

# GC scaling: full collections of 512 MB live and GCBench, pargc and
# Boehm GC side by side, 1 to 16 GC (or program) threads.
scaling() {
  export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  for g in 1 2 4 8 16; do
    "$here/bin/fullgc-pargc" -m 512 -g "$g" -c 3
    "$here/bin/fullgc-bdwgc" -m 512 -g "$g" -c 3
  done
  for t in 1 4 16; do
    "$here/bin/gcbench" -t "$t"
    "$here/bin/gcbench-bdwgc" -t "$t"
  done
}

case $1 in
  --build) build; exit ;;
  --scaling) scaling; exit ;;
esac

{
  date -u '+%Y-%m-%d %H:%M UTC'
  echo "host: $(uname -srm), $(nproc) cores; budget ${budget}s"
} >"$summary"

# 1: is there a GPU, and can CUDA use it?
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader ||
    echo "nvidia-smi: not available"
  echo "nvcc: $("$nvcc" --version 2>/dev/null | tail -1)"
} >"$out/probe.txt" 2>&1
bin=$here/bin
step probe 20 "$out/probe.txt" "$bin/gpu_bench" --probe
if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ $rc -ne 1 ]; then
  # The packed binaries do not run here (rc 126/127, a loader error):
  # build them on this machine.
  step build 150 "$out/build.txt" sh "$0" --build
  bin=$here/built
  step probe 20 "$out/probe.txt" "$bin/gpu_bench" --probe
fi
cat "$out/probe.txt" >>"$summary"
if [ $rc -eq 77 ]; then
  echo "no usable GPU here: nothing else to run" | tee -a "$summary"
  exit 77
fi
if [ $rc -ne 0 ]; then
  echo "a GPU is present but CUDA cannot use it (see probe.txt): stopping" | tee -a "$summary"
  exit 1
fi

# 2..7
step test 60 "$out/gpu_test.txt" "$bin/gpu_heap_test" --small
echo "impl,op,size,threads,ops_per_s" >"$csv"
step headline 90 "$out/bench.txt" "$bin/gpu_bench" --headline --csv "$csv" \
  --budget "$(bench_budget 90)"
if [ -x "$here/bin/fullgc-pargc" ]; then
  step scaling 160 "$out/scaling.txt" sh "$0" --scaling
fi
step bench 120 "$out/bench.txt" "$bin/gpu_bench" --mixed --churn --large --exhaust --csv "$csv" \
  --budget "$(bench_budget 120)"
step memcheck 100 "$out/sanitize.txt" "$sanitizer" --tool memcheck --leak-check full \
  --error-exitcode 1 "$bin/gpu_heap_test" --small
step synccheck 70 "$out/sanitize.txt" "$sanitizer" --tool synccheck --error-exitcode 1 \
  "$bin/gpu_heap_test" --small
step fulltest 90 "$out/gpu_test.txt" "$bin/gpu_heap_test"
echo "total: $(($(date +%s) - t_begin))s; files: $(ls "$out" | tr '\n' ' ')" | tee -a "$summary"
exit 0
