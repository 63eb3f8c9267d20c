/* Statistics output: with GC_PRINT_STATS, one readable line per
 * collection on stderr and the totals when the program exits; with
 * PARGC_STATS_FILE, one JSON line per collection appended to the file.
 * A child with both set (the file: its own stdout) runs the collector;
 * check_capture brings back what it printed. */
#include "config.h"
#include <gc.h>
#include "compat/compat.h"

#include <stdlib.h>
#include <string.h>

enum { LIVE_NODES = 2000, ROUNDS = 3 };

struct node {
  struct node *next;
  long pad[3]; /* 32 bytes */
};

static struct node *live;

/* The child: a list that stays live, garbage beside it, ROUNDS explicit
 * collections.  Its exit status is the number of collections it saw
 * (exit, not a return: the totals are printed at exit). */
static void child(void)
{
  setenv("GC_PRINT_STATS", "1", 1);
  setenv("PARGC_STATS_FILE", "/dev/stdout", 1);
  GC_set_dont_precollect(1); /* only the collections counted below */
  GC_INIT();
  for (int i = 0; i < LIVE_NODES; i++) {
    struct node *n = GC_MALLOC(sizeof *n);
    n->next = live;
    live = n;
  }
  for (int r = 0; r < ROUNDS; r++) {
    for (int i = 0; i < 1000; i++)
      GC_MALLOC(64);
    GC_gcollect();
  }
  exit((int)GC_get_gc_no());
}

/* Lines of `text` that start with `prefix`. */
static int count_lines(const char *text, const char *prefix)
{
  int n = 0;
  for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
    if (!strncmp(l, prefix, strlen(prefix)))
      n++;
  return n;
}

/* The number after `key` in the line, or -1. */
static long long field(const char *line, const char *key)
{
  const char *p = strstr(line, key);
  return p ? atoll(p + strlen(key)) : -1;
}

static void check_text(const char *out, int collections)
{
  CHECK_EQ(count_lines(out, "pargc: gc gc_no="), collections);
  char want[64];
  for (int i = 1; i <= collections; i++) {
    snprintf(want, sizeof want, "pargc: gc gc_no=%d ", i);
    const char *line = strstr(out, want);
    CHECK(line != NULL);
    if (!line)
      continue;
    /* The list, at least, was marked; mark time and heap are there. */
    CHECK(field(line, " live_bytes=") >= (long long)LIVE_NODES * (long long)sizeof(struct node));
    CHECK(field(line, " mark_us=") >= 0);
    CHECK(field(line, " heap_bytes=") > 0);
    /* The roots include this thread's stack, at least the frames
     * above main's. */
    CHECK(field(line, " root_bytes=") > 0);
  }
  /* The totals, once, after the last collection's line. */
  snprintf(want, sizeof want, "pargc: %d collections (0 concurrent cycles), pause total ",
           collections);
  const char *totals = strstr(out, want);
  CHECK(totals != NULL);
  snprintf(want, sizeof want, "pargc: gc gc_no=%d ", collections);
  CHECK(totals && strstr(out, want) < totals);
  CHECK_EQ(count_lines(out, "pargc: pages fresh "), 1);
}

/* The JSON lines: those of `out` that start with '{'. */
static void check_json(const char *out, int collections)
{
  CHECK_EQ(count_lines(out, "{\"gc_no\":"), collections);
  int lines = 0;
  for (const char *l = out; l && *l;) {
    const char *end = strchr(l, '\n');
    CHECK(end != NULL);
    if (!end)
      break;
    if (*l == '{') {
      lines++;
      CHECK(end - l > 3 && !strncmp(end - 2, "]}", 2)); /* marked_per_thread closes it */
      CHECK(strstr(l, "\"live_bytes\":") && strstr(l, "\"live_bytes\":") < end);
      CHECK(strstr(l, "\"marked_per_thread\":[") && strstr(l, "\"marked_per_thread\":[") < end);
    }
    l = end + 1;
  }
  CHECK_EQ(lines, collections);
}

int main(void)
{
  static char out[1 << 16];
  int collections = check_capture(child, out, sizeof out);
  CHECK(collections >= ROUNDS && collections < 100);
  check_text(out, collections);
  check_json(out, collections);
  return CHECK_SUMMARY();
}
