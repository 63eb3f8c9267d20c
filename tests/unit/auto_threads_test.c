/* PARGC_GC_THREADS=auto (gc/tracer.c with gc/model.h's online form):
 * the option parses; a collection after one that found under 1 MiB live
 * marks on one thread; the first after one that found a large heap, with
 * nothing narrow seen yet, marks in parallel (all the allowed threads,
 * GC_MARKERS, once the heap is large enough);
 * no collection exceeds them. */
#include "config.h"
#include "alloc/options.h"
#include <gc.h>
#include "check.h"

#include <stdlib.h>
#include <string.h>

struct node {
  struct node *l, *r;
  long v;
};

static struct node *tree(int depth)
{
  if (!depth)
    return NULL;
  struct node *n = GC_MALLOC(sizeof *n);
  n->l = tree(depth - 1);
  n->r = tree(depth - 1);
  return n;
}

static struct node *volatile keep[16];
static char stats[] = "/tmp/pargc-auto-XXXXXX";

int main(void)
{
  int fd = mkstemp(stats);
  if (fd < 0)
    return 1;
  close(fd);
  setenv("PARGC_STATS_FILE", stats, 1);
  setenv("PARGC_GC_THREADS", "auto", 1);
  setenv("GC_MARKERS", "4", 1);
  GC_INIT();
  CHECK_EQ(pargc_opt.gc_threads, -1);
  for (int i = 0; i < 16; i++)
    keep[i] = tree(16);
  for (int i = 0; i < 4; i++)
    GC_gcollect();
  memset((void *)keep, 0, sizeof keep);
  check_wipe_stack();
  GC_gcollect();
  GC_gcollect();

  /* Each collection's threads against the live data its predecessor
   * found. */
  FILE *f = fopen(stats, "r");
  CHECK(f != NULL);
  char line[8192];
  unsigned long long prev_live = 0;
  long prev_threads = 0;
  int collections = 0, first_large = -1;
  while (f && fgets(line, sizeof line, f)) {
    unsigned long long n, live;
    long th;
    const char *l = strstr(line, "\"live_bytes\":");
    if (sscanf(line, "{\"gc_no\":%llu,\"gc_threads\":%ld", &n, &th) != 2 || !l ||
        sscanf(l, "\"live_bytes\":%llu", &live) != 1)
      continue;
    collections++;
    CHECK(th >= 1 && th <= 4);
    if (prev_live < (1u << 20))
      CHECK_EQ(th, 1);
    else if (first_large < 0 && prev_threads == 1)
      first_large = (int)th;
    prev_live = live;
    prev_threads = th;
  }
  if (f)
    fclose(f);
  CHECK(collections >= 6);
  /* Parallel; how many threads the online form picks depends on how
   * long the one-thread trace before it took: after a heap just past
   * 1 MiB, three (a few hundred microseconds of marking), after a large
   * one all four. */
  CHECK(first_large >= 2 && first_large <= 4);
  unlink(stats);
  return CHECK_SUMMARY();
}
