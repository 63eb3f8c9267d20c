#!/bin/sh
# smoke.sh VARIANT -- run every example in small mode as a make check test.
#
# VARIANT is pargc (examples/NAME) or bdwgc (examples/NAME-bdwgc).  Each
# example checks its own result and exits non-zero when the check fails;
# this script runs them all (so one failure does not hide another) and
# fails if any failed.  Two threads, so that the parallel paths run even on
# a one-core machine.
variant=${1:?usage: smoke.sh pargc|bdwgc}
case $variant in
  pargc) suffix= ;;
  bdwgc) suffix=-bdwgc ;;
  *) echo "smoke.sh: unknown variant '$variant'" >&2; exit 2 ;;
esac
bindir=${top_builddir:-.}/examples
status=0
run() {
  prog=$bindir/$1$suffix
  shift
  echo "+ $prog -s -t 2 $*"
  "$prog" -s -t 2 "$@" || { echo "FAILED: $prog -s -t 2 $*"; status=1; }
}
run bh -m st
run bh -m pt
run cky
run cube
run matmul
run gcbench
run gcbench -t 1
exit $status
