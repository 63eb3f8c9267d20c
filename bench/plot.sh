#!/bin/sh
# plot.sh RESULTS_DIR: draw the PNG plots of one bench/run.sh result folder
# with gnuplot, from its summary.csv (and pauses.txt for the pause
# distribution).  run.sh calls it; run it again by hand to redraw.
#
# Each plot is made only from the rows that exist, so the same script
# draws the comparators alone today and adds pargc's lines once its rows
# appear.  Points are medians; error bars span min..max over the runs.
set -eu
r=$1
s=$r/summary.csv
d=$r/plotdata
mkdir -p "$d"
rm -f "$d"/*.dat
term='set terminal pngcairo size 1000,700 noenhanced font ",10"'

# Write "x median min max" rows of WORKLOAD for each impl into
# $d/PREFIX-IMPL.dat; x is the value of PARAM; FILTER must match params.
series() { # series PREFIX WORKLOAD PARAM FILTER
  awk -F, -v pre="$d/$1" -v w="$2" -v p="$3" -v f="$4" '
    NR > 1 && $1 == w && $2 ~ f {
      n = split($2, a, " "); x = ""
      for (i = 1; i <= n; i++) if (index(a[i], p "=") == 1) x = substr(a[i], length(p) + 2)
      if (x == "" || x == "-") next
      print x, $6, $7, $8 > (pre "-" $3 ".dat")
    }' "$s"
  for f in "$d/$1"-*.dat; do [ -f "$f" ] && sort -n -o "$f" "$f"; done
  return 0
}

# "plot" clauses for the files of one prefix, one line per implementation.
clauses() { # clauses PREFIX
  sep=
  for f in "$d/$1"-*.dat; do
    [ -f "$f" ] || continue
    impl=${f##*/$1-}; impl=${impl%.dat}
    printf '%s"%s" using 1:2:3:4 with yerrorlines title "%s"' "$sep" "$f" "$impl"
    sep=', '
  done
}

# Allocation throughput against threads, one panel per object size.
panels=
for size in 16 64 1024 16384; do
  series "alloc$size" alloc threads "size=$size "
  c=$(clauses "alloc$size")
  [ -n "$c" ] && panels="$panels
set title \"allocation throughput, $size-byte objects\"
plot $c"
done
if [ -n "$panels" ]; then
  gnuplot <<EOF
$term
set output "$r/alloc.png"
set multiplot layout 2,2
set xlabel "threads"; set ylabel "M allocations/s"; set key top left; set yrange [0:*]
$panels
unset multiplot
EOF
fi

# Full collection time and tracing rate against GC threads.
series fullgc fullgc gc_threads ""
series trace trace gc_threads ""
c1=$(clauses fullgc) c2=$(clauses trace)
if [ -n "$c1" ]; then
  gnuplot <<EOF
$term
set output "$r/fullgc.png"
set multiplot layout 1,2
set xlabel "GC threads"; set key top right; set yrange [0:*]
set title "full collection of the live heap"; set ylabel "ms"
plot $c1
set title "live data traced per second"; set ylabel "MB/s"; set key top left
plot $c2
unset multiplot
EOF
fi

# Malloc-style workloads: one bar per workload and implementation, log
# scale because the three workloads differ by orders of magnitude.
awk -F, 'NR > 1 && ($1 == "hot32" || $1 == "mixed" || $1 == "mid") { print $1 "/" $3, $6, $7, $8 }' "$s" >"$d/malloc.dat"
if [ -s "$d/malloc.dat" ]; then
  gnuplot <<EOF
$term
set output "$r/malloc.png"
set title "malloc-style workloads with explicit free (higher is better)"
set ylabel "M operations/s"; set logscale y; set style fill solid 0.5
set boxwidth 0.7; set xtics rotate by -40; unset key
plot "$d/malloc.dat" using 0:2:xticlabels(1) with boxes, "" using 0:2:3:4 with yerrorbars lc rgb "black"
EOF
fi

# Example applications: wall time per example, thread count and
# implementation.
awk -F, 'NR > 1 && $1 ~ /^ex-/ && $1 !~ /-pausemax$/ { sub(/^ex-/, "", $1); sub(/threads=/, "t", $2); print $1 "/" $2 "/" $3, $6, $7, $8 }' "$s" >"$d/examples.dat"
if [ -s "$d/examples.dat" ]; then
  gnuplot <<EOF
$term
set output "$r/examples.png"
set title "example applications (lower is better)"
set ylabel "wall time (s)"; set yrange [0:*]; set style fill solid 0.5
set boxwidth 0.7; set xtics rotate by -40; unset key
plot "$d/examples.dat" using 0:2:xticlabels(1) with boxes, "" using 0:2:3:4 with yerrorbars lc rgb "black"
EOF
fi

# Pause distribution (first run of each variant): the share of pauses
# shorter than x, per variant.
p=$r/pauses.txt
if [ -s "$p" ]; then
  c=
  for v in $(awk '{ print $1 }' "$p" | sort -u); do
    awk -v v="$v" '$1 == v { print $2 }' "$p" | sort -g >"$d/pause-$v.dat"
    n=$(wc -l <"$d/pause-$v.dat")
    c="$c${c:+, }\"$d/pause-$v.dat\" using 1:(\$0 + 1) / $n with steps title \"$v\""
  done
  gnuplot <<EOF
$term
set output "$r/pause.png"
set title "pause times of the steady-state mutator (cumulative)"
set xlabel "pause (ms)"; set ylabel "share of pauses <= x"; set key bottom right
set logscale x; set yrange [0:1.02]
plot $c
EOF
fi

# k sweep: peak RSS and time against k (pargc only; Boehm has no k).
awk -F, 'NR > 1 && $1 == "ksweep" && $3 == "pargc" {
    n = split($2, a, " "); for (i = 1; i <= n; i++) if (a[i] ~ /^k=/) k = substr(a[i], 3)
    print k, $6, $7, $8, $9 }' "$s" | sort -n >"$d/ksweep.dat"
if [ -s "$d/ksweep.dat" ]; then
  gnuplot <<EOF
$term
set output "$r/ksweep.png"
set multiplot layout 1,2
set xlabel "k (PARGC_K)"; unset key; set yrange [0:*]
set title "peak RSS against k"; set ylabel "MB"
plot "$d/ksweep.dat" using 1:5 with linespoints
set title "time against k"; set ylabel "s"
plot "$d/ksweep.dat" using 1:2:3:4 with yerrorlines
unset multiplot
EOF
fi
exit 0
