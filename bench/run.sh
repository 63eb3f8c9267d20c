#!/bin/sh
# run.sh: build and run pargc's benchmark suite; print a table and write
# CSV files, a Markdown table and PNG plots under results/.
#
#   bench/run.sh [--quick | --full | --tiny] [options]
#
#   --quick          (default) every workload at sizes that finish in a few
#                    minutes on a small machine, 5 runs each
#   --full           the sizes of the issues (512 MB live heap for the full
#                    collection, 256 MB for pauses), 5 runs each; longer
#   --tiny           tiny sizes, 2 runs: the `make check` smoke test
#   --reps N         runs per figure (median, min and max are over these)
#   --builddir DIR   build tree to use or create (default: build)
#   --results DIR    where to write (default: results/DATE-MODE, and
#                    results/latest points at it)
#   --no-build       use the programs already in the build tree
#   --only LIST      comma-separated subset of: alloc,malloc,fullgc,
#                    examples,pause,ksweep,idle
#   --impls LIST     comma-separated subset of: pargc,bdwgc,mimalloc,glibc
#                    (also BENCH_IMPLS in the environment; default: all
#                    that are built)
#   EXAMPLE_ARGS     (environment) extra arguments for every example run
#   MIMALLOC_BENCH_DIR (environment) a mimalloc-bench checkout, whose
#                    programs the malloc rows build (bench/malloc_suite.sh)
#
# Every program prints RESULT lines (bench/common.h).  Runs are interleaved:
# for each repetition every configuration runs each implementation back to
# back, so ratios are taken run by run, pairwise, and drift of the machine
# during the suite cancels out.  pargc rows appear as soon as the pargc
# builds of the programs link (see bench/bench.am); missing binaries are
# noted and skipped, never fatal.
set -eu

mode=quick reps= builddir= results= build=1 only= impls=${BENCH_IMPLS:-}
while [ $# -gt 0 ]; do
  case $1 in
    --quick) mode=quick ;;
    --full) mode=full ;;
    --tiny) mode=tiny ;;
    --reps) reps=$2; shift ;;
    --builddir) builddir=$2; shift ;;
    --results) results=$2; shift ;;
    --no-build) build=0 ;;
    --only) only=$2; shift ;;
    --impls) impls=$2; shift ;;
    -h|--help) sed -n '2,/^set -eu/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

srcdir=$(cd "$(dirname "$0")/.." && pwd)
: "${builddir:=$srcdir/build}"
mkdir -p "$builddir"
builddir=$(cd "$builddir" && pwd)
stamp=$(date -u +%Y%m%d-%H%M%S)
default_results=0
[ -n "$results" ] || { results=$srcdir/results/$stamp-$mode; default_results=1; }
mkdir -p "$results"
results=$(cd "$results" && pwd)
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null || echo 1)

# Collector settings from the caller's environment would silently change
# what each row means; every run sets what it needs explicitly.
unset GC_MARKERS GC_NPROCS PARGC_GC_THREADS PARGC_MODE PARGC_K \
  GC_ENABLE_INCREMENTAL GC_PRINT_STATS BENCH_LABEL BENCH_PAUSE_DUMP 2>/dev/null || true

notes=$results/notes.txt
: >"$notes"
note() { echo "run.sh: $*" >&2; echo "$*" >>"$notes"; }
wants() { [ -z "$only" ] || case ",$only," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

# ---- build ------------------------------------------------------------------
# Output goes to build.log; a failing step shows its end and stops.
if [ $build = 1 ]; then
  blog=$results/build.log
  step() {
    "$@" >>"$blog" 2>&1 || { tail -n 30 "$blog" >&2; echo "run.sh: build failed: $* (see $blog)" >&2; exit 1; }
  }
  echo "run.sh: building in $builddir" >&2
  if [ ! -f "$builddir/Makefile" ]; then
    [ -x "$srcdir/configure" ] || step sh -c "cd '$srcdir' && ./autogen.sh"
    step sh -c "cd '$builddir' && '$srcdir/configure'"
  fi
  step make -C "$builddir" -j"$ncpu"
  step make -C "$builddir" -j"$ncpu" bench
  grep '^bench:' "$blog" >&2 || true
  # The example programs (examples/) belong to their own target; build
  # them if this tree has it.
  if wants examples; then
    make -C "$builddir" -j"$ncpu" examples >>"$blog" 2>&1 ||
      note "examples: 'make examples' failed or does not exist here; example rows skipped"
  fi
fi
bin=$builddir/bench

# ---- the machine ----------------------------------------------------------------
machine=$results/machine.txt
{
  echo "date:      $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "mode:      $mode"
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
  echo "cpu:       ${cpu:-unknown}"
  sockets=$(lscpu 2>/dev/null | sed -n 's/^Socket(s):[[:space:]]*//p')
  numa=$(lscpu 2>/dev/null | sed -n 's/^NUMA node(s):[[:space:]]*//p')
  echo "cores:     $ncpu cores online${sockets:+, $sockets socket(s)}${numa:+, $numa NUMA node(s)}"
  mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)
  echo "memory:    ${mem:-unknown}"
  echo "kernel:    $(uname -sr)"
  echo "compiler:  $(${CC:-cc} --version 2>/dev/null | head -n 1)"
  echo "glibc:     $(getconf GNU_LIBC_VERSION 2>/dev/null || echo unknown)"
  echo "bdwgc:     $(pkg-config --modversion bdw-gc 2>/dev/null || echo absent)"
  mi=$(dpkg-query -W -f '${Version}' libmimalloc-dev 2>/dev/null ||
    sed -n 's/^#define MI_MALLOC_VERSION \([0-9]*\).*/\1/p' /usr/include/mimalloc.h 2>/dev/null ||
    true)
  echo "mimalloc:  ${mi:-absent}"
  pv=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"/\1/p' "$builddir/config.h" 2>/dev/null)
  rev=$(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null || echo "?")
  echo "pargc:     ${pv:-?} (commit $rev)"
} >"$machine"
cat "$machine"

# ---- sizes per mode ---------------------------------------------------------
# n16: the base count of allocations per thread; bigger objects get fewer
# (64 B: 1/2, 1 KiB: 1/16, 16 KiB: 1/128) so that each size takes a
# comparable time.  The 16-byte row itself runs n16 x a16: at 450 M/s a
# run of n16 = 20 M lasts 45 ms, most of it the heap's warm-up (fresh
# pages faulted in, each thread's LPS share growing), and its 2-thread
# figure swung between 1.46x and 1.79x of one thread; runs of 100 M per
# thread measure the steady state (1.76-1.92x on the 2-core guest).
case $mode in
  tiny)  : "${reps:=2}"; n16=20000; a16=1; nmix=20000; hot=200; mid=2000
         live=8; pause_live=4; pause_alloc=16; k_live=2; colls=1; idle_mb=8; idle_s=1 ;;
  quick) : "${reps:=5}"; n16=4000000; a16=5; nmix=2000000; hot=20000; mid=200000
         live=128; pause_live=64; pause_alloc=1024; k_live=32; colls=3; idle_mb=64; idle_s=2 ;;
  full)  : "${reps:=5}"; n16=20000000; a16=5; nmix=10000000; hot=100000; mid=1000000
         live=512; pause_live=256; pause_alloc=4096; k_live=128; colls=5; idle_mb=256; idle_s=2 ;;
esac
# pause_alloc: MB the steady-state mutator allocates, 16 x its live heap
# in quick and full mode, so that each run sees a few dozen collections.
# Thread counts: 1, 2, 4, ... up to the cores, and the cores themselves.
threads_list=$(awk -v n="$ncpu" 'BEGIN { for (t = 1; t < n; t *= 2) printf "%d ", t; print n }')

# ---- the plan: one line per configuration -----------------------------------
# id|program|implementation label|environment|arguments
plan=$results/plan.txt
: >"$plan"
add() { echo "$1|$2|$3|$4|$5" >>"$plan"; }
# impl_on IMPL: is this implementation (pargc-conc counts as pargc) wanted?
impl_on() { [ -z "$impls" ] || case ",$impls," in *",${1%%-*},"*) return 0 ;; *) return 1 ;; esac; }
# have PROGRAM-IMPL: built, and its implementation wanted.
have() { impl_on "${1##*-}" && [ -x "$bin/$1" ]; }
missing=
skip_missing() { # skip_missing NAME [PATH]
  case " $missing " in *" $1 "*) ;; *) missing="$missing $1"; note "not built: ${2:-bench/$1} (its rows are skipped)" ;; esac
}
each_impl() { # each_impl PROGRAM IMPLS ID ENV ARGS
  for i in $2; do
    impl_on "$i" || continue
    if have "$1-$i"; then add "$3" "bench/$1-$i" "$i" "$4" "$5"; else skip_missing "$1-$i"; fi
  done
}

if wants alloc; then
  for size in 16 64 1024 16384; do
    case $size in 16) n=$((n16 * a16)) ;; 64) n=$((n16 / 2)) ;; 1024) n=$((n16 / 16)) ;; *) n=$((n16 / 128)) ;; esac
    [ $n -ge 100 ] || n=100
    for t in $threads_list; do
      each_impl alloc_tp "pargc bdwgc mimalloc glibc" "alloc-$size-$t" "" "-s $size -t $t -n $n"
    done
  done
fi
if wants malloc; then
  each_impl malloc_wl "pargc bdwgc mimalloc glibc" hot32 "" "-w hot -n $hot"
  each_impl malloc_wl "pargc bdwgc mimalloc glibc" mixed "" "-w mixed -n $nmix"
  each_impl malloc_wl "pargc bdwgc mimalloc glibc" mid "" "-w mid -t 2 -n $mid"
  if have malloc_wl-glibc; then add mid bench/malloc_wl-glibc memset "" "-w mid-memset -t 2 -n $mid"; fi
  # libpargc-malloc as the program's malloc: the glibc build (calloc and
  # free through the PLT) with the library preloaded, and for a like-for-
  # like reference the same binary with mimalloc preloaded.
  pm_lib=$builddir/.libs/libpargc-malloc.so
  mi_lib=$(ls /usr/lib/*/libmimalloc.so.2 /usr/lib/*/libmimalloc.so /usr/local/lib/libmimalloc.so 2>/dev/null | head -n 1 || true)
  if impl_on pargc && [ -x "$bin/malloc_wl-glibc" ] && [ -e "$pm_lib" ]; then
    add hot32 bench/malloc_wl-glibc pargc-malloc "LD_PRELOAD=$pm_lib" "-w hot -n $hot"
    add mixed bench/malloc_wl-glibc pargc-malloc "LD_PRELOAD=$pm_lib" "-w mixed -n $nmix"
    add mid bench/malloc_wl-glibc pargc-malloc "LD_PRELOAD=$pm_lib" "-w mid -t 2 -n $mid"
  elif impl_on pargc; then
    skip_missing pargc-malloc "$pm_lib or bench/malloc_wl-glibc"
  fi
  if impl_on mimalloc && [ -x "$bin/malloc_wl-glibc" ] && [ -n "$mi_lib" ]; then
    add hot32 bench/malloc_wl-glibc mimalloc-preload "LD_PRELOAD=$mi_lib" "-w hot -n $hot"
    add mixed bench/malloc_wl-glibc mimalloc-preload "LD_PRELOAD=$mi_lib" "-w mixed -n $nmix"
    add mid bench/malloc_wl-glibc mimalloc-preload "LD_PRELOAD=$mi_lib" "-w mid -t 2 -n $mid"
  fi
  # Real programs, unmodified: time and peak RSS with glibc's malloc,
  # mimalloc preloaded (labelled mimalloc, the ratios' reference) and
  # libpargc-malloc preloaded.  Not in tiny mode (seconds each).
  if [ "$mode" != tiny ]; then
    cp "$srcdir/bench/malloc_prog.sh" "$bin/malloc_prog.sh"
    psize=1; [ "$mode" = full ] && psize=3
    for p in sort sqlite3 python3; do
      command -v "$p" >/dev/null 2>&1 || { note "malloc: $p not installed (its rows are skipped)"; continue; }
      if impl_on glibc; then add "prog-$p" bench/malloc_prog.sh glibc "" "-s $psize $p"; fi
      if impl_on mimalloc && [ -n "$mi_lib" ]; then add "prog-$p" bench/malloc_prog.sh mimalloc "" "-p $mi_lib -s $psize $p"; fi
      if impl_on pargc && [ -e "$pm_lib" ]; then add "prog-$p" bench/malloc_prog.sh pargc-malloc "" "-p $pm_lib -s $psize $p"; fi
    done
    # mimalloc-bench's programs, built from its sources (MIMALLOC_BENCH_DIR
    # or a clone; bench/malloc_suite.sh), the same three ways.
    cp "$srcdir/bench/malloc_suite.sh" "$bin/malloc_suite.sh"
    if suite=$("$bin/malloc_suite.sh" --prepare 2>&1); then
      for p in cfrac espresso larson xmalloc-test barnes; do
        if impl_on glibc; then add "suite-$p" bench/malloc_suite.sh glibc "" "-s $psize $p"; fi
        if impl_on mimalloc && [ -n "$mi_lib" ]; then add "suite-$p" bench/malloc_suite.sh mimalloc "" "-p $mi_lib -s $psize $p"; fi
        if impl_on pargc && [ -e "$pm_lib" ]; then add "suite-$p" bench/malloc_suite.sh pargc-malloc "" "-p $pm_lib -s $psize $p"; fi
      done
    else
      note "malloc: mimalloc-bench programs: ${suite#malloc_suite.sh: }"
    fi
  fi
fi
if wants fullgc; then
  for g in $threads_list; do
    if have fullgc-pargc; then add "fullgc-$g" bench/fullgc-pargc pargc "PARGC_GC_THREADS=$g" "-m $live -g $g -c $colls"
    elif impl_on pargc; then skip_missing fullgc-pargc; fi
    if have fullgc-bdwgc; then add "fullgc-$g" bench/fullgc-bdwgc bdwgc "GC_MARKERS=$g" "-m $live -g $g -c $colls"
    elif impl_on bdwgc; then skip_missing fullgc-bdwgc; fi
  done
fi
if wants pause; then
  if have pause-pargc; then
    add pause bench/pause-pargc pargc "" "-m $pause_live -a $pause_alloc"
    add pause bench/pause-pargc pargc-conc "PARGC_MODE=concurrent" "-m $pause_live -a $pause_alloc"
    # One row per barrier: auto (above) is mprotect; manual uses the
    # program's own calls; soft-dirty where the kernel has it.
    add pause bench/pause-pargc pargc-conc-manual "PARGC_MODE=concurrent PARGC_BARRIER=manual" "-m $pause_live -a $pause_alloc"
    if PARGC_MODE=concurrent PARGC_BARRIER=soft-dirty "$bin/pause-pargc" -m 1 -a 1 2>&1 |
        grep -q "soft-dirty bits do not work"; then
      note "pause: the kernel's soft-dirty bits do not work here; no soft-dirty row"
    else
      add pause bench/pause-pargc pargc-conc-softdirty "PARGC_MODE=concurrent PARGC_BARRIER=soft-dirty" "-m $pause_live -a $pause_alloc"
    fi
  elif impl_on pargc; then skip_missing pause-pargc; fi
  if have pause-bdwgc; then
    add pause bench/pause-bdwgc bdwgc "" "-m $pause_live -a $pause_alloc"
    add pause bench/pause-bdwgc bdwgc-incr "GC_ENABLE_INCREMENTAL=1" "-m $pause_live -a $pause_alloc"
  elif impl_on bdwgc; then skip_missing pause-bdwgc; fi
fi
if wants ksweep; then
  kt=$ncpu; [ "$kt" -ge 2 ] || kt=2
  if have ksweep-pargc; then
    k=1; while [ $k -le $kt ]; do
      add "ksweep-$k" bench/ksweep-pargc pargc "PARGC_K=$k" "-m $k_live -t $kt"; k=$((k + 1))
    done
  elif impl_on pargc; then skip_missing ksweep-pargc; fi
  each_impl ksweep bdwgc ksweep "" "-m $k_live -t $kt"
fi
# Idle return: resident MB after a program drops what it built and
# sleeps (bench/idle.c); less is better.
if wants idle; then
  each_impl idle "pargc bdwgc" idle "" "-m $idle_mb -s $idle_s"
fi
# The examples print one summary line each (docs/examples.md); GCBench runs
# with 1 thread and with every core each running it, the others on every
# core.  Their default sizes are used (EXAMPLE_ARGS in the environment is
# appended to every example's command line); tiny mode leaves them out.
if wants examples; then
  if [ $mode = tiny ]; then
    note "examples: skipped in tiny mode (their sizes are their own)"
  else
    ex_missing=
    for ex in gcbench bh cky cube matmul; do
      tl=$ncpu; [ $ex = gcbench ] && tl=$(echo 1 $ncpu | tr ' ' '\n' | sort -nu | tr '\n' ' ')
      for t in $tl; do
        for v in pargc bdwgc; do
          impl_on $v || continue
          exe=examples/$ex; [ $v = bdwgc ] && exe=examples/$ex-bdwgc
          if [ -x "$builddir/$exe" ]; then add "ex-$ex-$t" "$exe" "$v" "" "-t $t ${EXAMPLE_ARGS:-}"
          else ex_missing="$ex_missing $exe"; fi
        done
      done
    done
    [ -z "$ex_missing" ] ||
      note "examples not built (their rows are skipped): $(echo $ex_missing | tr ' ' '\n' | sort -u | tr '\n' ' ')"
  fi
fi

# ---- run ----------------------------------------------------------------------
raw=$results/raw.csv
log=$results/log.txt
: >"$log"
echo "rep,workload,params,impl,value,unit,rss_kb" >"$raw"
# Per-run time limit, so a hung run cannot stall the suite (or make check).
case $mode in tiny) limit=120 ;; quick) limit=600 ;; full) limit=1800 ;; esac
pause_dump=$results/pauses.txt
: >"$pause_dump"
nplan=$(wc -l <"$plan")
echo "run.sh: $nplan configurations x $reps runs, mode $mode, results in $results" >&2
rep=1
while [ $rep -le "$reps" ]; do
  echo "run.sh: run $rep of $reps" >&2
  while IFS='|' read -r id prog impl envs args; do
    dump=; [ "$rep" = 1 ] && dump=$pause_dump
    out=$(cd "$builddir" && env BENCH_LABEL="$impl" BENCH_PAUSE_DUMP="$dump" \
      $envs timeout $limit "./$prog" $args </dev/null 2>>"$log") || {
      note "failed (exit $?): $envs $prog $args (run $rep)"; }
    printf '%s\n' "# run $rep: $envs $prog $args" "$out" >>"$log"
    # RESULT lines straight from bench/ programs; the examples' summary
    # line (name: wall=..s threads=.. ... rss=..MB check=ok) is turned
    # into the same form.
    before=$(wc -l <"$raw")
    printf '%s\n' "$out" | awk -v rep="$rep" -v impl="$impl" -v id="$id" '
      function kv(s,   i, n, a, k) {
        delete F; n = split(s, a, " ")
        for (i = 1; i <= n; i++) { k = index(a[i], "="); if (k) F[substr(a[i], 1, k - 1)] = substr(a[i], k + 1) }
      }
      /^RESULT / {
        kv(substr($0, 8)); params = ""
        n = split(substr($0, 8), a, " ")
        for (i = 1; i <= n; i++) {
          k = substr(a[i], 1, index(a[i], "=") - 1)
          if (k == "workload" || k == "impl" || k == "value" || k == "unit" || k == "rss_kb" || k ~ /^info_/) continue
          params = params (params == "" ? "" : " ") a[i]
        }
        printf "%s,%s,%s,%s,%s,%s,%s\n", rep, F["workload"], params, F["impl"], F["value"], F["unit"], F["rss_kb"]
        next
      }
      /^[a-z][a-z-]*: wall=/ && id ~ /^ex-/ {
        name = substr($1, 1, length($1) - 1); kv($0)
        if (F["check"] != "ok") next
        wall = F["wall"]; sub(/s$/, "", wall); rss = F["rss"]; sub(/MB$/, "", rss)
        pm = F["pause_max"]; sub(/ms$/, "", pm)
        printf "%s,ex-%s,threads=%s,%s,%s,s,%d\n", rep, name, F["threads"], impl, wall, rss * 1024
        if (pm != "") printf "%s,ex-%s-pausemax,threads=%s,%s,%s,ms,%d\n", rep, name, F["threads"], impl, pm, rss * 1024
      }' >>"$raw"
    [ "$(wc -l <"$raw")" -gt "$before" ] || note "no result: $envs $prog $args (run $rep)"
  done <"$plan"
  rep=$((rep + 1))
done

# ---- summarise: medians, min, max, pairwise ratios -----------------------------
# A ratio is "how many times better the row's implementation is than the
# reference", per run, then its median [min-max] over runs: value/ref for
# rates (units ending in /s), ref/value for times and sizes.
summary=$results/summary.csv
awk -F, '
  function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
  function med(a, n) { return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  function stats(list,   a, n, i) { n = split(list, a, " "); if (n == 0) return ""; for (i = 1; i <= n; i++) a[i] += 0; sort(a, n); return sprintf("%.4g %.4g %.4g %d", med(a, n), a[1], a[n], n) }
  function gensub_threads(p,   q) { q = p; sub(/threads=[0-9]+/, "threads=1", q); return q }
  NR == 1 { next }
  $5 == "" { next }
  {
    row = $2 SUBSEP $3 SUBSEP $4
    if (!(row in unit)) { order[++nrows] = row; unit[row] = $6 }
    vals[row] = vals[row] " " $5; rss[row] = rss[row] " " $7
    v[$1, $2, $3, $4] = $5
    reps[$1] = 1
  }
  END {
    print "workload,params,impl,unit,runs,median,min,max,rss_mb_median,vs_bdwgc,vs_mimalloc,vs_glibc,vs_1thread"
    for (r = 1; r <= nrows; r++) {
      row = order[r]; split(row, k, SUBSEP)
      split(stats(vals[row]), s, " "); split(stats(rss[row]), m, " ")
      rate = unit[row] ~ /\/s$/
      line = sprintf("%s,%s,%s,%s,%d,%s,%s,%s,%.1f", k[1], k[2], k[3], unit[row], s[4], s[1], s[2], s[3], m[1] / 1024)
      # The memset rows are a bound for the mid workload, not a
      # competitor: no ratios for them.
      nref = k[3] ~ /^memset/ ? 0 : split("bdwgc mimalloc glibc 1thread", refs, " ")
      for (j = nref + 1; j <= 4; j++) line = line ","
      for (j = 1; j <= nref; j++) {
        list = ""
        for (rp in reps) {
          if (refs[j] == "1thread") {
            p1 = gensub_threads(k[2]); if (p1 == k[2] || k[2] !~ /threads=/) continue
            a = v[rp, k[1], k[2], k[3]]; b = v[rp, k[1], p1, k[3]]
          } else {
            if (refs[j] == k[3]) continue
            a = v[rp, k[1], k[2], k[3]]; b = v[rp, k[1], k[2], refs[j]]
          }
          if (a == "" || b == "" || a + 0 == 0 || b + 0 == 0) continue
          list = list " " (rate ? a / b : b / a)
        }
        split(stats(list), q, " ")
        line = line "," (list == "" ? "" : sprintf("%.2f [%.2f-%.2f]", q[1], q[2], q[3]))
      }
      print line
    }
  }' "$raw" >"$summary"

# ---- the table: stdout and Markdown ---------------------------------------------
table=$results/table.md
{
  echo "Machine: $(sed -n 's/^cpu: *//p' "$machine"), $(sed -n 's/^cores: *//p' "$machine"), $(sed -n 's/^memory: *//p' "$machine"), $(sed -n 's/^kernel: *//p' "$machine")"
  echo "Libraries: $(sed -n "s/^glibc: *//p" "$machine"), Boehm GC $(sed -n 's/^bdwgc: *//p' "$machine"), mimalloc $(sed -n 's/^mimalloc: *//p' "$machine"), pargc $(sed -n 's/^pargc: *//p' "$machine")"
  echo "Run: $(sed -n 's/^date: *//p' "$machine"), mode $mode, $reps runs per figure (median [min-max]); ratios: run-by-run, >1 means the row is better than the reference"
  echo
  echo "| workload | params | impl | median | min-max | unit | RSS MB | vs bdwgc | vs mimalloc | vs glibc | vs 1 thread |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  awk -F, 'NR > 1 { printf "| %s | %s | %s | %s | %s-%s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $6, $7, $8, $4, $9, $10, $11, $12, $13 }' "$summary"
} >"$table"
# The ratios the issues set targets for, pulled out of the summary (empty
# until the pargc rows exist).  label|workload|params|impl|column|goal:
# every ratio is oriented so that more is better, and the goal is the
# least the issue asks for (none where it sets no ratio; the thread-scaling
# goals are the issues', for 2 cores).
targets=$results/targets.txt
two_core_malloc= two_core_gc= two_core_gcbench=
[ "$ncpu" = 2 ] && two_core_malloc=1.8 two_core_gc=1.85 two_core_gcbench=0.8
{
  echo "GC_MALLOC 16 B, 1 thread, vs Boehm|alloc|size=16 threads=1|pargc|10|3"
  echo "GC_MALLOC 16 B, $ncpu threads vs 1 thread|alloc|size=16 threads=$ncpu|pargc|13|$two_core_malloc"
  for w in hot32 mixed; do
    echo "$w vs mimalloc|$w|threads=1|pargc|11|0.8"
    echo "$w vs Boehm|$w|threads=1|pargc|10|1.5"
  done
  echo "mid vs mimalloc|mid|threads=2|pargc|11|0.8"
  echo "mid vs Boehm|mid|threads=2|pargc|10|"
  for g in $threads_list; do
    goal=; [ "$g" = 1 ] && goal=1.5
    echo "full collection, $g GC threads, vs Boehm|fullgc|live_mb=$live gc_threads=$g|pargc|10|$goal"
  done
  echo "full collection, $ncpu GC threads vs 1|fullgc|live_mb=$live gc_threads=$ncpu|pargc|13|$two_core_gc"
  for t in $(echo 1 $ncpu | tr ' ' '\n' | sort -nu); do
    goal=; [ "$t" = 1 ] && goal=1.4
    echo "GCBench, $t threads, vs Boehm|ex-gcbench|threads=$t|pargc|10|$goal"
  done
  echo "GCBench, $ncpu threads each running it, vs 1 (time of 1 / time of $ncpu)|ex-gcbench|threads=$ncpu|pargc|13|$two_core_gcbench"
  for st in p50 max; do
    echo "pause $st, stop-parallel, vs Boehm|pause|live_mb=$pause_live threads=1 stat=$st|pargc|10"
    echo "pause $st, concurrent, vs Boehm|pause|live_mb=$pause_live threads=1 stat=$st|pargc-conc|10"
  done
  echo "steady-state throughput, concurrent, vs Boehm|steady|live_mb=$pause_live threads=1|pargc-conc|10"
  echo "pause max, concurrent, manual barrier, vs Boehm|pause|live_mb=$pause_live threads=1 stat=max|pargc-conc-manual|10"
  echo "steady-state throughput, stop-parallel, vs Boehm|steady|live_mb=$pause_live threads=1|pargc|10"
} >"$targets"
targets_md=$(awk -F, -v tf="$targets" '
  NR > 1 { cell[$1 "|" $2 "|" $3, 10] = $10; cell[$1 "|" $2 "|" $3, 11] = $11; cell[$1 "|" $2 "|" $3, 13] = $13 }
  END {
    while ((getline line < tf) > 0) {
      split(line, t, "|"); c = cell[t[2] "|" t[3] "|" t[4], t[5]]
      verdict = ""
      if (c != "" && t[6] != "") {
        split(c, m, " ")
        verdict = (m[1] + 0 >= t[6] + 0) ? "met" : "missed"
      }
      printf "| %s | %s | %s | %s |\n", t[1], c == "" ? "(no row yet)" : c,
             t[6] == "" ? "" : ">= " t[6], verdict
    }
  }' "$summary")
{
  echo
  echo "Targets (pargc against the reference, run-by-run ratios, more is better; goal: the least the issues ask for):"
  echo
  echo "| target | ratio median [min-max] | goal | |"
  echo "|---|---|---|---|"
  echo "$targets_md"
} >>"$table"

# Memory against Boehm GC: peak RSS of every example (and the idle row's
# resident MB after idling), pargc / Boehm GC run by run -- less is
# better, the goal is <= 1 -- with the time ratio of the same runs
# (Boehm GC's time / pargc's: more is better).
memtable=$(awk -F, '
  function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
  function med(a, n) { return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  NR == 1 || $5 == "" { next }
  $2 !~ /^ex-/ && $2 != "idle" { next }
  $2 ~ /pausemax$/ { next }
  {
    row = $2 " " $3
    if (!(row in seen)) { seen[row] = 1; order[++n] = row }
    m = ($2 == "idle") ? $5 * 1024 : $7
    mem[$1, row, $4] = m; t[$1, row, $4] = $5; reps[$1] = 1
  }
  END {
    for (i = 1; i <= n; i++) {
      row = order[i]; k = 0; q = 0; np = 0; nb = 0
      for (r in reps) {
        if ((r, row, "pargc") in mem) pm[++np] = mem[r, row, "pargc"] / 1024
        if ((r, row, "bdwgc") in mem) bm[++nb] = mem[r, row, "bdwgc"] / 1024
        if (!((r, row, "pargc") in mem) || !((r, row, "bdwgc") in mem)) continue
        if (mem[r, row, "bdwgc"] > 0) rm[++k] = mem[r, row, "pargc"] / mem[r, row, "bdwgc"]
        if (row !~ /^idle/ && t[r, row, "pargc"] > 0) rt[++q] = t[r, row, "bdwgc"] / t[r, row, "pargc"]
      }
      if (!np || !nb) continue
      sort(pm, np); sort(bm, nb); sort(rm, k); sort(rt, q)
      printf "| %s | %.1f | %.1f | %s | %s |\n", row, med(pm, np), med(bm, nb),
             k ? sprintf("%.2f [%.2f-%.2f]", med(rm, k), rm[1], rm[k]) : "",
             q ? sprintf("%.2f [%.2f-%.2f]", med(rt, q), rt[1], rt[q]) : "(idle: MB after idling)"
      delete pm; delete bm; delete rm; delete rt
    }
  }' "$raw")
if [ -n "$memtable" ]; then
  {
    echo
    echo "Memory against Boehm GC (peak RSS MB, medians; idle: resident MB after idling; ratios run by run, pargc / Boehm GC for memory -- goal <= 1 -- and Boehm GC / pargc for time):"
    echo
    echo "| row | pargc MB | Boehm GC MB | memory pargc/Boehm | time Boehm/pargc |"
    echo "|---|---|---|---|---|"
    echo "$memtable"
  } >>"$table"
fi

echo
awk -F, 'BEGIN { printf "%-20s %-32s %-11s %10s %21s %-9s %8s %-18s %-18s %-18s %s\n", "workload", "params", "impl", "median", "min-max", "unit", "RSS MB", "vs bdwgc", "vs mimalloc", "vs glibc", "vs 1 thread" }
  NR > 1 { printf "%-20s %-32s %-11s %10s %21s %-9s %8s %-18s %-18s %-18s %s\n", $1, $2, $3, $6, $7 "-" $8, $4, $9, $10, $11, $12, $13 }' "$summary"

if [ -n "$memtable" ]; then
  echo
  echo "Memory against Boehm GC (peak RSS MB; idle: resident MB after idling; pargc/Boehm <= 1 is the goal; time Boehm/pargc > 1: pargc faster):"
  echo "$memtable" | awk -F'|' '{ printf "  %-28s %9s %9s  %-20s %s\n", $2, $3, $4, $5, $6 }'
fi

echo
echo "Targets (pargc against the reference, run-by-run ratios, more is better; goal: the least the issues ask for):"
echo "$targets_md" | awk -F'|' '{ printf "  %-50s %-22s %-8s %s\n", $2, $3, $4, $5 }'

# ---- plots ----------------------------------------------------------------------
if command -v gnuplot >/dev/null 2>&1; then
  sh "$srcdir/bench/plot.sh" "$results" 2>>"$log" || note "plots: gnuplot failed (see log.txt)"
else
  note "plots: gnuplot not found (Debian: apt-get install gnuplot-nox); CSV only"
fi

# results/latest names the newest default result folder (not an explicit
# --results, e.g. the smoke test's, which must not write to the sources).
[ $default_results = 0 ] || ln -sfn "$results" "$srcdir/results/latest" 2>/dev/null || true
echo
echo "run.sh: wrote $summary, $table, $raw and plots in $results"
[ -s "$notes" ] && { echo "run.sh: notes:"; sed 's/^/  /' "$notes"; }
exit 0
