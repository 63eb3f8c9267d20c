/* idle: does memory a program stops using go back to the OS while it
 * idles?  One thread builds M MB of small objects (64-byte list nodes)
 * and some large ones, drops them, allocates garbage until two more
 * collections have run (the program's ordinary allocation finds the data
 * dead; no explicit GC_gcollect, which some collectors treat specially),
 * then sleeps S seconds and reads its resident set from
 * /proc/self/statm.
 *
 *   RESULT workload=idle ... value=<MB resident after idling> unit=MB
 *     info_peak_mb: resident before the drop; info_after_gc_mb: right
 *     after the collections; rss_kb: the process's peak.
 */
#include "common.h"

#include <stdio.h>
#include <unistd.h>

struct node {
  struct node *next;
  uintptr_t pad[7];
};

static struct node *volatile list;
static void *volatile big[16];

static double rss_mb(void)
{
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long size = 0, resident = 0;
  if (!f)
    return -1;
  if (fscanf(f, "%lu %lu", &size, &resident) != 2)
    resident = 0;
  fclose(f);
  return (double)resident * (double)sysconf(_SC_PAGESIZE) / (1 << 20);
}

static __attribute__((noinline)) void build(long mb)
{
  size_t small = (size_t)mb * (1u << 20) / 4 * 3;
  for (size_t i = 0; i < small / sizeof(struct node); i++) {
    struct node *n = GC_MALLOC(sizeof *n);
    n->next = list;
    list = n;
  }
  /* The last quarter in 1 MB objects. */
  for (long i = 0; i < mb / 4 && i < 16; i++)
    big[i] = GC_MALLOC_ATOMIC(1u << 20);
}

static __attribute__((noinline)) void drop(void)
{
  list = NULL;
  for (int i = 0; i < 16; i++)
    big[i] = NULL;
}

int main(int argc, char **argv)
{
  long mb = 64, secs = 2;
  int c;
  while ((c = getopt(argc, argv, "m:s:")) != -1) {
    switch (c) {
    case 'm': mb = bench_parse_long(optarg, "MB"); break;
    case 's': secs = bench_parse_long(optarg, "seconds"); break;
    default:
      fprintf(stderr, "usage: %s [-m MB] [-s SECONDS]\n", argv[0]);
      return 2;
    }
  }
  GC_INIT();
  build(mb);
  double peak = rss_mb();
  drop();
  GC_word gc0 = GC_get_gc_no();
  while (GC_get_gc_no() < gc0 + 2)
    (void)GC_MALLOC(64);
  double after_gc = rss_mb();
  sleep((unsigned)secs);
  double after = rss_mb();
  char params[64], info[96];
  snprintf(params, sizeof params, "built_mb=%ld idle_s=%ld", mb, secs);
  snprintf(info, sizeof info, "info_peak_mb=%.1f info_after_gc_mb=%.1f", peak, after_gc);
  bench_result("idle", params, after, "MB", info);
  return 0;
}
