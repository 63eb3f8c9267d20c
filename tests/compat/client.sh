# client.sh: sourced by the tests that run a real Boehm GC client,
# unchanged, through pargc-run (guile_test.sh, w3m_test.sh, ecl_test.sh).
#
#   client_require PATH NAME  skip (exit 77) unless the program at PATH
#                             (NAME when PATH is empty) is installed and
#                             linked with libgc.so.1; fail unless pargc-run
#                             and libgc-compat/ are built in $top
#   client_tmpdir NAME        make $tmp, removed when the test exits
#   client_pargc MODE MIN_LIVE COMMAND...
#                             run COMMAND through pargc-run in MODE
#                             (stop|concurrent) with PARGC_CONC_MIN_LIVE,
#                             statistics in $tmp/stats, output in
#                             $tmp/out and $tmp/err; its exit status
#   client_result STATUS LABEL DETAIL
#                             after a run through pargc-run that wrote
#                             $tmp/out, $tmp/err and $tmp/stats and ended
#                             with STATUS: it passed if STATUS is 0, the
#                             output equals $tmp/ref and it collected;
#                             prints a line, counts in $passed / $failed
#   client_summary            the counts; the test's exit status

client_require() {
  if [ -z "$1" ]; then
    echo "SKIP: $2 is not installed"
    exit 77
  fi
  if ! ldd "$1" 2>/dev/null | grep -q 'libgc\.so\.1'; then
    echo "SKIP: $1 is not linked with libgc.so.1"
    exit 77
  fi
  if [ ! -e "$top/libgc-compat/libgc.so.1" ] || [ ! -x "$top/pargc-run" ]; then
    echo "FAIL: $top/pargc-run or $top/libgc-compat/ not built"
    exit 1
  fi
}

client_tmpdir() {
  tmp=${TMPDIR:-/tmp}/pargc_$1.$$
  mkdir -p "$tmp"
  trap 'rm -rf "$tmp"' EXIT INT TERM
}

passed=0 failed=0

client_pargc() {
  mode=$1 min=$2
  shift 2
  PARGC_RUN_LIBDIR=$top/libgc-compat PARGC_MODE=$mode PARGC_CONC_MIN_LIVE=$min \
    PARGC_STATS_FILE=$tmp/stats \
    timeout 300 "$top/pargc-run" "$@" >"$tmp/out" 2>"$tmp/err"
}

client_result() {
  if [ "$1" -eq 0 ] && cmp -s "$tmp/ref" "$tmp/out" && [ -s "$tmp/stats" ]; then
    passed=$((passed + 1))
    echo "ok: $2: $3, $(wc -l <"$tmp/stats") collections"
  else
    echo "FAIL: $2:"
    diff "$tmp/ref" "$tmp/out" | head -5
    tail -5 "$tmp/err"
    failed=$((failed + 1))
  fi
  rm -f "$tmp/stats"
}

client_summary() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
