#!/bin/sh
# exports_test.sh: does libpargc.so export every GC_* symbol that Debian's
# libgc.so.1 (Boehm GC 8.2.2) exports, data symbols with the same size?
#
# A program linked against Boehm GC that is run with libpargc in its place
# fails to load if one name is missing, and a data symbol of another size
# is silently truncated by the copy relocation.  The reference list is
# boehm_exports.txt (how it was made is written at its top).
#
# The C++ library is checked the same way: libpargccpp.so against
# boehm_cpp_exports.txt (Debian's libgccpp.so.1).
#
# Usage: exports_test.sh [path/to/libpargc.so [path/to/libpargccpp.so]]
# (default: $top_builddir/.libs/).  Exit 0 when nothing is missing or
# different, 1 otherwise, 77 (skip) when libpargc.so or nm is not there.
srcdir_compat=$(dirname "$0")
ref="$srcdir_compat/boehm_exports.txt"
lib=${1:-${top_builddir:-.}/.libs/libpargc.so}
cpplib=${2:-${top_builddir:-.}/.libs/libpargccpp.so}

if ! command -v nm >/dev/null 2>&1; then echo "SKIP: no nm"; exit 77; fi
if [ ! -f "$lib" ]; then echo "SKIP: $lib not built (shared libraries off?)"; exit 77; fi

tmp=${TMPDIR:-/tmp}/pargc_exports.$$
trap 'rm -f "$tmp"' EXIT INT TERM

# C++ library first (short): every libgccpp symbol must be there.
cpp_missing=0
if [ -f "$cpplib" ]; then
  nm -D --defined-only "$cpplib" | awk '{ print $3 }' > "$tmp"
  while read -r name type; do
    case $name in ''|'#'*) continue ;; esac
    grep -qx "$name" "$tmp" || { echo "missing from $cpplib: $name"; cpp_missing=$((cpp_missing + 1)); }
  done < "$srcdir_compat/boehm_cpp_exports.txt"
  echo "$cpp_missing libgccpp symbols missing from $cpplib"
else
  echo "note: $cpplib not built; C++ exports not checked"
fi

# name, type, decimal size of every defined dynamic symbol of libpargc.
nm -D --defined-only -S "$lib" | while read -r a b c d; do
  if [ -n "$d" ]; then echo "$d $c $((0x$b))"; else echo "$c $b -"; fi
done > "$tmp"

missing=0 wrong=0 total=0
while read -r name type size; do
  case $name in ''|'#'*) continue ;; esac
  total=$((total + 1))
  line=$(grep "^$name " "$tmp")
  if [ -z "$line" ]; then
    echo "missing: $name ($type)"
    missing=$((missing + 1))
    continue
  fi
  set -- $line
  ptype=$2 psize=$3
  if [ "$type" = T ]; then
    case $ptype in T|t|W|i) ;; *) echo "not a function: $name (pargc: $ptype)"; wrong=$((wrong + 1)) ;; esac
  else
    case $ptype in
      D|B|R|V|d|b|r|v|u) ;;
      *) echo "not data: $name (Boehm: $type $size bytes, pargc: $ptype)"; wrong=$((wrong + 1)); continue ;;
    esac
    if [ "$psize" != "$size" ]; then
      echo "size differs: $name (Boehm: $size bytes, pargc: $psize)"
      wrong=$((wrong + 1))
    fi
  fi
done < "$ref"

echo "$missing of $total Boehm GC symbols missing from $lib, $wrong of different kind or size"
[ "$missing" -eq 0 ] && [ "$wrong" -eq 0 ] && [ "$cpp_missing" -eq 0 ]
