#!/bin/sh
# malloc_suite.sh: a program of mimalloc-bench's suite (cfrac, espresso,
# larson, xmalloc-test, barnes) run with a given malloc, as one RESULT
# line (bench/common.h's format) for bench/run.sh.
#
#   malloc_suite.sh --prepare
#   malloc_suite.sh [-p LIBRARY] [-s SIZE] cfrac|espresso|larson|xmalloc-test|barnes
#
# The programs' sources are not part of pargc.  They are taken from a
# mimalloc-bench checkout named by MIMALLOC_BENCH_DIR, or else cloned at
# the commit below when the network allows; without either, --prepare
# prints "skipped: no sources" and every call exits 77 (run.sh then
# leaves the rows out).  --prepare builds the five programs once with
# plain cc / c++ (the suite's own flags, without cmake) under
# ${TMPDIR:-/tmp}/pargc_malloc_suite; a run builds them if need be.
#
# LIBRARY is preloaded into the program only (nothing: the C library's
# malloc).  SIZE 1 is the quick inputs (a smaller number for cfrac, a
# quarter of the bodies for barnes, 2-second runs of larson and
# xmalloc-test), 3 the suite's own (bench.sh's arguments).  Time and peak
# RSS come from /usr/bin/time.  cfrac, espresso and barnes compute
# deterministic results: their output, less the timings they print, must
# equal a run with the C library's malloc (made once per size and kept),
# or the run fails (barnes prints only its parameters and timings, so for
# it this checks that it finished).  larson and xmalloc-test run for a fixed time and
# report a rate: their value is that rate (higher is better), and a run
# fails when the program does not print it.
set -eu

# The pinned commit of https://github.com/daanx/mimalloc-bench.
MB_COMMIT=ce5784f1cef3d48ddc931479e4899ffad5ab3943
MB_URL=https://github.com/daanx/mimalloc-bench

work=${TMPDIR:-/tmp}/pargc_malloc_suite
progs="cfrac espresso larson xmalloc-test barnes"

# sources: print the directory holding bench/cfrac etc., or fail.
sources() {
  if [ -n "${MIMALLOC_BENCH_DIR:-}" ]; then
    [ -d "$MIMALLOC_BENCH_DIR/bench/cfrac" ] || return 1
    echo "$MIMALLOC_BENCH_DIR"
    return 0
  fi
  if [ ! -d "$work/src/bench/cfrac" ]; then
    command -v git >/dev/null 2>&1 || return 1
    rm -rf "$work/src"
    mkdir -p "$work"
    GIT_TERMINAL_PROMPT=0 timeout 120 git clone --quiet "$MB_URL" "$work/src" 2>/dev/null &&
      git -C "$work/src" checkout --quiet "$MB_COMMIT" 2>/dev/null || { rm -rf "$work/src"; return 1; }
  fi
  echo "$work/src"
}

# build: the five programs under $work/bin, from the sources in $1.  The
# suite's CMakeLists.txt lists these files and flags (-w, gnu89 for the
# old C programs, NOMEMOPT for cfrac, CPP for larson's new/delete).
build() {
  b=$1/bench bin=$work/bin
  mkdir -p "$bin"
  cc=${CC:-cc} cxx=${CXX:-c++}
  copt="-O2 -w -std=gnu89"
  [ -x "$bin/cfrac" ] || (cd "$b/cfrac" && $cc $copt -DNOMEMOPT=1 -o "$bin/cfrac" \
    cfrac.c pops.c pconst.c pio.c pabs.c pneg.c pcmp.c podd.c phalf.c padd.c psub.c pmul.c \
    pdivmod.c psqrt.c ppowmod.c atop.c ptoa.c itop.c utop.c ptou.c errorp.c pfloat.c pidiv.c \
    pimod.c picmp.c primes.c pcfrac.c pgcd.c -lm) || return 1
  [ -x "$bin/espresso" ] || (cd "$b/espresso" && $cc $copt -o "$bin/espresso" \
    cofactor.c cols.c compl.c contain.c cubestr.c cvrin.c cvrm.c cvrmisc.c cvrout.c dominate.c \
    equiv.c espresso.c essen.c exact.c expand.c gasp.c getopt.c gimpel.c globals.c hack.c \
    indep.c irred.c main.c map.c matrix.c mincov.c opo.c pair.c part.c primes.c reduce.c rows.c \
    set.c setc.c sharp.c sminterf.c solution.c sparse.c unate.c utility.c verify.c -lm) || return 1
  [ -x "$bin/barnes" ] || (cd "$b/barnes" && $cc $copt -o "$bin/barnes" \
    code.c code_io.c load.c grav.c getparam.c util.c -lm 2>/dev/null) || return 1
  [ -x "$bin/larson" ] || $cxx -O2 -w -DCPP=1 -o "$bin/larson" "$b/larson/larson.cpp" -lpthread || return 1
  [ -x "$bin/xmalloc-test" ] || $cc -O2 -w -o "$bin/xmalloc-test" "$b/xmalloc-test/xmalloc-test.c" -lpthread || return 1
  cp "$b/espresso/largest.espresso" "$b/barnes/input" "$work/" || return 1
  echo "$MB_COMMIT" > "$bin/.built"
}

prepare() {
  [ -s "$work/bin/.built" ] && return 0
  src=$(sources) || return 77
  mkdir -p "$work" # not made by sources() when MIMALLOC_BENCH_DIR names the checkout
  build "$src" > "$work/build.log" 2>&1 || { cat "$work/build.log" >&2; return 1; }
}

if [ "${1:-}" = --prepare ]; then
  rc=0; prepare || rc=$?
  case $rc in
    0) echo "malloc_suite.sh: $progs built in $work/bin" ;;
    77) echo "malloc_suite.sh: skipped: no sources (set MIMALLOC_BENCH_DIR to a mimalloc-bench checkout)" ;;
    *) echo "malloc_suite.sh: building the programs failed (see $work/build.log)" >&2 ;;
  esac
  exit $rc
fi

lib= size=1
while [ $# -gt 1 ]; do
  case $1 in
    -p) lib=$2; shift ;;
    -s) size=$2; shift ;;
    *) break ;;
  esac
  shift
done
prog=$1
[ -x /usr/bin/time ] || exit 77
prepare || exit $?
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
secs=2; [ "$size" -ge 3 ] && secs=5
in=/dev/null
case $prog in
  cfrac)
    n=10000000000037000000000070000000000259 # (10^24 + 7)(10^13 + 37), ~2 s
    [ "$size" -ge 3 ] && n=17545186520507317056371138836327483792789528
    set -- "$work/bin/cfrac" "$n" ;;
  espresso) set -- "$work/bin/espresso" -s "$work/largest.espresso" ;;
  barnes)
    in=$work/barnes.$size
    nbody=40960; [ "$size" -ge 3 ] && nbody=163840
    [ -s "$in" ] || sed "2s/.*/$nbody/" "$work/input" > "$in"
    set -- "$work/bin/barnes" ;;
  larson) set -- "$work/bin/larson" "$secs" 8 1000 5000 100 4141 "$ncpu" ;;
  xmalloc-test) set -- "$work/bin/xmalloc-test" -w "$ncpu" -t "$secs" -s 64 ;;
  *) echo "malloc_suite.sh: unknown program $prog" >&2; exit 2 ;;
esac

# run: the program with LIBRARY preloaded, its output in $out, its
# seconds and peak KB in $work/time.$$.
tfile=$work/time.$$
run() {
  if [ -n "$lib" ]; then
    /usr/bin/time -f "%e %M" -o "$tfile" env LD_PRELOAD="$lib" "$@" < "$in" > "$out" 2>&1
  else
    /usr/bin/time -f "%e %M" -o "$tfile" "$@" < "$in" > "$out" 2>&1
  fi
}
# The deterministic part of an output: the timings out.
result() {
  grep -v -e 'TIME' -e 'COMPUTESTART' -e 'COMPUTEEND' "$1" | sed 's/Time was [0-9.]* sec, //' || true
}
out=$work/out.$$
trap 'rm -f "$out" "$tfile"' EXIT
ref=$work/ref.$prog.$size
case $prog in larson|xmalloc-test) ref= ;; esac
if [ -n "$ref" ] && [ ! -s "$ref" ] && [ -n "$lib" ]; then
  # The reference is a run with the C library's malloc.
  (lib=; run "$@") || { echo "malloc_suite.sh: $prog failed:" >&2; tail -n 5 "$out" >&2; exit 1; }
  result "$out" > "$ref"
fi
run "$@" || { echo "malloc_suite.sh: $prog failed${lib:+ with $lib}:" >&2; tail -n 5 "$out" >&2; exit 1; }
read -r value rss < "$tfile"
threads=1 unit=s
case $prog in
  larson)
    value=$(sed -n 's/^Throughput = *\([0-9.]*\) operations per second.*/\1/p' "$out")
    threads=$ncpu unit=ops/s ;;
  xmalloc-test)
    value=$(sed -n 's/^rtime: [0-9.]*, free\/sec: \([0-9.]*\) M$/\1/p' "$out")
    threads=$((2 * ncpu)) unit=Mfree/s ;;
  *)
    # A line that only a finished computation prints.
    case $prog in cfrac) done=' = ' ;; espresso) done='ESPRESSO' ;; *) done=COMPUTETIME ;; esac
    if ! grep -q "$done" "$out"; then
      echo "malloc_suite.sh: $prog did not finish${lib:+ with $lib}:" >&2
      tail -n 5 "$out" >&2
      exit 1
    fi
    [ -s "$ref" ] || result "$out" > "$ref"
    if ! result "$out" | cmp -s - "$ref"; then
      echo "malloc_suite.sh: $prog printed a different result${lib:+ with $lib}:" >&2
      result "$out" | diff "$ref" - | head -n 10 >&2
      exit 1
    fi ;;
esac
if [ -z "$value" ]; then
  echo "malloc_suite.sh: $prog printed no rate${lib:+ with $lib}:" >&2
  tail -n 5 "$out" >&2
  exit 1
fi
echo "RESULT workload=suite-$prog impl=${BENCH_LABEL:-?} threads=$threads value=$value unit=$unit rss_kb=$rss"
