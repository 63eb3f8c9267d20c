#!/bin/sh
# Runs, on a GPU machine (made for an H200 with 16 cores), first what
# needs its 16 cores -- the performance model against measured
# collections, PARGC_GC_THREADS=auto, the collector's scaling, allocation
# throughput -- then every check of the CUDA device heap that needs a
# GPU, in one command, each step under its own time limit and the whole
# under a budget (PARGC_REMOTE_BUDGET seconds, default 470: about 8
# minutes), so that it fits a machine lent for a few minutes:
#
#   probe      nvidia-smi, then gpu_bench --probe: driver and runtime
#              versions.  No usable GPU: the GPU steps are skipped, the
#              others run
#   model      pargc-predict --calibrate -v (machine.txt), then
#              model-validate.sh with it, 3 runs, 1 2 4 8 16 GC threads
#              (model.txt, model-raw.txt, model-snaps.tar)
#   stress     (when packed: STRESS_BUILD) ten stress tests from a build
#              with assertions, stopped and concurrent, as many GC
#              threads as cores
#   auto       PARGC_GC_THREADS=auto against 2, 4, 8 and 16 GC threads
#              on model-heaps trees and arrays 48 5 and GCBench -n 18
#              (a thread per core), 3 runs each
#   scaling    full collections of 512 MB live and GCBench, pargc and
#              Boehm GC, 1 to 16 threads
#   alloc      alloc_tp, pargc and Boehm GC, 16 KiB and 64 B objects,
#              1 to 16 threads
#   malloc     (when packed) larson and xmalloc-test with 16 threads,
#              the C library's malloc, mimalloc and libpargc-malloc
#   test       gpu_heap_test --small
#   headline   malloc, free, malloc+free of 16..1024 B with 2^20
#              threads: pargc, CUDA's malloc and a bump pointer,
#              interleaved
#   bench      mixed sizes, churn, 4 KiB..1 MiB, exhaustion
#   memcheck   compute-sanitizer memcheck on gpu_heap_test --small
#   synccheck  compute-sanitizer synccheck on the same (racecheck is not
#              run: it checks shared memory, which the heap does not use)
#   fulltest   gpu_heap_test at full size, if time is left
#
# Results go to the directory given as the argument, else $RESULTS, else
# ./remote-results, in at most 8 files: summary.txt (each step's exit
# status and time, the probe), machine.txt, model.txt (the model's
# table), model-raw.txt (every collection, measured and predicted),
# model-snaps.tar (the snapshots of one run per workload, to predict
# again), cpu.txt (the CPU steps' logs), gpu.txt (the GPU steps' logs)
# and results.csv (impl,op,size,threads,ops_per_s of the GPU benchmark;
# rows flushed one by one, so a step cut off by its limit keeps what it
# measured).
#
# PARGC_REMOTE_QUICK=1: 1 run, 1 and 2 threads, smaller sizes: the whole
# script in a minute or two on a 2-core machine, to try it.
#
# Prepare on the build machine:  sh scripts/remote-pack.sh BUILD_DIR
# (-> remote-pack/ and remote-pack.tar.gz); on the GPU machine:
# sh remote-pack/remote-run.sh [RESULTS_DIR], and copy RESULTS_DIR back.
# Should the packed GPU binaries not start there, they are rebuilt from
# the packed sources with that machine's nvcc.  Exit status: 0 when
# every step that ran passed (or was stopped at its limit, which
# summary.txt says), 1 otherwise, also when a GPU is present that CUDA
# cannot use.
here=$(cd "$(dirname "$0")" && pwd)
export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# hwloc's plugins (PCI, OpenCL, GL, XML) would come from this machine's
# hwloc, if any; the topology needs none of them.
export HWLOC_PLUGINS_PATH="$here/lib/hwloc-plugins"
# The settings, for the steps run as `sh remote-run.sh --STEP` too, under
# names libpargc does not warn of as unknown PARGC_ variables.
quick=${PARGC_REMOTE_QUICK:-${REMOTE_RUN_QUICK:-0}}
budget=${PARGC_REMOTE_BUDGET:-470}
unset PARGC_REMOTE_QUICK PARGC_REMOTE_BUDGET
export REMOTE_RUN_QUICK=$quick
[ "$quick" = 0 ] && quick=
if [ -n "$quick" ]; then
  reps=1 threads="1 2" auto_cfgs="auto 1 2" gc_g="1 2" gc_m=64 gc_t="1 2" calib=--quick
  alloc_big=65536 alloc_pargc=8388608 alloc_bdwgc=2097152
else
  reps=3 threads="1 2 4 8 16" auto_cfgs="auto 2 4 8 16" gc_g="1 2 4 8 16" gc_m=512 gc_t="1 4 16" calib=
  alloc_big=524288 alloc_pargc=67108864 alloc_bdwgc=16777216
fi

# The CPU steps run as `sh remote-run.sh --STEP OUT`, under the limit
# step() gives them; they start nothing new once REMOTE_STEP_DEADLINE
# (seconds since the epoch) is near.
now() { date +%s; }
time_left() { echo $((${REMOTE_STEP_DEADLINE:-$(($(now) + 100000))} - $(now))); }
median() { sort -n | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
# gc_no, gc_threads, mark_us, mark_cpu_us of each collection in a stats file.
marks() {
  sed -n 's/.*"gc_no":\([0-9]*\),"gc_threads":\([0-9]*\),.*"mark_us":\([0-9]*\),.*"mark_cpu_us":\([0-9]*\).*/\1 \2 \3 \4/p' "$1"
}
# A list of files as an uncompressed tar: tar, else python3.
tar_files() { # OUT_FILE DIR FILE...
  o=$1 d=$2
  shift 2
  if command -v tar > /dev/null 2>&1; then
    tar -C "$d" -cf "$o" "$@"
  else
    python3 -c 'import os, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    for f in sys.argv[3:]:
        t.add(os.path.join(sys.argv[2], f), arcname=f)' "$o" "$d" "$@"
  fi
}

# model: the machine, then the model's predictions against measured
# collections on it.
model_step() {
  o=$1
  "$here/model/tools/pargc-predict" --calibrate $calib -v -o "$o/machine.txt" || return
  keep=$(mktemp -d "${TMPDIR:-/tmp}/pargc-keep.XXXXXX")
  # Leave 15 s to gather the snapshots.
  l=$(($(time_left) - 15))
  if [ $l -lt 10 ]; then
    echo "no time left for model-validate.sh"
    return 1
  fi
  echo "model-validate.sh: $reps runs, GC threads $threads, ${l}s at most"
  PARGC_VALIDATE_RAW=$o/model-raw.txt PARGC_VALIDATE_KEEP=$keep \
    timeout -k 5 "$l" sh "$here/model-validate.sh" "$here/model" "$o/machine.txt" "$reps" $threads \
    > "$o/model.txt"
  rc=$?
  [ $rc -eq 124 ] && echo "model-validate.sh stopped after ${l}s: the table lacks the later workloads"
  # As many of the workloads' snapshot tarballs as fit in 15 MiB.
  files='' total=0
  for f in $(cd "$keep" && ls -S -r -- *.tar.xz 2> /dev/null); do
    s=$(wc -c < "$keep/$f")
    if [ $((total + s)) -le 15000000 ]; then
      files="$files $f" total=$((total + s))
    else
      echo "model-snaps.tar: $f ($s bytes) left out: over 15 MiB in all"
    fi
  done
  if [ -n "$files" ]; then
    tar_files "$o/model-snaps.tar" "$keep" $files && echo "model-snaps.tar:$files ($total bytes)"
  else
    echo "model-snaps.tar: no snapshots kept"
  fi
  rm -rf "$keep"
  return $rc
}

# auto: PARGC_GC_THREADS=auto against fixed GC thread counts, the summed
# mark times of each run's collections.
auto_step() {
  t=$(mktemp -d "${TMPDIR:-/tmp}/pargc-auto.XXXXXX")
  echo "workload config run mark_ms collections wall_ms gc_threads_used(count)"
  for w in "trees:$here/model/tools/model-heaps trees 48 5" \
      "arrays:$here/model/tools/model-heaps arrays 48 5" "gcbench:$here/bin/gcbench -n 18"; do
    name=${w%%:*} cmd=${w#*:}
    r=1
    while [ $r -le $reps ]; do
      for c in $auto_cfgs; do
        [ "$(time_left)" -gt 10 ] || { echo "(time up: no more runs)"; break 3; }
        rm -f "$t/stats.json"
        t0=$(date +%s%N)
        PARGC_GC_THREADS=$c PARGC_STATS_FILE=$t/stats.json $cmd < /dev/null > /dev/null 2>&1 ||
          echo "$name $c run $r: exit status $?"
        t1=$(date +%s%N)
        marks "$t/stats.json" | awk -v n="$name" -v c="$c" -v r="$r" -v wall=$(((t1 - t0) / 1000000)) '
          { us += $3; k++; used[$2]++ }
          END { u = ""; for (p = 1; p <= 1024; p++) if (p in used) u = u (u == "" ? "" : ",") p "(" used[p] ")"
                printf "%s %s %d %.2f %d %d %s\n", n, c, r, us / 1000, k, wall, u }' |
          tee -a "$t/runs"
      done
      r=$((r + 1))
    done
  done
  echo
  echo "median over runs of the summed mark_us of all collections (ms), min..max;"
  echo "for auto, the GC threads its collections used (collections, all runs)"
  echo "workload config runs mark_ms min..max gc_threads_used"
  for w in trees arrays gcbench; do
    for c in $auto_cfgs; do
      f=$t/$w.$c
      awk -v n=$w -v c=$c '$1 == n && $2 == c' "$t/runs" > "$f"
      [ -s "$f" ] || continue
      m=$(cut -d' ' -f4 "$f" | median)
      lo=$(cut -d' ' -f4 "$f" | sort -n | head -1)
      hi=$(cut -d' ' -f4 "$f" | sort -n | tail -1)
      u=-
      [ "$c" = auto ] && u=$(awk '{ n = split($7, a, ","); for (i = 1; i <= n; i++) {
          split(a[i], b, "("); sub(/\)/, "", b[2]); s[b[1]] += b[2] } }
        END { u = ""; for (p = 1; p <= 1024; p++) if (p in s) u = u (u == "" ? "" : ",") p "(" s[p] ")"; print u }' "$f")
      printf '%-8s %-6s %4d %10.2f %10s %s\n' "$w" "$c" "$(wc -l < "$f")" "$m" "$lo..$hi" "$u"
    done
  done
  rm -rf "$t"
}

# scaling: full collections of a large live heap and GCBench, pargc and
# Boehm GC side by side, 1 to 16 GC (or program) threads.
scaling_step() {
  for g in $gc_g; do
    [ "$(time_left)" -gt 10 ] || { echo "(time up: no more runs)"; return; }
    "$here/bin/fullgc-pargc" -m $gc_m -g "$g" -c 3
    "$here/bin/fullgc-bdwgc" -m $gc_m -g "$g" -c 3
  done
  for t in $gc_t; do
    [ "$(time_left)" -gt 10 ] || { echo "(time up: no more runs)"; return; }
    "$here/bin/gcbench" -t "$t"
    "$here/bin/gcbench-bdwgc" -t "$t"
  done
}

# alloc: allocation throughput, 16 KiB objects (a collection every few
# thousand) and 64 B (the fast path).  The same number of allocations
# over all threads, whatever their number, so that a run that does not
# scale still ends in a few seconds; Boehm GC allocates 64 B objects
# about 10 times slower than pargc: a quarter as many.
alloc_step() {
  t=$(mktemp)
  for s in 16384 64; do
    for p in $threads; do
      for i in pargc bdwgc; do
        [ "$(time_left)" -gt 8 ] || { echo "(time up: no more runs)"; break 3; }
        n=$alloc_big
        [ $s = 64 ] && { [ $i = pargc ] && n=$alloc_pargc || n=$alloc_bdwgc; }
        "$here/bin/alloc_tp-$i" -s $s -t "$p" -n $((n / p)) | tee -a "$t"
      done
    done
  done
  echo
  echo "million allocations per second (collections)"
  echo "size threads pargc bdwgc"
  for s in 16384 64; do
    for p in $threads; do
      awk -v s=$s -v p=$p '
        / size=/ && $0 ~ (" size=" s " threads=" p " ") {
          for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
          r[v["impl"]] = v["value"] " (" v["info_gcs"] ")" }
        END { if (("pargc" in r) || ("bdwgc" in r)) printf "%5d %7d %14s %14s\n", s, p, ("pargc" in r) ? r["pargc"] : "-", ("bdwgc" in r) ? r["bdwgc"] : "-" }' "$t"
    done
  done
  rm -f "$t"
}

# stress: the stress tests, with as many GC threads as cores, stopped
# and concurrent (with the verifier); each run under 40 s.
stress_step() {
  d=$here/stress
  [ -d "$d" ] || { echo "not packed"; return 0; }
  bad=0
  for mode in stop concurrent; do
    for f in "$d"/*; do
      [ "$(time_left)" -gt 15 ] || { echo "(time up: no more runs)"; break 2; }
      v=0
      [ $mode = concurrent ] && v=1
      t0=$(date +%s)
      PARGC_MODE=$mode PARGC_CONC_MIN_LIVE=0 PARGC_VERIFY=$v PARGC_GC_THREADS=$(nproc) \
        timeout 40 "$f" > "$d.out" 2>&1
      rc=$?
      echo "$mode $(basename "$f"): rc=$rc $(($(date +%s) - t0))s"
      [ $rc -eq 0 ] || { bad=1; tail -15 "$d.out"; }
    done
  done
  rm -f "$d.out"
  return $bad
}

# malloc: libpargc-malloc against the C library's malloc and mimalloc
# on mimalloc-bench's larson and xmalloc-test with 16 threads (or the
# cores there are), a rate each; run twice, interleaved.
malloc_step() {
  d=$here/malloc
  [ -x "$d/larson" ] || { echo "not packed"; return 0; }
  n=$(nproc)
  [ "$n" -gt 16 ] && n=16
  secs=3
  [ -n "$quick" ] && secs=1
  echo "larson: $secs s, 8..1000 B, $n threads (relative time: higher is better);" \
    "xmalloc-test: $secs s, 64 B, $n threads (free/s)"
  for r in 1 2; do
    for lib in glibc mimalloc pargc-malloc; do
      [ "$(time_left)" -gt $((secs * 2 + 5)) ] || { echo "(time up: no more runs)"; return; }
      pre=
      [ $lib = glibc ] || pre=$d/lib$lib.so
      l=$(LD_PRELOAD=$pre "$d/larson" $secs 8 1000 5000 100 4141 $n 2>&1 |
          sed -n 's/.*Throughput = *\([0-9.]*\).*/\1/p' | tail -1)
      x=$(LD_PRELOAD=$pre "$d/xmalloc-test" -w $n -t $secs -s 64 2>&1 |
          sed -n 's/.*rtime.*free\/sec: *\([0-9.]*\).*/\1/p; s/^rtime.*: *\([0-9.]*\) *$/\1/p' | tail -1)
      echo "run $r $lib larson=${l:-?} xmalloc-test=${x:-?}"
    done
  done
}

# The GPU binaries from the sources, with the nvcc of this machine, four
# compilations at once: when the packed ones do not start here.
build() {
  if [ -d "$here/src/gpu" ]; then root=$here/src; else root=$(cd "$here/.." && pwd); fi
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

nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
case $1 in
  --build) build; exit ;;
  --model) model_step "$2"; exit ;;
  --auto) auto_step; exit ;;
  --scaling) scaling_step; exit ;;
  --alloc) alloc_step; exit ;;
  --malloc) malloc_step; exit ;;
  --stress) stress_step; exit ;;
esac

out=${1:-${RESULTS:-remote-results}}
# A copy that lost the execute bits.
for f in "$here"/bin/* "$here"/model/tools/* "$here"/model/examples/*; do
  [ -x "$f" ] || chmod +x "$f" 2> /dev/null || :
done
mkdir -p "$out" && out=$(cd "$out" && pwd)
summary=$out/summary.txt
cpu=$out/cpu.txt
gpu=$out/gpu.txt
csv=$out/results.csv
t_begin=$(now)
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
failed=0

left() {
  echo $((budget - ($(now) - t_begin)))
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
  echo "== $name (limit ${limit}s): $*" >> "$log"
  t0=$(now)
  REMOTE_STEP_DEADLINE=$((t0 + limit)) timeout -k 5 "$limit" "$@" >> "$log" 2>&1
  rc=$?
  t1=$(now)
  [ $rc -eq 124 ] && echo "(stopped after $limit s)" >> "$log"
  case $rc in 0|124) ;; *) failed=1 ;; esac
  echo "$name: rc=$rc $((t1 - t0))s" | tee -a "$summary"
}

rm -f "$summary" "$cpu" "$gpu" "$csv" "$out/machine.txt" "$out/model.txt" "$out/model-raw.txt" \
  "$out/model-snaps.tar"
{
  date -u '+%Y-%m-%d %H:%M UTC'
  echo "host: $(uname -srm), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo);" \
    "budget ${budget}s${quick:+; quick}"
} > "$summary"

# Is there a GPU, and can CUDA use it?
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader ||
    echo "nvidia-smi: not available"
  echo "nvcc: $("$nvcc" --version 2> /dev/null | tail -1)"
} > "$gpu" 2>&1
bin=$here/bin
step probe 20 "$gpu" "$bin/gpu_bench" --probe
if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ $rc -ne 1 ] && [ -x "$nvcc" ]; then
  # The packed binaries do not run here (rc 126/127, a loader error):
  # build them on this machine.
  step build 150 "$gpu" sh "$0" --build
  bin=$here/built
  step probe 20 "$gpu" "$bin/gpu_bench" --probe
fi
grep -v '^==' "$gpu" | head -40 >> "$summary"
gpu_ok=no
case $rc in
  0) gpu_ok=yes; failed=0 ;;
  77) echo "no usable GPU here: the GPU steps are skipped" | tee -a "$summary"; failed=0 ;;
  *) echo "no GPU CUDA can use (see gpu.txt): the GPU steps are skipped" | tee -a "$summary"; failed=1 ;;
esac

# The CPU steps, while nothing else runs.
step model 110 "$cpu" sh "$0" --model "$out"
step stress 120 "$cpu" sh "$0" --stress
step auto 45 "$cpu" sh "$0" --auto
step scaling 40 "$cpu" sh "$0" --scaling
step alloc 60 "$cpu" sh "$0" --alloc
step malloc 45 "$cpu" sh "$0" --malloc

if [ $gpu_ok = yes ]; then
  step test 60 "$gpu" "$bin/gpu_heap_test" --small
  echo "impl,op,size,threads,ops_per_s" > "$csv"
  step headline 90 "$gpu" "$bin/gpu_bench" --headline --csv "$csv" \
    --budget "$(bench_budget 90)"
  step bench 120 "$gpu" "$bin/gpu_bench" --mixed --churn --large --exhaust --csv "$csv" \
    --budget "$(bench_budget 120)"
  step memcheck 100 "$gpu" "$sanitizer" --tool memcheck --leak-check full \
    --error-exitcode 1 "$bin/gpu_heap_test" --small
  step synccheck 70 "$gpu" "$sanitizer" --tool synccheck --error-exitcode 1 \
    "$bin/gpu_heap_test" --small
  step fulltest 90 "$gpu" "$bin/gpu_heap_test"
fi

# No log over 16 MiB: the middle of a longer one goes.
for f in "$summary" "$cpu" "$gpu" "$csv" "$out/model.txt" "$out/model-raw.txt"; do
  [ -f "$f" ] && [ "$(wc -c < "$f")" -gt 15000000 ] || continue
  { head -c 7000000 "$f"; printf '\n[... cut to stay under 16 MiB ...]\n'; tail -c 7000000 "$f"; } > "$f.cut"
  mv "$f.cut" "$f"
done
echo "total: $(($(now) - t_begin))s; files: $(ls "$out" | tr '\n' ' ')" | tee -a "$summary"
exit $failed
