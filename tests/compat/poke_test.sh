#!/bin/sh
# A real client, unchanged: Debian's GNU poke (libpoke is linked with
# libgc.so.1) runs tests/compat/poke/client.pk -- arrays, strings and
# structs on poke's collected heap, a table of them kept live while many
# more are dropped -- on Debian's libgc (the reference), then through
# pargc-run in the default mode, in concurrent mode with a cycle for
# every collection, and in concurrent mode as it comes (its small heap
# collected stopped, PARGC_CONC_MIN_LIVE); every output must equal the
# reference.  Poke's roots (1.8 MB of data segments) outweigh its live
# data, the case the sizing policy's root allowance is for.  Skipped
# (exit 77) where poke is not installed or not linked with libgc.so.1.
set -u
top=${top_builddir:-.}
src=${top_srcdir:-.}
. "$src/tests/compat/client.sh"
poke=$(command -v poke || true)
if [ -n "$poke" ] && ! ldd "$poke" | grep -q 'libgc\.so\.1'; then
  # poke links libgc through libpoke.
  lib=$(ldd "$poke" | awk '/libpoke/ { print $3 }')
  [ -n "$lib" ] && ldd "$lib" | grep -q 'libgc\.so\.1' && poke_lib=$lib
fi
client_require "${poke_lib:-$poke}" poke
client_tmpdir poke
prog=$src/tests/compat/poke/client.pk

if ! timeout 300 "$poke" --no-init-file -L "$prog" >"$tmp/ref" 2>"$tmp/err"; then
  echo "FAIL: poke does not run on the system's libgc:"
  tail -5 "$tmp/err"
  exit 1
fi
for run in "stop 0" "concurrent 0" "concurrent 2M"; do
  set -- $run
  client_pargc "$1" "$2" "$poke" --no-init-file -L "$prog"
  client_result $? "$1 mode, PARGC_CONC_MIN_LIVE=$2" "$(cat "$tmp/out")"
done
client_summary
