/* malloc_wl: the malloc-style workloads, with explicit free.
 *
 *   malloc_wl -w hot   -n ROUNDS        hot 32-byte batches
 *   malloc_wl -w mixed -n OPS           random mixed 8..128 B over 8192 slots
 *   malloc_wl -w mid   -n OPS [-t T]    T threads (default 2) toggling
 *                                       8..34 KiB objects, 2048 slots each
 *   malloc_wl -w mid-memset -n OPS [-t T]
 *                                       the same sequence as `mid`, but only
 *                                       memset of the same bytes into one
 *                                       buffer per thread
 *
 * These are the allocator issue's workloads: they measure the allocator's
 * fast and slow paths with GC_MALLOC/GC_FREE (or calloc/free) and no
 * collection work to speak of, since everything is freed explicitly.
 *   hot:   100 allocations of 32 B, then the 100 frees in reverse order;
 *          one thread's free list recycled at full speed.
 *   mixed: one thread; each step picks a random slot, frees what it holds
 *          and puts a new object of random size 8..128 B there, so size
 *          classes interleave and free lists are out of address order.
 *   mid:   each thread picks a random slot of its private working set:
 *          a full slot is freed, an empty one gets a new object of random
 *          size 8..34 KiB.  This is bound by zeroing the memory, hence
 *          mid-memset, which does the same bytes' memset and nothing else
 *          (each slot zeroed in its own place in a working set as large as
 *          the allocator's, so the cache footprint matches):
 *          the ratio mid / mid-memset says how close the allocator is to
 *          that bound.
 * Each prints one RESULT: value = million operations per second (for hot
 * and mixed an operation is one allocation and its free; for mid and
 * mid-memset one step, an allocation or a free); mid-memset also prints
 * `memset` rows with the zeroing speed in GB/s.
 *
 * The slot arrays are static so that the collectors see them as roots: an
 * object that a collection freed behind our back would make the explicit
 * free a double free.
 */
#include "common.h"

#include <unistd.h>

#define HOT_BATCH 100
#define MIXED_SLOTS 8192
#define MID_SLOTS 2048
#define MID_MAX_THREADS 64
#define MID_MIN_SIZE (8 * 1024)
#define MID_MAX_SIZE (34 * 1024)

static void *hot_slots[HOT_BATCH];
static void *mixed_slots[MIXED_SLOTS];
static void *mid_slots[MID_MAX_THREADS][MID_SLOTS];

static long ops;            /* -n */
static double memset_bytes; /* total bytes set by mid-memset, all threads */

static void *must_alloc(size_t n)
{
  char *p = bench_alloc(n);
  if (!p) {
    fprintf(stderr, "malloc_wl: out of memory\n");
    exit(1);
  }
  p[0] = 1; /* touch it, as a program would */
  return p;
}

static void hot(int id, void *arg)
{
  (void)id, (void)arg;
  for (long r = 0; r < ops; r++) {
    for (int i = 0; i < HOT_BATCH; i++)
      hot_slots[i] = must_alloc(32);
    for (int i = HOT_BATCH - 1; i >= 0; i--) {
      bench_free(hot_slots[i]);
      hot_slots[i] = NULL;
    }
  }
}

static void mixed(int id, void *arg)
{
  uint64_t rng = 0x9E3779B97F4A7C15ULL;
  (void)id, (void)arg;
  for (long i = 0; i < ops; i++) {
    uint64_t x = bench_rand(&rng);
    size_t slot = x % MIXED_SLOTS;
    size_t size = 8 + (x >> 32) % 121;
    if (mixed_slots[slot])
      bench_free(mixed_slots[slot]);
    mixed_slots[slot] = must_alloc(size);
  }
  for (int i = 0; i < MIXED_SLOTS; i++) {
    bench_free(mixed_slots[i]);
    mixed_slots[i] = NULL;
  }
}

/* One step of the mid-size sequence: the same slot and size choices for
 * `mid` and `mid-memset`, so both touch the same bytes. */
static inline size_t mid_step(uint64_t *rng, size_t *slot)
{
  uint64_t x = bench_rand(rng);
  *slot = x % MID_SLOTS;
  return MID_MIN_SIZE + (x >> 32) % (MID_MAX_SIZE - MID_MIN_SIZE + 1);
}

static void mid(int id, void *arg)
{
  uint64_t rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(id + 1);
  void **slots = mid_slots[id];
  (void)arg;
  for (long i = 0; i < ops; i++) {
    size_t slot, size = mid_step(&rng, &slot);
    if (slots[slot]) {
      bench_free(slots[slot]);
      slots[slot] = NULL;
    } else {
      slots[slot] = must_alloc(size);
    }
  }
  for (int i = 0; i < MID_SLOTS; i++) {
    bench_free(slots[i]);
    slots[i] = NULL;
  }
}

/* mid-memset's regions, made and touched by their threads before the
 * timed run (bench_run_threads times from the common start). */
static char *mid_regions[MID_MAX_THREADS];

static void mid_memset_setup(int id, void *arg)
{
  (void)arg;
  mid_regions[id] = malloc((size_t)MID_SLOTS * MID_MAX_SIZE);
  if (!mid_regions[id]) {
    fprintf(stderr, "malloc_wl: out of memory\n");
    exit(1);
  }
  memset(mid_regions[id], 1, (size_t)MID_SLOTS * MID_MAX_SIZE);
}

static void mid_memset(int id, void *arg)
{
  uint64_t rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(id + 1);
  /* hot: every memset into the same 34 KiB, which stays in cache (the
   * bound for an allocator that recycles memory while it is hot). */
  int hot = arg != NULL;
  /* Occupancy only, so that memsets happen exactly where `mid` allocates,
   * each slot into its own 34 KiB of a region as large as the working set
   * (touched first), so caches see the same footprint as the allocator's
   * and page faults are left out, as for a warmed-up allocator. */
  static __thread unsigned char full[MID_SLOTS];
  memset(full, 0, sizeof full);
  char *region = mid_regions[id];
  double bytes = 0;
  (void)arg;
  for (long i = 0; i < ops; i++) {
    size_t slot, size = mid_step(&rng, &slot);
    if (full[slot]) {
      full[slot] = 0;
    } else {
      char *p = hot ? region : region + slot * MID_MAX_SIZE;
      memset(p, 0, size);
      bench_escape(p);
      bytes += (double)size;
      full[slot] = 1;
    }
  }
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&lock);
  memset_bytes += bytes;
  pthread_mutex_unlock(&lock);
}

int main(int argc, char **argv)
{
  const char *w = "hot";
  int threads = 2, c;
  ops = 100000;
  while ((c = getopt(argc, argv, "w:n:t:")) != -1) {
    switch (c) {
    case 'w': w = optarg; break;
    case 'n': ops = bench_parse_long(optarg, "count"); break;
    case 't': threads = (int)bench_parse_long(optarg, "threads"); break;
    default:
      fprintf(stderr, "usage: %s -w hot|mixed|mid|mid-memset -n COUNT [-t THREADS]\n", argv[0]);
      return 2;
    }
  }
  bench_init();
  char params[64];
  if (strcmp(w, "hot") == 0) {
    double t = bench_run_threads(1, hot, NULL);
    bench_result("hot32", "threads=1", (double)ops * HOT_BATCH / t / 1e6, "Mops/s", "");
  } else if (strcmp(w, "mixed") == 0) {
    double t = bench_run_threads(1, mixed, NULL);
    bench_result("mixed", "threads=1", (double)ops / t / 1e6, "Mops/s", "");
  } else if (strcmp(w, "mid") == 0 || strcmp(w, "mid-memset") == 0) {
    if (threads < 1 || threads > MID_MAX_THREADS) {
      fprintf(stderr, "malloc_wl: 1 <= threads <= %d\n", MID_MAX_THREADS);
      return 2;
    }
    int only_memset = w[3] != 0;
    if (only_memset)
      bench_run_threads(threads, mid_memset_setup, NULL);
    double t = bench_run_threads(threads, only_memset ? mid_memset : mid, NULL);
    snprintf(params, sizeof params, "threads=%d", threads);
    if (only_memset) {
      /* Two bounds, labelled so whichever binary ran them (the memset
       * speed is the machine's, not an allocator's): memset-ws zeroes each
       * slot in its own place (a working set as large as the allocator's),
       * memset-hot zeroes one cache-resident buffer.  The run above was
       * memset-ws; run memset-hot now. */
      /* Each also as a `memset` row in GB/s, the speed of zeroing. */
      char p2[80];
      double ws_gbps = memset_bytes / t / 1e9;
      setenv("BENCH_LABEL", "memset-ws", 1);
      bench_result("mid", params, (double)ops * threads / t / 1e6, "Mops/s", "");
      memset_bytes = 0;
      t = bench_run_threads(threads, mid_memset, "hot");
      setenv("BENCH_LABEL", "memset-hot", 1);
      bench_result("mid", params, (double)ops * threads / t / 1e6, "Mops/s", "");
      setenv("BENCH_LABEL", "memset", 1);
      snprintf(p2, sizeof p2, "%s where=ws", params);
      bench_result("memset", p2, ws_gbps, "GB/s", "");
      snprintf(p2, sizeof p2, "%s where=hot", params);
      bench_result("memset", p2, memset_bytes / t / 1e9, "GB/s", "");
    } else {
      bench_result("mid", params, (double)ops * threads / t / 1e6, "Mops/s", "");
    }
  } else {
    fprintf(stderr, "malloc_wl: unknown workload %s\n", w);
    return 2;
  }
  return 0;
}
