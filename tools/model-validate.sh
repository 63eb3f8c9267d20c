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
# processes took from it) with the prediction's error against it.  With
# `fresh` instead of a machine file, every round of runs first measures
# the machine again (pargc-predict --calibrate --quick), so that a
# machine whose load from other processes changes is predicted as it is
# at the time; each run is predicted with the file of its round.
#
# Measuring comes first, predicting after: all runs of a workload only
# run the program, each keeping its stats and snapshots in a folder of
# its own; then the predictions (one pargc-predict per collection, all
# independent) run in parallel, so that none disturbs a measurement.
#
# Environment:
#   PARGC_VALIDATE_JOBS=N   predictions run at once (default: nproc)
#   PARGC_VALIDATE_RAW=FILE one line per collection, after a header line:
#                           workload threads rep gc_no gc_threads_used
#                           mark_us mark_cpu_us predicted_ms
#                           (predicted_ms "-": no snapshot, or the
#                           prediction failed; such collections are left
#                           out of the table's sums)
#   PARGC_VALIDATE_KEEP=DIR for each workload, DIR/snap-WORKLOAD.tar.xz:
#                           the snapshots, stats.json and machine file
#                           (machine.txt) of the first run on 1 GC thread
#                           (or on the first thread count given, when 1 is
#                           not among them), with run.txt (the command)
#                           and predictions.txt (its lines as in
#                           PARGC_VALIDATE_RAW), so that the predictions
#                           can be made again with a changed model.  xz,
#                           not gzip: a workload's snapshots are nearly
#                           alike, which only xz's window sees (arrays:
#                           41 MB, 18 MB gzipped, 0.1 MB with xz).  Written
#                           with tar and xz, else python3.
set -eu
build=$1
machine=$2
reps=${3:-5}
shift 3 2>/dev/null || shift $#
threads=${*:-1 2}
predict=$build/tools/pargc-predict
jobs=${PARGC_VALIDATE_JOBS:-$(nproc 2>/dev/null || echo 2)}
raw=${PARGC_VALIDATE_RAW:-}
keep=${PARGC_VALIDATE_KEEP:-}
# Not for the programs run (libpargc warns of PARGC_ variables it does
# not know).
unset PARGC_VALIDATE_JOBS PARGC_VALIDATE_RAW PARGC_VALIDATE_KEEP
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pargc-validate.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 143' TERM INT HUP

fresh=no
if [ "$machine" = fresh ]; then
  fresh=yes
else
  # A copy, so that its path has no blanks for xargs.
  cp "$machine" "$tmp/machine" || exit 1
  machine=$tmp/machine
fi
keep_p=
for p in $threads; do
  [ -z "$keep_p" ] && keep_p=$p
  [ "$p" = 1 ] && keep_p=1
done
[ -n "$keep" ] && mkdir -p "$keep"
if [ -n "$raw" ]; then
  echo "workload threads rep gc_no gc_threads_used mark_us mark_cpu_us predicted_ms" > "$raw"
fi

workloads="trees:$build/tools/model-heaps trees 48 5
chain:$build/tools/model-heaps chain 16 5
arrays:$build/tools/model-heaps arrays 48 5
gcbench:$build/examples/gcbench -n 18 -t 2"

median() { sort -n | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

# The directory $1 as an xz-compressed tarball $2 (whole or not at all).
pack_dir() {
  if command -v tar > /dev/null 2>&1 && command -v xz > /dev/null 2>&1; then
    (cd "$1" && tar -cf - .) | xz -6 > "$2.part"
  elif command -v python3 > /dev/null 2>&1; then
    python3 -c 'import sys, tarfile
with tarfile.open(sys.argv[2], "w:xz") as t:
    t.add(sys.argv[1], arcname=".")' "$1" "$2.part"
  else
    echo "model-validate: neither tar with xz nor python3 here: $2 not written" >&2
    return 0
  fi
  mv "$2.part" "$2"
}

printf '%-8s %7s %12s %12s %8s %20s %8s %9s\n' workload threads measured_ms predicted_ms error \
  measured_min..max cpu_ms cpu_error
echo "$workloads" | while IFS=: read -r name cmd; do
  w=$tmp/$name
  mkdir -p "$w"
  : > "$w/jobs"

  # 1. Measure: REPS rounds, thread counts interleaved; nothing else runs.
  t0=$(date +%s)
  r=1
  while [ $r -le "$reps" ]; do
    m=$machine
    if [ $fresh = yes ]; then
      m=$w/machine.$r
      "$predict" --calibrate --quick -o "$m" 2> /dev/null < /dev/null
    fi
    for p in $threads; do
      d=$w/$r.$p
      mkdir -p "$d"
      PARGC_GC_THREADS=$p PARGC_STATS_FILE=$d/stats.json PARGC_SNAPSHOT=$d/%n.snap \
        $cmd < /dev/null > /dev/null 2>&1 ||
        echo "model-validate: $name on $p GC threads, round $r: exit status $?" >&2
      # gc_no, gc_threads, mark_us, mark_cpu_us of every collection.
      sed -n 's/.*"gc_no":\([0-9]*\),"gc_threads":\([0-9]*\),.*"mark_us":\([0-9]*\),.*"mark_cpu_us":\([0-9]*\).*/\1 \2 \3 \4/p' \
        "$d/stats.json" > "$d/marks" 2> /dev/null || :
      awk -v d="$d" -v m="$m" '{ print d, $1, $2, m }' "$d/marks" >> "$w/jobs"
      echo "$m" > "$d/machine"
    done
    r=$((r + 1))
  done

  # 2. Predict every collection that has a snapshot, $jobs at a time.
  t1=$(date +%s)
  PREDICT=$predict
  export PREDICT
  xargs -n 4 -P "$jobs" sh -c '
    [ -f "$1/$2.snap" ] || exit 0
    "$PREDICT" "$1/$2.snap" --machine "$4" --threads "$3" 2> "$1/$2.err" < /dev/null |
      sed -n "s/^threads=[0-9]* predicted_ms=\([0-9.]*\).*/\1/p" > "$1/$2.pred" || :' sh < "$w/jobs"
  echo "model-validate: $name: runs $((t1 - t0)) s, $(wc -l < "$w/jobs") predictions $(($(date +%s) - t1)) s ($jobs at once)" >&2

  # 3. Per collection: measured and predicted; per run: their sums.
  r=1
  while [ $r -le "$reps" ]; do
    for p in $threads; do
      d=$w/$r.$p
      while read -r no used us cus; do
        ms=-
        [ -s "$d/$no.pred" ] && ms=$(head -1 "$d/$no.pred")
        if [ "$ms" = - ] && [ -f "$d/$no.snap" ]; then
          echo "model-validate: no prediction for $d/$no.snap: $(head -c 300 "$d/$no.err" 2> /dev/null)" >&2
        fi
        echo "$name $p $r $no $used $us $cus $ms"
      done < "$d/marks" > "$d/raw"
      cat "$d/raw" >> "$w/raw"
      awk '$8 != "-" { meas += $6 / 1000; cpu += $7 / 1000; pred += $8 }
           END { printf "%.3f %.3f %.3f\n", meas, pred, cpu }' "$d/raw" >> "$w/sums.$p"
    done
    r=$((r + 1))
  done
  [ -n "$raw" ] && cat "$w/raw" >> "$raw"

  # 4. The first run on $keep_p GC threads, for predicting it again.
  if [ -n "$keep" ]; then
    d=$w/1.$keep_p
    k=$w/keep
    mkdir -p "$k"
    for f in "$d"/*.snap "$d/stats.json"; do
      if [ -f "$f" ]; then ln "$f" "$k/" 2> /dev/null || cp "$f" "$k/"; fi
    done
    cp "$(cat "$d/machine")" "$k/machine.txt"
    echo "PARGC_GC_THREADS=$keep_p ${cmd#"$build"/}" > "$k/run.txt"
    { echo "workload threads rep gc_no gc_threads_used mark_us mark_cpu_us predicted_ms"
      cat "$d/raw"; } > "$k/predictions.txt"
    pack_dir "$k" "$keep/snap-$name.tar.xz"
  fi

  # 5. The table's rows.
  for p in $threads; do
    f=$w/sums.$p
    m=$(cut -d' ' -f1 "$f" | median)
    q=$(cut -d' ' -f2 "$f" | median)
    c=$(cut -d' ' -f3 "$f" | median)
    lo=$(cut -d' ' -f1 "$f" | sort -n | head -1)
    hi=$(cut -d' ' -f1 "$f" | sort -n | tail -1)
    awk -v n="$name" -v p="$p" -v m="$m" -v q="$q" -v c="$c" -v lo="$lo" -v hi="$hi" 'BEGIN {
      e = m > 0 ? (q - m) * 100 / m : 0
      ce = c > 0 ? (q - c) * 100 / c : 0
      printf "%-8s %7s %12.2f %12.2f %+7.1f%% %9.1f..%-9.1f %8.2f %+8.1f%%\n", n, p, m, q, e, lo, hi, c, ce
    }'
  done
  rm -rf "$w"
done
