#!/bin/sh
# model-validate.sh: the performance model's predictions against measured
# collections (docs/performance.md, "The performance model").
#
#   tools/model-validate.sh BUILD_DIR MACHINE_FILE|fresh [REPS] [THREADS...]
#
# For each workload -- model-heaps trees, chain and arrays, and GCBench --
# and each GC thread count (default 1 2), runs the program REPS times
# (default 5, thread counts interleaved) with PARGC_STATS_FILE and a
# snapshot of every collection; each collection's mark time (mark_us) is
# compared with pargc-predict's prediction for its snapshot and the GC
# threads that collection used.  Per workload and thread count it prints
# the medians over the runs of the summed measured and predicted mark
# times, the error of the prediction, the range of the measured sums
# (how noisy the machine was), and the median CPU time of the marks
# (mark_cpu_us: with one GC thread, the mark's time without what other
# processes took from it) with the prediction's error against it.  With `fresh` instead of a machine file,
# every round of runs first measures the machine again
# (pargc-predict --calibrate --quick), so that a machine whose load from
# other processes changes is predicted as it is at the time.
set -eu
build=$1
machine=$2
reps=${3:-5}
shift 3 2>/dev/null || shift $#
threads=${*:-1 2}
predict=$build/tools/pargc-predict
tmp=$(mktemp -d /tmp/pargc-validate.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

workloads="trees:$build/tools/model-heaps trees 48 5
chain:$build/tools/model-heaps chain 16 5
arrays:$build/tools/model-heaps arrays 48 5
gcbench:$build/examples/gcbench -n 18"

# One run: measured and predicted sums (ms) of its collections' marks.
run_one() { # name command p
  name=$1 cmd=$2 p=$3
  d=$tmp/run
  rm -rf "$d" && mkdir -p "$d"
  PARGC_GC_THREADS=$p PARGC_STATS_FILE=$d/stats.json PARGC_SNAPSHOT=$d/%n.snap \
    $cmd > /dev/null 2>&1
  meas=0 pred=0 cpu=0
  # gc_no, gc_threads, mark_us, mark_cpu_us of every collection.
  sed -n 's/.*"gc_no":\([0-9]*\),"gc_threads":\([0-9]*\),.*"mark_us":\([0-9]*\),.*"mark_cpu_us":\([0-9]*\).*/\1 \2 \3 \4/p' \
    "$d/stats.json" > "$d/marks"
  while read -r no used us cus; do
    [ -f "$d/$no.snap" ] || continue
    ms=$("$predict" "$d/$no.snap" --machine "$machine" --threads "$used" |
         sed -n 's/^threads=[0-9]* predicted_ms=\([0-9.]*\).*/\1/p')
    meas=$(echo "$meas + $us / 1000" | bc -l)
    cpu=$(echo "$cpu + $cus / 1000" | bc -l)
    pred=$(echo "$pred + $ms" | bc -l)
  done < "$d/marks"
  echo "$meas $pred $cpu"
}

median() { sort -n | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

printf '%-8s %7s %12s %12s %8s %20s %8s %9s\n' workload threads measured_ms predicted_ms error \
  measured_min..max cpu_ms cpu_error
echo "$workloads" | while IFS=: read -r name cmd; do
  for p in $threads; do : > "$tmp/$name.$p"; done
  r=0
  while [ $r -lt "$reps" ]; do
    if [ "$machine" = fresh ] || [ -n "${fresh:-}" ]; then
      fresh=1
      machine=$tmp/machine
      "$predict" --calibrate --quick -o "$machine" 2> /dev/null
    fi
    for p in $threads; do
      run_one "$name" "$cmd" "$p" >> "$tmp/$name.$p"
    done
    r=$((r + 1))
  done
  for p in $threads; do
    m=$(cut -d' ' -f1 "$tmp/$name.$p" | median)
    q=$(cut -d' ' -f2 "$tmp/$name.$p" | median)
    e=$(echo "($q - $m) * 100 / $m" | bc -l)
    lo=$(cut -d' ' -f1 "$tmp/$name.$p" | sort -n | head -1)
    hi=$(cut -d' ' -f1 "$tmp/$name.$p" | sort -n | tail -1)
    c=$(cut -d' ' -f3 "$tmp/$name.$p" | median)
    ce=$(echo "($q - $c) * 100 / $c" | bc -l)
    printf '%-8s %7s %12.2f %12.2f %+7.1f%% %9.1f..%-9.1f %8.2f %+8.1f%%\n' \
      "$name" "$p" "$m" "$q" "$e" "$lo" "$hi" "$c" "$ce"
  done
done
