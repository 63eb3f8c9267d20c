#!/bin/sh
# env_doc_test.sh: does docs/environment.md list every environment
# variable Boehm GC reads (boehm_environment.txt)?  A program tuned for
# Boehm GC through its environment must be able to look up what pargc
# does with each setting, even if the answer is "ignored".
srcdir_compat=$(dirname "$0")
top_srcdir=${top_srcdir:-$srcdir_compat/../..}
doc="$top_srcdir/docs/environment.md"
[ -f "$doc" ] || { echo "SKIP: $doc not found"; exit 77; }
missing=0 total=0
while read -r name; do
  case $name in ''|'#'*) continue ;; esac
  total=$((total + 1))
  grep -q "\`$name\`" "$doc" || { echo "not documented: $name"; missing=$((missing + 1)); }
done < "$srcdir_compat/boehm_environment.txt"
echo "$missing of $total Boehm GC environment variables missing from docs/environment.md"
[ "$missing" -eq 0 ]
