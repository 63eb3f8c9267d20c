/* fullgc: full-collection speed on a large live heap, against GC threads.
 *
 *   fullgc -m LIVE_MB -g GC_THREADS [-c COLLECTIONS] [-a ARRAY_PERCENT]
 *
 * Builds LIVE_MB of live data, three quarters binary trees of 32-byte nodes
 * (pointer chasing: the marker's latency-bound case) and one quarter 8 MiB
 * pointer arrays whose slots point at the tree nodes (large objects that a
 * parallel marker must split to share), then times COLLECTIONS calls of
 * GC_gcollect after one warm-up collection.  -a sets the arrays' share in
 * percent (default 25; 0: trees only).
 *
 * The number of GC threads is read by the collector from the environment,
 * PARGC_GC_THREADS for pargc and GC_MARKERS for Boehm GC; when neither is
 * set, -g sets both before GC_INIT, so the command line alone is enough.
 * Boehm GC starts its marker threads only once the program has created a
 * thread, so the program creates (and joins) one thread before measuring,
 * for both collectors.
 *
 * Prints two RESULTs: `fullgc` (median wall time of one GC_gcollect, ms)
 * and `trace` (live bytes / mark time, MB/s: the live data traced per
 * second).  The mark time comes from GC_EVENT_MARK_START..MARK_END when
 * the collector has GC_set_on_collection_event, else it is the whole
 * collection (info_mark=wall says so).
 */
#include "common.h"

#include <unistd.h>

typedef struct node {
  struct node *left, *right;
  long i, j; /* GCBench's node: 32 bytes on LP64 */
} node;

#define ARRAY_BYTES (8L << 20)
#define ARRAY_SLOTS (ARRAY_BYTES / (long)sizeof(void *))

/* Roots: the tree and array tables are GC objects held from static data. */
static node **trees;
static void ***arrays;
static long n_arrays, fill_cursor;

static node *build(int depth)
{
  node *n = GC_MALLOC(sizeof *n);
  if (!n) {
    fprintf(stderr, "fullgc: out of memory\n");
    exit(1);
  }
  /* Every node also goes into the next array slot (wrapping), so the
   * arrays hold real pointers into the trees. */
  if (n_arrays) {
    long s = fill_cursor++ % (n_arrays * ARRAY_SLOTS);
    arrays[s / ARRAY_SLOTS][s % ARRAY_SLOTS] = n;
  }
  if (depth > 0) {
    n->left = build(depth - 1);
    n->right = build(depth - 1);
  }
  return n;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
  long live_mb = 512;
  int gc_threads = 1, collections = 3, c;
  long array_pct = 25;
  while ((c = getopt(argc, argv, "m:g:c:a:")) != -1) {
    switch (c) {
    case 'm': live_mb = bench_parse_long(optarg, "live MB"); break;
    case 'g': gc_threads = (int)bench_parse_long(optarg, "GC threads"); break;
    case 'c': collections = (int)bench_parse_long(optarg, "collections"); break;
    case 'a': array_pct = bench_parse_long(optarg, "array percent"); break;
    default:
      fprintf(stderr, "usage: %s -m LIVE_MB -g GC_THREADS [-c COLLECTIONS] [-a ARRAY_PERCENT]\n",
              argv[0]);
      return 2;
    }
  }
  if (live_mb < 4 || gc_threads < 1 || collections < 1 || array_pct < 0 || array_pct > 90) {
    fprintf(stderr, "fullgc: LIVE_MB >= 4, GC_THREADS >= 1, COLLECTIONS >= 1, "
                    "0 <= ARRAY_PERCENT <= 90\n");
    return 2;
  }
  if (!getenv("PARGC_GC_THREADS") && !getenv("GC_MARKERS")) {
    char g[16];
    snprintf(g, sizeof g, "%d", gc_threads);
    setenv("PARGC_GC_THREADS", g, 1);
    setenv("GC_MARKERS", g, 1);
  }
  GC_INIT();
  int have_events = bench_events_install(4096);

  /* A quarter of the live data in arrays (at least one unless -a 0), the
   * rest trees of depth 15: 65535 nodes, 2 MiB each. */
  const int depth = 15;
  const long tree_bytes = ((1L << (depth + 1)) - 1) * (long)sizeof(node);
  n_arrays = live_mb * array_pct / 100 * (1L << 20) / ARRAY_BYTES;
  if (n_arrays < 1 && array_pct > 0)
    n_arrays = 1;
  long n_trees = (live_mb * (1L << 20) - n_arrays * ARRAY_BYTES) / tree_bytes;
  if (n_trees < 1)
    n_trees = 1;

  /* No collection while building: there is no garbage yet, and collecting
   * a growing heap would only make setup slow. */
  GC_disable();
  arrays = GC_MALLOC(sizeof(void **) * (size_t)n_arrays);
  for (long i = 0; i < n_arrays; i++)
    arrays[i] = GC_MALLOC_IGNORE_OFF_PAGE(ARRAY_BYTES);
  trees = GC_MALLOC(sizeof(node *) * (size_t)n_trees);
  for (long i = 0; i < n_trees; i++)
    trees[i] = build(depth);
  GC_enable();
  double live_bytes = (double)n_arrays * ARRAY_BYTES + (double)n_trees * (double)tree_bytes;

  bench_wake_gc_threads();
  GC_gcollect(); /* warm-up: faults in mark bits, settles the heap */

  double *ms = calloc((size_t)collections, sizeof *ms);
  double mark_s0 = bench_ev.mark_s, wall_s = 0;
  long marks0 = bench_ev.marks;
  for (int i = 0; i < collections; i++) {
    double t0 = bench_now();
    GC_gcollect();
    ms[i] = (bench_now() - t0) * 1e3;
    wall_s += ms[i] / 1e3;
  }
  qsort(ms, (size_t)collections, sizeof *ms, cmp_double);
  int events_ok = have_events && bench_ev.marks - marks0 == collections;
  double mark_s = events_ok ? bench_ev.mark_s - mark_s0 : wall_s;

  char params[64], info[160];
  snprintf(params, sizeof params, "live_mb=%ld gc_threads=%d", live_mb, gc_threads);
  snprintf(info, sizeof info, "info_heap_mb=%.0f info_mark=%s info_min_ms=%.1f info_max_ms=%.1f",
           GC_get_heap_size() / 1048576.0, events_ok ? "events" : "wall", ms[0],
           ms[collections - 1]);
  bench_result("fullgc", params, ms[collections / 2], "ms", info);
  snprintf(info, sizeof info, "info_mark=%s info_mark_ms=%.1f", events_ok ? "events" : "wall",
           mark_s / collections * 1e3);
  bench_result("trace", params, live_bytes / 1048576.0 / (mark_s / collections), "MB/s", info);
  bench_escape(trees);
  return 0;
}
