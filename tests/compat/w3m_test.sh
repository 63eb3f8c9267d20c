#!/bin/sh
# A real client, unchanged: Debian's w3m (linked with libgc.so.1) renders
# a generated page -- about 4 MB of nested tables, lists and long
# paragraphs, so that it collects many times -- on Debian's libgc (the
# reference) and then through pargc-run, in the default mode and in
# concurrent mode; every rendering must equal the reference.  Skipped
# (exit 77) where w3m is not installed or not linked with libgc.so.1.
set -u
top=${top_builddir:-.}
. "${top_srcdir:-.}/tests/compat/client.sh"
w3m=$(command -v w3m || true)
client_require "$w3m" w3m
client_tmpdir w3m

awk 'BEGIN {
  print "<html><head><title>pargc w3m test</title></head><body>"
  for (s = 0; s < 60; s++) {
    printf "<h2>Section %d</h2>\n<table border=1>\n", s
    for (r = 0; r < 40; r++) {
      printf "<tr>"
      for (c = 0; c < 6; c++)
        printf "<td>cell %d.%d.%d <b>%x</b> <a href=\"#s%d\">link</a></td>", s, r, c, s * r * 31 + c, c
      print "</tr>"
    }
    print "</table>\n<ul>"
    for (i = 0; i < 30; i++)
      printf "<li>item %d of section %d <i>%s</i></li>\n", i, s, substr("abcdefghijklmnopqrstuvwxyz", 1 + i % 26)
    printf "</ul>\n<p>"
    for (w = 0; w < 400; w++)
      printf "word%d ", (w * 7919 + s) % 1000
    print "</p>"
  }
  print "</body></html>"
}' >"$tmp/page.html"

if ! timeout 300 "$w3m" -dump -cols 100 -T text/html "$tmp/page.html" >"$tmp/ref" 2>"$tmp/err"; then
  echo "FAIL: w3m does not run on the system's libgc:"
  tail -5 "$tmp/err"
  exit 1
fi
for mode in stop concurrent; do
  PARGC_RUN_LIBDIR=$top/libgc-compat PARGC_MODE=$mode PARGC_CONC_MIN_LIVE=0 \
    PARGC_STATS_FILE=$tmp/stats \
    timeout 300 "$top/pargc-run" "$w3m" -dump -cols 100 -T text/html "$tmp/page.html" \
    >"$tmp/out" 2>"$tmp/err"
  client_result $? "$mode mode" "$(wc -l <"$tmp/out") lines as on libgc"
done
client_summary
