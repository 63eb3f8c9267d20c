#!/bin/sh
# layers_test.sh: do the library's arrows -- #includes and symbol references --
# run one way?
#
# The layers, lowest first (docs/architecture.md, "Layers"):
#   1 alloc/   the heap and the allocator
#   2 gc/      the collector core
#   3 api/     the Boehm GC and pargc.h API, and the wiring (api/init.c);
#     malloc/  libpargc-malloc's C allocation functions (a top layer too)
# A file may include its own layer's headers, a lower layer's, the public
# headers (include/) and system headers -- never a higher layer's.
#
# Circles: a module is a path without its extension (gc/collect.c and
# gc/collect.h are gc/collect).  Module A uses B when a file of A
# includes a file of B.  Two modules that use each other are allowed (a
# module and the one it hands its callbacks to); a circle through three
# or more is not: that is a tangle no one file explains.
#
# Calls: once the library is built, the same rule holds for symbols --
# no object file of alloc/ or gc/ refers to a function or variable (of
# pargc's or Boehm's names) that a higher layer defines (a lower layer reaches a higher one only through
# function pointers it declares itself; see docs/architecture.md).  The
# objects are read from the convenience library libpargc_core.a.
#
# The platform: only alloc/os.c includes the headers that tie pargc to
# Linux, ELF or GNU extensions (alloc/os.h is the contract a port
# replaces); the headers are listed in `platform` below.
#
# Usage: layers_test.sh [-v]  (-v prints the module graph, one
# "from -> to" line each, to draw with any graph tool).  Exit 0 when
# the rules hold, 1 otherwise.
top=${top_srcdir:-$(dirname "$0")/../..}
archive=$(cd "${top_builddir:-.}" && pwd)/.libs/libpargc_core.a
cd "$top" || exit 1

tmp=${TMPDIR:-/tmp}/pargc_layers.$$
trap 'rm -f "$tmp" "$tmp.sym"' EXIT INT TERM

# One "includer included" line per #include of a project file.  A name
# is looked for as the compiler does (-I include -I top): beside the
# including file, then in include/, then from the top.
for f in alloc/*.[ch] gc/*.[ch] api/*.[ch] malloc/*.[ch]; do
  grep -o '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<][^">]*[">]' "$f" |
    sed 's/.*["<]\(.*\)[">]/\1/' |
    while read -r inc; do
      if [ -f "$(dirname "$f")/$inc" ]; then echo "$f $(dirname "$f")/$inc"
      elif [ -f "include/$inc" ]; then echo "$f include/$inc"
      elif [ -f "$inc" ]; then echo "$f $inc"
      fi # config.h and other generated files: not ours to check
    done
done > "$tmp"

awk -v verbose="$1" '
function layer(p) {
  if (p ~ /^alloc\//) return 1
  if (p ~ /^gc\//) return 2
  if (p ~ /^api\//) return 3
  if (p ~ /^malloc\//) return 3
  return 0 # include/: below everything
}
function module(p) { sub(/\.[ch]$/, "", p); return p }
{
  if (layer($1) < layer($2)) {
    printf "layer: %s includes %s (a higher layer)\n", $1, $2
    bad++
  }
  a = module($1); b = module($2)
  if (layer($2) == 0 || a == b) next
  nodes[a] = 1; nodes[b] = 1
  if (!((a, b) in edge)) {
    edge[a, b] = 1
    if (verbose == "-v") printf "%s -> %s\n", a, b
  }
}
END {
  # A circle through three or more modules uses some edge a -> b and
  # comes back from b to a by a path other than the edge b -> a: look
  # for that path, breadth first, for every edge (a few hundred edges,
  # a few dozen modules).
  for (e in edge) {
    split(e, ab, SUBSEP); a = ab[1]; b = ab[2]
    delete seen; delete from
    head = tail = 0; queue[tail++] = b; seen[b] = 1
    found = 0
    while (head < tail && !found) {
      u = queue[head++]
      for (v in nodes) {
        if (!((u, v) in edge) || (u == b && v == a) || (v in seen)) continue
        seen[v] = 1; from[v] = u; queue[tail++] = v
        if (v == a) { found = 1; break }
      }
    }
    if (!found) continue
    path = a; for (v = a; v != b; v = from[v]) path = from[v] " -> " path
    line = "circle: " a " -> " path
    if (!(line in reported)) { reported[line] = 1; print line; bad++ }
  }
  n = 0
  for (m in nodes) n++
  printf "%d modules, %d problems\n", n, bad
  exit bad ? 1 : 0
}' "$tmp"
status=$?

platform='link\.h|elf\.h|sys/auxv\.h|sys/mman\.h|sys/syscall\.h|sys/prctl\.h|linux/[a-z_/]*\.h'
for f in alloc/*.[ch] gc/*.[ch] api/*.[ch] malloc/*.[ch]; do
  [ "$f" = alloc/os.c ] && continue
  if grep -Eq "^[[:space:]]*#[[:space:]]*include[[:space:]]*<($platform)>" "$f"; then
    echo "platform: $f includes a system-specific header; that belongs in alloc/os.c"
    status=1
  fi
done
if grep -nE '\b(pthread_[a-z_]*_np|dl_iterate_phdr|syscall)[[:space:]]*\(' \
     alloc/*.[ch] gc/*.[ch] api/*.[ch] malloc/*.[ch] | grep -v '^alloc/os\.c:' | grep -v ':[[:space:]]*/\?\*'; then
  echo "platform: the calls above belong in alloc/os.c"
  status=1
fi

# "member symbol-type name" for every symbol of every object.  A member
# libpargc_core_la-X.o is compiled from alloc/X.c, gc/X.c or api/X.c.
if [ ! -f "$archive" ] || ! command -v nm >/dev/null 2>&1; then
  echo "note: $archive or nm missing; symbol references not checked"
  exit $status
fi
nm -A "$archive" 2>/dev/null |
  sed -n 's/^[^:]*:libpargc_core_la-\([A-Za-z0-9_]*\)\.o:[0-9a-f ]* \([A-Za-z]\) \(.*\)$/\1 \2 \3/p' |
  while read -r obj type name; do
    for d in alloc gc api; do
      [ -f "$d/$obj.c" ] && echo "$d/$obj $type $name"
    done
  done > "$tmp.sym"

awk '
function layer(p) { return p ~ /^alloc\// ? 1 : p ~ /^gc\// ? 2 : 3 }
NR == FNR { if ($2 ~ /^[TDBRCGSVW]$/) def[$3] = $1; next }
# Only pargc_* and GC_* names: a libc function pargc wraps (pread, say,
# in gc/dirty.c) is still a libc function to any caller.
$2 == "U" && $3 ~ /^(pargc_|GC_)/ && ($3 in def) && layer($1) < layer(def[$3]) {
  printf "call: %s refers to %s, defined in %s (a higher layer)\n", $1, $3, def[$3]
  bad++
}
END { printf "symbol references: %d problems\n", bad; exit bad ? 1 : 0 }
' "$tmp.sym" "$tmp.sym" || status=1
exit $status
