/* Unit test for gpu/bins.h (chunks, bins, bin lists, RCU, trimming) and
 * its interplay with gpu/buddy.h and gpu/sem.h, through the allocator's
 * own entry points (gpu/alloc.h, the code the GPU runs) on a heap in host
 * memory.  Each pthread is a warp of one lane on "its SM's" arena: it
 * allocates small and large objects and frees them the way
 * pargc_dev_free does, frees land on other arenas' lists, empty bins
 * leave their lists and are recycled into other classes while other
 * threads walk the lists, chunks go back to the buddy tree while large
 * objects come out of it.  (Warps of 32 lanes: gpu_alloc_test.)
 *
 * Checked: no two live objects share a 16-byte granule (ownership map);
 * objects are 16-aligned and inside the pool; with enough memory nothing
 * fails; after everything is freed and trimmed the buddy tree is bit for
 * bit the initial one, every chunk is retired and every list is empty
 * with a zero semaphore; single-size allocation fills >= 99% of the pool
 * before the first failure; a chunk's count of takers cannot carry into
 * its state bits. */
#include "gpu_host_heap.h"

#include <unistd.h>

#define NT 8
#define NARENAS 4

/* Run fn(id) on NT threads, each a one-lane warp on SM id. */
static void *one_lane_main(void *arg);
typedef void (*worker_fn)(int id);
static worker_fn one_lane_fn;
static pargc_warp_host one_lane_warps[NT];
static void run_one_lane_warps(int n, worker_fn fn)
{
  pthread_t t[NT];
  one_lane_fn = fn;
  for (long i = 0; i < n; i++) {
    pargc_warp_host_init(&one_lane_warps[i], (uint32_t)i);
    pthread_create(&t[i], NULL, one_lane_main, (void *)i);
  }
  for (int i = 0; i < n; i++) {
    pthread_join(t[i], NULL);
    pargc_warp_host_destroy(&one_lane_warps[i]);
  }
}

static void *one_lane_main(void *arg)
{
  int id = (int)(long)arg;
  pargc_warp_host_enter(&one_lane_warps[id], 0, 1);
  one_lane_fn(id);
  return NULL;
}

typedef struct {
  char *p;
  uint64_t size;
} object;

#define HELD 512
static object held[NT][HELD];
static int nheld[NT];
static long failures, smalls, larges;

static void worker(int id)
{
  unsigned seed = (unsigned)(id + 1) * 2654435761u;
  object *mine = held[id];
  int n = 0;
  for (int it = 0; it < 10000; it++) {
    seed = seed * 1103515245u + 12345u;
    uint32_t r = seed >> 8;
    if (n < HELD && (n == 0 || r % 8 < 4)) {
      /* The arena of "the SM we run on": mostly ours, sometimes not. */
      one_lane_warps[id].sm = (r / 7) % 5 == 0 ? r % NARENAS : (uint32_t)id % NARENAS;
      /* Mostly small classes; medium ones (whole-chunk bins) one time in
       * eight, large blocks one in 64. */
      int cls = r % 8 == 1 ? PARGC_GPU_NSMALL + (int)((r / 3) % (PARGC_GPU_NCLASSES - PARGC_GPU_NSMALL))
                           : (int)((r / 3) % PARGC_GPU_NSMALL);
      uint64_t size = r % 64 == 0 ? (uint64_t)65536 << (r / 64 % 3)  /* 64 KiB .. 256 KiB */
                                  : pargc_gpu_class_size(cls);
      /* A run of one size, as a warp's group would take them. */
      for (int k = 1 + (int)(r / 5 % 32); k > 0 && n < HELD; k--) {
        char *p = pargc_gpu_malloc(size);
        if (!p) {
          __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
          break;
        }
        test_own(p, size, id + 1);
        mine[n].p = p;
        mine[n++].size = size;
        __atomic_fetch_add(size > PARGC_GPU_MEDIUM_MAX ? &larges : &smalls, 1, __ATOMIC_RELAXED);
      }
    } else {
      /* Free a run of random objects: the bins go empty now and then. */
      int k = 1 + (int)(r % 48);
      for (; k > 0 && n > 0; k--) {
        int i = (int)((seed >> 3) % (uint32_t)n);
        seed = seed * 1103515245u + 12345u;
        object o = mine[i];
        mine[i] = mine[--n];
        test_disown(o.p, o.size);
        pargc_gpu_free(o.p);
      }
    }
  }
  nheld[id] = n;
}

/* Other threads free what the workers left: objects freed far from where
 * they were allocated. */
static void reaper(int id)
{
  for (int t = id; t < NT; t += NT / 2)
    for (int i = 0; i < nheld[t]; i++) {
      test_disown(held[t][i].p, held[t][i].size);
      pargc_gpu_free(held[t][i].p);
    }
}

static void test_churn(void)
{
  test_heap_setup((uint64_t)64 << 20, NARENAS);
  failures = smalls = larges = 0;
  run_one_lane_warps(NT, worker);
  run_one_lane_warps(NT / 2, reaper);
  CHECK_EQ(failures, 0);
  CHECK_EQ(test_counter(PARGC_GPU_COUNT_BAD_FREE), 0);
  CHECK_EQ(test_heap_check_sems(), 0);
  printf("churn: %ld small and %ld large objects, %ld failures; while running: %ld bins "
         "unlinked, %ld recycled after their grace period, %ld chunks retired\n",
         smalls, larges, failures, test_events[PARGC_GPU_TRACE_UNLINK],
         test_events[PARGC_GPU_TRACE_RECYCLE], test_events[PARGC_GPU_TRACE_RETIRE]);
  /* The run must have exercised removal, RCU recycling and retirement. */
  CHECK(test_events[PARGC_GPU_TRACE_UNLINK] > 100);
  CHECK(test_events[PARGC_GPU_TRACE_RECYCLE] > 100);
  CHECK(test_events[PARGC_GPU_TRACE_RETIRE] > 0);
  test_heap_check_empty("churn");
}

/* Single size until failure, all threads on all arenas. */
static uint32_t fill_cls;
static int fill_one_arena;   /* all fillers on arena 0 */
static long filled;
static char **fill_objs;
static void filler(int id)
{
  one_lane_warps[id].sm = fill_one_arena ? 0 : (uint32_t)id % NARENAS;
  uint32_t size = pargc_gpu_class_size((int)fill_cls);
  for (;;) {
    char *p = pargc_gpu_malloc(size);
    if (!p)
      return;
    long at = __atomic_fetch_add(&filled, 1, __ATOMIC_SEQ_CST);
    test_own(p, size, id + 1);
    fill_objs[at] = p;
  }
}

/* Fill the pool with one class; returns the fraction of the pool used
 * before the first failure, and leaves the objects in fill_objs. */
static double fill_with(uint32_t cls)
{
  fill_cls = cls;
  filled = 0;
  run_one_lane_warps(NT, filler);
  double fill = (double)filled * pargc_gpu_class_size((int)cls) / (double)test_pool_size;
  printf("fill, %u B objects: %.2f%% of the pool before the first failure\n",
         pargc_gpu_class_size((int)cls), 100 * fill);
  /* Only slot-size rounding inside a bin (e.g. 48 B: 85 slots, 4080 of
   * 4096 bytes) may be lost. */
  CHECK(fill >= 0.99 * (double)(pargc_gpu_class_slots((int)cls) * pargc_gpu_class_size((int)cls)) /
                    (double)(1u << pargc_gpu_class_bin_shift((int)cls)));
  return fill;
}

static long unfill_next;
static void unfiller(int id)
{
  (void)id;
  for (;;) {
    long i = __atomic_fetch_add(&unfill_next, 1, __ATOMIC_SEQ_CST);
    if (i >= filled)
      return;
    test_disown(fill_objs[i], pargc_gpu_class_size((int)fill_cls));
    pargc_gpu_free(fill_objs[i]);
  }
}

static void unfill(void)
{
  unfill_next = 0;
  run_one_lane_warps(NT, unfiller);
}

static void test_fill(uint32_t cls, uint64_t size)
{
  test_heap_setup(size, NARENAS);
  fill_objs = malloc(size / 16 * sizeof *fill_objs);
  fill_with(cls);
  unfill();
  free(fill_objs);
  CHECK_EQ(test_heap_check_sems(), 0);
  test_heap_check_empty("fill");
}

/* Phases without trimming in between: the empty bins of one class must
 * not keep another class or a large object from the memory (the
 * exhaustion path reclaims them), so no failure comes early. */
static char *big[2];
static void two_halves(int id)
{
  (void)id;
  big[0] = pargc_gpu_malloc(test_pool_size / 2);
  big[1] = pargc_gpu_malloc(test_pool_size / 2);
  CHECK(big[0] != NULL);
  CHECK(big[1] != NULL);
  pargc_gpu_free(big[0]);
  pargc_gpu_free(big[1]);
}

static void test_phases(uint64_t size)
{
  test_heap_setup(size, NARENAS);
  fill_objs = malloc(size / 16 * sizeof *fill_objs);
  fill_with(0);
  unfill();
  fill_with(11);
  unfill();
  fill_with(2);
  unfill();
  fill_with(17);                          /* medium: 12 KiB */
  unfill();
  run_one_lane_warps(1, two_halves);
  free(fill_objs);
  test_heap_check_empty("phases");
}

/* The chunk state word: 70 000 takers inside pargc_gpu_chunk_take at
 * once (each has added 1 to USED and not yet looked) must not carry into
 * CURRENT or RETIRED.  With a 16-bit USED field they turned the chunk
 * RETIRED, and a later take found it retired although it had free bins. */
static void carrier(int id)
{
  (void)id;
  char *p = pargc_gpu_malloc(16);   /* makes arena 0's current chunk */
  CHECK(p != NULL);
  uint32_t ci = test_heap.current[0] - 1;
  uint32_t *st = &test_heap.chunks[ci].state;
  uint32_t before = *st;
  for (int i = 0; i < 70000; i++)
    __atomic_fetch_add(st, 1, __ATOMIC_SEQ_CST);
  CHECK(*st & PARGC_GPU_CHUNK_CURRENT);
  CHECK(!(*st & PARGC_GPU_CHUNK_RETIRED));
  uint32_t b = pargc_gpu_chunk_take(ci);       /* one more taker */
  CHECK(b != PARGC_GPU_NONE);
  if (b != PARGC_GPU_NONE)
    pargc_gpu_chunk_put(b);
  for (int i = 0; i < 70000; i++)
    __atomic_fetch_sub(st, 1, __ATOMIC_SEQ_CST);
  CHECK_EQ(*st, before);
  pargc_gpu_free(p);
}

static void test_chunk_state(void)
{
  test_heap_setup((uint64_t)8 << 20, NARENAS);
  run_one_lane_warps(1, carrier);
  test_heap_check_empty("chunk state");
}

/* Collective chunk requests: warps of one SM, each filling the list of
 * its own class, need bins at once; when the arena's chunk runs out one
 * of them fetches the next while the others wait for it, so the arena
 * takes exactly the chunks it fills.  Thread id takes class 5 + id (128 B
 * .. 2 KiB), 320 bins' worth each: 2560 bins, 20 chunks. */
#define COLL_BINS 320
static char *coll_objs[NT][COLL_BINS * 32];
static void collective(int id)
{
  one_lane_warps[id].sm = 0;
  int cls = 5 + id;
  uint32_t n = COLL_BINS * pargc_gpu_class_slots(cls);
  for (uint32_t i = 0; i < n; i++) {
    coll_objs[id][i] = pargc_gpu_malloc(pargc_gpu_class_size(cls));
    CHECK(coll_objs[id][i] != NULL);
  }
}

static void collective_free(int id)
{
  uint32_t n = COLL_BINS * pargc_gpu_class_slots(5 + id);
  for (uint32_t i = 0; i < n; i++)
    pargc_gpu_free(coll_objs[id][i]);
}

static void test_collective(void)
{
  test_heap_setup((uint64_t)64 << 20, NARENAS);
  long fetched = test_events[PARGC_GPU_TRACE_FETCH];
  run_one_lane_warps(NT, collective);
  uint32_t in_use = 0;
  for (uint32_t ci = 0; ci < test_heap.nchunks; ci++)
    in_use += !(test_heap.chunks[ci].state & PARGC_GPU_CHUNK_RETIRED);
  fetched = test_events[PARGC_GPU_TRACE_FETCH] - fetched;
  uint32_t needed = NT * COLL_BINS / PARGC_GPU_BINS_PER_CHUNK;
  printf("collective: %d threads on one arena, %u chunks in use, %ld fetched for %u needed\n", NT,
         in_use, fetched, needed);
  CHECK_EQ(fetched, needed);
  CHECK_EQ(in_use, needed);
  run_one_lane_warps(NT, collective_free);
  test_heap_check_empty("collective");
}

/* The exhaustion path finds free bins in other arenas' chunks (through
 * the chunk index): one object on each of arenas 1..3 leaves most of
 * their chunks free, then arena 0 alone fills the pool. */
static void one_object(int id)
{
  one_lane_warps[id].sm = (uint32_t)id;
  held[id][0].p = pargc_gpu_malloc(16);
  CHECK(held[id][0].p != NULL);
}

static void free_one_object(int id)
{
  pargc_gpu_free(held[id][0].p);
}

static void test_other_arenas(void)
{
  test_heap_setup((uint64_t)16 << 20, NARENAS);
  run_one_lane_warps(NARENAS, one_object);
  fill_cls = 0;
  filled = 0;
  fill_objs = malloc(test_pool_size / 16 * sizeof *fill_objs);
  long scans = test_events[PARGC_GPU_TRACE_SCAN];
  fill_one_arena = 1;
  run_one_lane_warps(NT, filler);
  fill_one_arena = 0;
  scans = test_events[PARGC_GPU_TRACE_SCAN] - scans;
  double fill = (double)(filled + NARENAS) * 16 / (double)test_pool_size;
  printf("other arenas: arena 0 filled %.2f%% of the pool, %ld bins found in other chunks\n",
         100 * fill, scans);
  CHECK(fill >= 0.999);
  CHECK(scans >= 3 * (PARGC_GPU_BINS_PER_CHUNK - 1));
  unfill();
  run_one_lane_warps(NARENAS, free_one_object);
  free(fill_objs);
  test_heap_check_empty("other arenas");
}

int main(void)
{
  alarm(300);   /* a broken invariant shows up as a scan that never ends */
  test_chunk_state();
  test_collective();
  test_other_arenas();
  test_churn();
  test_fill(0, (uint64_t)16 << 20);
  test_fill(2, (uint64_t)16 << 20);
  test_fill(11, (uint64_t)16 << 20);
  test_fill(12, (uint64_t)16 << 20);
  test_fill(13, (uint64_t)16 << 20);      /* medium: 3 KiB, 170 slots per chunk */
  test_fill(22, (uint64_t)16 << 20);      /* medium: 64 KiB, 8 slots per chunk */
  test_phases((uint64_t)16 << 20);
  test_heap_free_all();
  return CHECK_SUMMARY();
}
