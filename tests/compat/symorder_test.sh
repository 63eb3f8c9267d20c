#!/bin/sh
# A program whose symbol order puts libc before libgc.so.1 -- as Debian's
# ECL and Guile have, their own libraries bringing libgc in -- built here
# against libpargc (symorder/main.c says what it checks).
# There the plain pthread_create that pargc interposes binds to libc's;
# GC_pthread_create and GC_pthread_exit must not.  Needs a C compiler at
# test time (skipped without one).
set -u
top=${top_builddir:-.}
src=${top_srcdir:-.}
cc=${CC:-cc}
command -v "$cc" >/dev/null 2>&1 || { echo "SKIP: no C compiler ($cc)"; exit 77; }
lib=$(cd "$top/.libs" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pargc_symorder.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
# -lc first, with --no-as-needed, so that libc.so.6 is the first NEEDED.
if ! "$cc" -O1 -I"$src/include" -o "$tmp/main" "$src/tests/compat/symorder/main.c" \
    -Wl,--no-as-needed -lc -L"$lib" -lpargc -lpthread -Wl,-rpath,"$lib" 2>"$tmp/cc.err"; then
  echo "FAIL: could not build the program:"; cat "$tmp/cc.err"; exit 1
fi
needed=$(readelf -d "$tmp/main" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
case $needed in
  libc.so.6*libpargc.so*) ;;
  *) echo "SKIP: the linker did not put libc first ($needed)"; exit 77 ;;
esac
echo "NEEDED: $needed"
status=0
for mode in stop concurrent; do
  echo "PARGC_MODE=$mode"
  PARGC_MODE=$mode PARGC_CONC_MIN_LIVE=0 timeout 120 "$tmp/main" || status=1
done
exit $status
