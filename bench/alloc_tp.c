/* alloc_tp: allocation throughput against threads.
 *
 *   alloc_tp -s SIZE -t THREADS -n ALLOCS_PER_THREAD [-r RING]
 *
 * Every thread allocates ALLOCS_PER_THREAD objects of SIZE bytes as fast as
 * it can, writing one word into each (so the memory is really handed out),
 * and keeps only the last RING of them alive in a ring on its stack.  A
 * collector therefore sees a small, constant live set and a steady stream
 * of garbage, which is the allocation fast path plus lazy sweeping and
 * collections: the regime of the LPS reference result (16-byte objects,
 * 25 M allocations/s on 64 processors).  The malloc builds free the object
 * a ring slot held before reusing the slot, so they keep the same live set.
 *
 * Prints one RESULT: value = million allocations per second over all
 * threads (wall time from the common start to the last thread's end).
 */
#include "common.h"

#include <unistd.h>

struct args {
  size_t size;
  long n;
  int ring;
};

static void worker(int id, void *p)
{
  const struct args *a = p;
  /* Up to 4096 slots: 32 KiB on the stack, scanned as a root by the
   * collectors, which is what keeps the ring alive. */
  void *ring[4096];
  int r = a->ring;
  memset(ring, 0, sizeof ring);
  (void)id;
  for (long i = 0; i < a->n; i++) {
    int slot = (int)(i % r);
#if !BENCH_IS_GC
    if (ring[slot])
      bench_free(ring[slot]);
#endif
    long *o = bench_alloc(a->size);
    if (!o) {
      fprintf(stderr, "alloc_tp: out of memory\n");
      exit(1);
    }
    o[0] = i;
    ring[slot] = o;
  }
  bench_escape(ring);
#if !BENCH_IS_GC
  for (int i = 0; i < r; i++)
    bench_free(ring[i]);
#endif
}

int main(int argc, char **argv)
{
  struct args a = {.size = 16, .n = 1 << 20, .ring = 1024};
  int threads = 1, c;
  while ((c = getopt(argc, argv, "s:t:n:r:")) != -1) {
    switch (c) {
    case 's': a.size = (size_t)bench_parse_long(optarg, "size"); break;
    case 't': threads = (int)bench_parse_long(optarg, "threads"); break;
    case 'n': a.n = bench_parse_long(optarg, "count"); break;
    case 'r': a.ring = (int)bench_parse_long(optarg, "ring"); break;
    default:
      fprintf(stderr, "usage: %s -s SIZE -t THREADS -n ALLOCS_PER_THREAD [-r RING]\n", argv[0]);
      return 2;
    }
  }
  if (a.size < sizeof(long) || threads < 1 || a.ring < 1 || a.ring > 4096) {
    fprintf(stderr, "alloc_tp: size >= %zu, threads >= 1, 1 <= ring <= 4096\n", sizeof(long));
    return 2;
  }
  bench_init();
#if BENCH_IS_GC
  GC_word gc0 = GC_get_gc_no();
#endif
  double t = bench_run_threads(threads, worker, &a);
  char params[64], info[64] = "";
  snprintf(params, sizeof params, "size=%zu threads=%d", a.size, threads);
#if BENCH_IS_GC
  snprintf(info, sizeof info, "info_gcs=%lu", (unsigned long)(GC_get_gc_no() - gc0));
#endif
  bench_result("alloc", params, (double)a.n * threads / t / 1e6, "Mallocs/s", info);
  return 0;
}
