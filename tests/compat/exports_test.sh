#!/bin/sh
# exports_test.sh: does libpargc.so export every GC_* symbol that Debian's
# libgc.so.1 (Boehm GC 8.2.2) exports, data symbols with the same size?
#
# A program linked against Boehm GC that is run with libpargc in its place
# fails to load if one name is missing, and a data symbol of another size
# is silently truncated by the copy relocation.  The reference list is
# boehm_exports.txt (how it was made is written at its top).
#
# Usage: exports_test.sh [path/to/libpargc.so]
# (default: $top_builddir/.libs/libpargc.so).  Exit 0 when nothing is
# missing or different, 1 otherwise, 77 (skip) when the library or nm is
# not there.
srcdir_compat=$(dirname "$0")
ref="$srcdir_compat/boehm_exports.txt"
lib=${1:-${top_builddir:-.}/.libs/libpargc.so}

if ! command -v nm >/dev/null 2>&1; then echo "SKIP: no nm"; exit 77; fi
if [ ! -f "$lib" ]; then echo "SKIP: $lib not built (shared libraries off?)"; exit 77; fi

tmp=${TMPDIR:-/tmp}/pargc_exports.$$
trap 'rm -f "$tmp"' EXIT INT TERM
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
[ "$missing" -eq 0 ] && [ "$wrong" -eq 0 ]
