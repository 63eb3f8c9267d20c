#!/bin/sh
# table.sh pargc|bdwgc [runs] -- the timing table of docs/examples.md.
#
# Run from the build directory after `make examples`.  Runs every example
# at its default size on 1 and 2 threads, and for pargc at k = 1 and
# k = threads (PARGC_K; Boehm GC has no k, so it runs once per thread
# count), `runs` times each (default 3), and prints one Markdown table row
# per example: the fastest wall time, with the total and maximum pause of
# that run.  The fastest rather than the median because the machine these
# tables come from is shared: other load only ever adds time.  Any failed
# check aborts the table.
set -eu
variant=${1:?usage: table.sh pargc|bdwgc [runs]}
runs=${2:-3}
case $variant in
  pargc) suffix= ; configs="1:1 2:1 2:2" ;;
  bdwgc) suffix=-bdwgc ; configs="1:- 2:-" ;;
  *) echo "table.sh: unknown variant '$variant'" >&2; exit 2 ;;
esac

# One configuration, `runs` times: print "wall pause_total pause_max" of the
# fastest run.
measure() {
  threads=$1 k=$2
  shift 2
  for r in $(seq "$runs"); do
    if [ "$k" = - ]; then
      line=$("$@" -t "$threads")
    else
      line=$(PARGC_K=$k "$@" -t "$threads")
    fi
    case $line in
      *check=ok*) ;;
      *) echo "table.sh: check failed: $* -t $threads: $line" >&2; exit 1 ;;
    esac
    echo "$line" | tail -n 1 | sed -e 's/.*wall=\([0-9.]*\)s.*pause_total=\([^ ]*\) pause_max=\([^ ]*\).*/\1 \2 \3/'
  done | sort -n | head -n 1
}

row() {
  name=$1
  shift
  cells=
  for c in $configs; do
    set -- $(measure "${c%%:*}" "${c##*:}" "$@") "$@"
    cells="$cells | $1 s ($2 total, $3 max)"
    shift 3
  done
  echo "| $name$cells |"
}

bin=./examples
row "bh (st)" $bin/bh$suffix -m st
row "bh (pt)" $bin/bh$suffix -m pt
row cky $bin/cky$suffix
row cube $bin/cube$suffix
row matmul $bin/matmul$suffix
row gcbench $bin/gcbench$suffix
