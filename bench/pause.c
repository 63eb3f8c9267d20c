/* pause: pause-time distribution of a steady-state mutator on a large heap.
 *
 *   pause -m LIVE_MB [-a ALLOC_MB] [-t MUTATORS]
 *
 * Keeps LIVE_MB of binary trees alive (64 KiB trees of 32-byte nodes in a
 * table of slots) and, on each of MUTATORS threads, keeps replacing a
 * random tree of its share of the table with a freshly built one until
 * ALLOC_MB (default 4 x LIVE_MB) have been allocated in all.  The live
 * heap stays constant while the collector runs again and again: the
 * steady state in which pause times matter.
 *
 * Every stop of the world is timed from GC_EVENT_PRE_STOP_WORLD to
 * GC_EVENT_POST_START_WORLD (GC_set_on_collection_event), which covers
 * the whole pause in both Boehm GC's plain and incremental modes and in
 * pargc's stop-parallel and concurrent modes: the mode is chosen from the
 * environment (GC_ENABLE_INCREMENTAL=1, PARGC_MODE=concurrent), and the
 * runner names each variant with BENCH_LABEL.
 *
 * Prints RESULTs `pause` with stat=p50, p95, p99 and max (ms), `pauses`
 * (how many) and `steady` (mutator throughput: MB allocated per second of
 * wall time, collections included).  Without the event hook only `steady`
 * is printed.
 */
#include "common.h"

#include <unistd.h>

typedef struct node {
  struct node *left, *right;
  long i, j;
} node;

#define TREE_DEPTH 10 /* 2047 nodes x 32 B = 64 KiB per tree */
#define TREE_BYTES (((1L << (TREE_DEPTH + 1)) - 1) * (long)sizeof(node))

static node **slots; /* the live table, a GC object rooted here */
static long n_slots, per_thread;
static double alloc_bytes_per_thread;

static node *build(int depth)
{
  node *n = GC_MALLOC(sizeof *n);
  if (!n) {
    fprintf(stderr, "pause: out of memory\n");
    exit(1);
  }
  n->i = depth;
  if (depth > 0) {
    /* Pointer stores go through Boehm's manual dirty-bit call, so the
     * same program runs with PARGC_BARRIER=manual (a plain store plus a
     * cheap check for every other variant). */
    GC_PTR_STORE_AND_DIRTY(&n->left, build(depth - 1));
    GC_PTR_STORE_AND_DIRTY(&n->right, build(depth - 1));
  }
  return n;
}

static void mutator(int id, void *arg)
{
  uint64_t rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(id + 1);
  long first = id * per_thread;
  (void)arg;
  for (double done = 0; done < alloc_bytes_per_thread; done += TREE_BYTES) {
    long s = first + (long)(bench_rand(&rng) % (uint64_t)per_thread);
    GC_PTR_STORE_AND_DIRTY(&slots[s], build(TREE_DEPTH));
  }
}

int main(int argc, char **argv)
{
  long live_mb = 256, alloc_mb = -1;
  int threads = 1, c;
  while ((c = getopt(argc, argv, "m:a:t:")) != -1) {
    switch (c) {
    case 'm': live_mb = bench_parse_long(optarg, "live MB"); break;
    case 'a': alloc_mb = bench_parse_long(optarg, "alloc MB"); break;
    case 't': threads = (int)bench_parse_long(optarg, "threads"); break;
    default:
      fprintf(stderr, "usage: %s -m LIVE_MB [-a ALLOC_MB] [-t MUTATORS]\n", argv[0]);
      return 2;
    }
  }
  if (alloc_mb < 0)
    alloc_mb = 4 * live_mb;
  n_slots = live_mb * (1L << 20) / TREE_BYTES;
  if (live_mb < 1 || threads < 1 || n_slots < threads) {
    fprintf(stderr, "pause: LIVE_MB >= 1 and at least one 64 KiB tree per thread\n");
    return 2;
  }
  per_thread = n_slots / threads;
  alloc_bytes_per_thread = (double)alloc_mb * 1048576.0 / threads;

  GC_INIT();
  bench_wake_gc_threads();
  slots = GC_MALLOC(sizeof(node *) * (size_t)n_slots);
  for (long i = 0; i < n_slots; i++)
    slots[i] = build(TREE_DEPTH);
  /* Only the steady state counts: install the hook after the build. */
  GC_gcollect();
  int have_events = bench_events_install(1 << 20);
  GC_word gc0 = GC_get_gc_no();
  double t = bench_run_threads(threads, mutator, NULL);
  unsigned long gcs = (unsigned long)(GC_get_gc_no() - gc0);

  char params[80], info[96];
  snprintf(params, sizeof params, "live_mb=%ld threads=%d", live_mb, threads);
  snprintf(info, sizeof info, "info_gcs=%lu info_pauses=%zu", gcs, bench_ev.npause);
  if (have_events) {
    static const struct {
      const char *name;
      double q;
    } stats[] = {{"p50", 0.5}, {"p95", 0.95}, {"p99", 0.99}, {"max", 1.0}};
    char p2[112];
    for (size_t i = 0; i < sizeof stats / sizeof stats[0]; i++) {
      snprintf(p2, sizeof p2, "%s stat=%s", params, stats[i].name);
      bench_result("pause", p2, bench_pause_quantile(stats[i].q), "ms", info);
    }
    bench_result("pauses", params, (double)bench_ev.npause, "count", info);
    /* Optional raw dump, one pause per line, for the distribution plot. */
    const char *dump = getenv("BENCH_PAUSE_DUMP");
    FILE *f = dump && *dump ? fopen(dump, "a") : NULL;
    if (f) {
      for (size_t i = 0; i < bench_ev.npause; i++)
        fprintf(f, "%s %.4f\n", bench_label(), bench_ev.pause_ms[i]);
      fclose(f);
    }
  } else {
    printf("pause: %s has no GC_set_on_collection_event; pauses not measured\n", BENCH_IMPL_NAME);
  }
  bench_result("steady", params, (double)alloc_mb / t, "MB/s", info);
  bench_escape(slots);
  return 0;
}
