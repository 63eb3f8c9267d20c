/* Unit test for gpu/bins.h (chunks, bins, bin lists, RCU, trimming) and
 * its interplay with gpu/buddy.h and gpu/sem.h, compiled as host C on a
 * heap in host memory.  Each pthread plays the leader of a warp's
 * coalesced group: it reserves n slots of a class on "its SM's" arena,
 * claims them by scanning the list under RCU, and frees slots one by one
 * the way pargc_dev_free does (small or large told by the chunk state).
 * Frees land on other arenas' lists, empty bins leave their lists and are
 * recycled into other classes while other threads walk the lists, chunks
 * go back to the buddy tree while large objects come out of it.
 *
 * Checked: no two live objects share a 16-byte granule (ownership map);
 * objects are 16-aligned and inside the pool; with enough memory nothing
 * fails; after everything is freed and trimmed the buddy tree is bit for
 * bit the initial one, every chunk is retired and every list is empty
 * with a zero semaphore; single-size allocation fills >= 99% of the pool
 * before the first failure. */
#include "config.h"
#include "gpu/heap.h"

static pargc_gpu_devheap test_heap;
static long events[3];
#define PARGC_GPU_TRACE(e) __atomic_fetch_add(&events[e], 1, __ATOMIC_RELAXED)
#define PARGC_GPU_HEAP test_heap
#define PARGC_GPU_FN static inline
#include "gpu/bins.h"
#include "check.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#define NT 8
#define NARENAS 4
#define LEVELS 14     /* 16384 leaves of 4 KiB: a 64 MiB pool */
#define GRANULE 16

static uint32_t *initial_words;
static int *granule_owner;
static uint64_t pool_size;

static void heap_setup(uint64_t size)
{
  pargc_gpu_devheap *d = &test_heap;
  free(d->base);
  free(d->bins);
  free(d->chunks);
  free(d->lists);
  free(d->current);
  free(d->counters);
  free(d->sync);
  free(d->buddy.words);
  free(initial_words);
  free(granule_owner);
  memset(d, 0, sizeof *d);
  pool_size = size;
  uint64_t leaves = size >> PARGC_GPU_BIN_SHIFT;
  d->base = aligned_alloc(PARGC_GPU_CHUNK_SIZE, size);
  d->size = size;
  d->narenas = NARENAS;
  d->nchunks = (uint32_t)(size >> PARGC_GPU_CHUNK_SHIFT);
  d->chunk_depth = LEVELS - (PARGC_GPU_CHUNK_SHIFT - PARGC_GPU_BIN_SHIFT);
  d->bins = calloc(leaves, sizeof *d->bins);
  d->chunks = calloc(d->nchunks, sizeof *d->chunks);
  d->lists = calloc((size_t)NARENAS * PARGC_GPU_NCLASSES, sizeof *d->lists);
  d->current = calloc(NARENAS, sizeof *d->current);
  d->counters = calloc(PARGC_GPU_COUNTERS, sizeof *d->counters);
  d->sync = calloc(2, sizeof *d->sync);
  uint32_t *words = calloc(pargc_gpu_buddy_nwords(LEVELS), sizeof *words);
  for (uint32_t i = 0; i < d->nchunks; i++)
    d->chunks[i].state = PARGC_GPU_CHUNK_RETIRED;
  pargc_gpu_buddy_init(&d->buddy, words, LEVELS, PARGC_GPU_BIN_SHIFT, (uint32_t)leaves);
  initial_words = malloc(pargc_gpu_buddy_nwords(LEVELS) * sizeof *words);
  memcpy(initial_words, words, pargc_gpu_buddy_nwords(LEVELS) * sizeof *words);
  granule_owner = calloc(size / GRANULE, sizeof *granule_owner);
}

/* Ownership of [p, p + size): every granule must have been free. */
static void own(char *p, uint64_t size, int id)
{
  uint64_t off = (uint64_t)(p - test_heap.base);
  if (off % 16 != 0 || off + size > pool_size) {
    CHECK(!"object misaligned or outside the pool");
    return;
  }
  for (uint64_t g = off / GRANULE; g < (off + size) / GRANULE; g++)
    if (__atomic_exchange_n(&granule_owner[g], id, __ATOMIC_SEQ_CST) != 0) {
      CHECK(!"two live objects overlap");
      return;
    }
}

static void disown(char *p, uint64_t size)
{
  uint64_t off = (uint64_t)(p - test_heap.base);
  for (uint64_t g = off / GRANULE; g < (off + size) / GRANULE; g++)
    __atomic_store_n(&granule_owner[g], 0, __ATOMIC_SEQ_CST);
}

/* The group version of small_alloc in gpu/device.cu, for n lanes. */
static int small_alloc(uint32_t a, uint32_t cls, uint32_t n, char **out)
{
  uint32_t li = a * PARGC_GPU_NCLASSES + cls, size = pargc_gpu_class_size((int)cls);
  uint32_t have = 0;
  if (pargc_gpu_bins_reserve(a, li, cls, n)) {
    pargc_gpu_binlist *L = &test_heap.lists[li];
    uint32_t parity = pargc_gpu_rcu_enter(L), cur = 0;
    while (have < n) {
      uint32_t b, w;
      uint32_t got = pargc_gpu_bins_scan(li, cls, (int)(n - have), &cur, &b, &w);
      for (; got; got &= got - 1)
        out[have++] = test_heap.base + ((uint64_t)b << PARGC_GPU_BIN_SHIFT) +
                      (w * 32 + (uint32_t)pargc_gpu_ctz32(got)) * size;
    }
    pargc_gpu_rcu_exit(L, parity);
    return (int)have;
  }
  /* Exhaustion path: lane by lane, from any arena. */
  for (; have < n; have++) {
    char *p = NULL;
    for (uint32_t i = 0; i < NARENAS && !p; i++) {
      uint32_t l2 = ((a + i) % NARENAS) * PARGC_GPU_NCLASSES + cls;
      if (pargc_gpu_sem_try(&test_heap.lists[l2].sem, 1)) {
        pargc_gpu_binlist *L = &test_heap.lists[l2];
        uint32_t parity = pargc_gpu_rcu_enter(L), cur = 0, b, w;
        uint32_t got = pargc_gpu_bins_scan(l2, cls, 1, &cur, &b, &w);
        pargc_gpu_rcu_exit(L, parity);
        p = test_heap.base + ((uint64_t)b << PARGC_GPU_BIN_SHIFT) +
            (w * 32 + (uint32_t)pargc_gpu_ctz32(got)) * size;
      }
    }
    if (!p)
      break;
    out[have] = p;
  }
  return (int)have;
}

static char *large_alloc(uint64_t size, uint32_t hint)
{
  int depth = pargc_gpu_buddy_depth_for(&test_heap.buddy, size);
  uint64_t n = depth < 0 ? 0 : pargc_gpu_buddy_alloc(&test_heap.buddy, (uint32_t)depth, hint);
  if (!n && depth >= 0) {
    pargc_gpu_bins_reclaim();
    n = pargc_gpu_buddy_alloc(&test_heap.buddy, (uint32_t)depth, hint);
  }
  return n ? test_heap.base + pargc_gpu_buddy_offset(&test_heap.buddy, n) : NULL;
}

/* pargc_dev_free for one lane. */
static void heap_free(char *p)
{
  uint64_t off = (uint64_t)(p - test_heap.base);
  uint32_t st = pargc_gpu_load32(&test_heap.chunks[off >> PARGC_GPU_CHUNK_SHIFT].state);
  if (st & PARGC_GPU_CHUNK_RETIRED) {
    uint64_t n = pargc_gpu_buddy_node_at(&test_heap.buddy, off);
    CHECK(n != 0);
    if (n)
      pargc_gpu_buddy_free_node(&test_heap.buddy, n);
    return;
  }
  uint32_t b = (uint32_t)(off >> PARGC_GPU_BIN_SHIFT);
  pargc_gpu_bin *bin = &test_heap.bins[b];
  uint32_t li = pargc_gpu_load32(&bin->list);
  uint32_t slot = pargc_gpu_class_slot_magic(pargc_gpu_load32(&bin->magic), (uint32_t)off & (PARGC_GPU_BIN_SIZE - 1));
  uint32_t w = slot / 32, bit = 1u << (slot % 32);
  uint32_t old = pargc_gpu_bitmap_release(&bin->bits[w], bit);
  if (!(old & bit))
    CHECK(!"freed a slot that was not allocated");
  pargc_gpu_fence();
  pargc_gpu_sem_signal(&test_heap.lists[li].sem, 1);
  pargc_gpu_bins_freed(li, b, w, bit, old);
}

typedef struct {
  char *p;
  uint64_t size;
} object;

#define HELD 512
static object held[NT][HELD];
static int nheld[NT];
static long failures, smalls, larges;

static void *worker(void *arg)
{
  int id = (int)(long)arg;
  unsigned seed = (unsigned)(id + 1) * 2654435761u;
  object *mine = held[id];
  int n = 0;
  for (int it = 0; it < 40000; it++) {
    seed = seed * 1103515245u + 12345u;
    uint32_t r = seed >> 8;
    if (n < HELD - 32 && (n == 0 || r % 8 < 4)) {
      if (r % 64 == 0) {
        uint64_t size = (uint64_t)4096 << (r / 64 % 6);      /* 4 KiB .. 128 KiB */
        char *p = large_alloc(size, r % 2 ? seed : 0);
        if (!p) {
          __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
          continue;
        }
        own(p, size, id + 1);
        mine[n].p = p;
        mine[n++].size = size;
        __atomic_fetch_add(&larges, 1, __ATOMIC_RELAXED);
      } else {
        /* The arena of "the SM we run on": mostly ours, sometimes not. */
        uint32_t a = (r / 7) % 5 == 0 ? (uint32_t)(r % NARENAS) : (uint32_t)id % NARENAS;
        uint32_t cls = (r / 3) % PARGC_GPU_NCLASSES, k = 1 + (r / 11) % 32;
        char *out[32];
        int got = small_alloc(a, cls, k, out);
        if (got < (int)k)
          __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
        for (int i = 0; i < got; i++) {
          own(out[i], pargc_gpu_class_size((int)cls), id + 1);
          mine[n].p = out[i];
          mine[n++].size = pargc_gpu_class_size((int)cls);
        }
        __atomic_fetch_add(&smalls, got, __ATOMIC_RELAXED);
      }
    } else {
      /* Free a run of random objects: the bins go empty now and then. */
      int k = 1 + (int)(r % 24);
      for (; k > 0 && n > 0; k--) {
        int i = (int)((seed >> 3) % (uint32_t)n);
        seed = seed * 1103515245u + 12345u;
        object o = mine[i];
        mine[i] = mine[--n];
        disown(o.p, o.size);
        heap_free(o.p);
      }
    }
  }
  nheld[id] = n;
  return NULL;
}

/* Other threads free what the workers left: objects freed far from where
 * they were allocated. */
static void *reaper(void *arg)
{
  int id = (int)(long)arg;
  for (int t = id; t < NT; t += NT / 2)
    for (int i = 0; i < nheld[t]; i++) {
      disown(held[t][i].p, held[t][i].size);
      heap_free(held[t][i].p);
    }
  return NULL;
}

static void trim_and_check_empty(const char *what)
{
  for (uint32_t li = 0; li < NARENAS * PARGC_GPU_NCLASSES; li++)
    pargc_gpu_bins_sweep_list(li);
  for (uint32_t a = 0; a < NARENAS; a++)
    pargc_gpu_bins_drop_current(a, 0);
  for (uint32_t ci = 0; ci < test_heap.nchunks; ci++)
    pargc_gpu_chunk_retire(ci);
  int lists_ok = 1, chunks_ok = 1;
  for (uint32_t li = 0; li < NARENAS * PARGC_GPU_NCLASSES; li++) {
    pargc_gpu_binlist *L = &test_heap.lists[li];
    lists_ok &= L->head == 0 && L->sem == 0 && L->limbo == 0 && L->pending == 0 &&
                L->readers[0] == 0 && L->readers[1] == 0 && L->lock == 0;
  }
  for (uint32_t ci = 0; ci < test_heap.nchunks; ci++)
    chunks_ok &= test_heap.chunks[ci].state == PARGC_GPU_CHUNK_RETIRED;
  CHECK(lists_ok);
  CHECK(chunks_ok);
  CHECK(memcmp(initial_words, test_heap.buddy.words,
               pargc_gpu_buddy_nwords(LEVELS) * sizeof *initial_words) == 0);
  printf("%s: all memory back in the buddy tree after trim\n", what);
}

static void test_churn(void)
{
  heap_setup((uint64_t)64 << 20);
  failures = smalls = larges = 0;
  pthread_t t[NT];
  for (long i = 0; i < NT; i++)
    pthread_create(&t[i], NULL, worker, (void *)i);
  for (int i = 0; i < NT; i++)
    pthread_join(t[i], NULL);
  for (long i = 0; i < NT / 2; i++)
    pthread_create(&t[i], NULL, reaper, (void *)i);
  for (int i = 0; i < NT / 2; i++)
    pthread_join(t[i], NULL);
  CHECK_EQ(failures, 0);
  printf("churn: %ld small and %ld large objects, %ld failures; while running: %ld bins "
         "unlinked, %ld recycled after their grace period, %ld chunks retired\n",
         smalls, larges, failures, events[PARGC_GPU_TRACE_UNLINK],
         events[PARGC_GPU_TRACE_RECYCLE], events[PARGC_GPU_TRACE_RETIRE]);
  /* The run must have exercised removal, RCU recycling and retirement. */
  CHECK(events[PARGC_GPU_TRACE_UNLINK] > 100);
  CHECK(events[PARGC_GPU_TRACE_RECYCLE] > 100);
  CHECK(events[PARGC_GPU_TRACE_RETIRE] > 0);
  trim_and_check_empty("churn");
}

/* Single size until failure, all threads on all arenas. */
static uint32_t fill_cls;
static long filled;
static char **fill_objs;
static void *filler(void *arg)
{
  int id = (int)(long)arg;
  for (;;) {
    char *out[8];
    int got = small_alloc((uint32_t)id % NARENAS, fill_cls, 8, out);
    for (int i = 0; i < got; i++) {
      long at = __atomic_fetch_add(&filled, 1, __ATOMIC_SEQ_CST);
      own(out[i], pargc_gpu_class_size((int)fill_cls), id + 1);
      fill_objs[at] = out[i];
    }
    if (got < 8)
      return NULL;
  }
}

/* Fill the pool with one class; returns the fraction of the pool used
 * before the first failure, and leaves the objects in fill_objs. */
static double fill_with(uint32_t cls)
{
  fill_cls = cls;
  filled = 0;
  pthread_t t[NT];
  for (long i = 0; i < NT; i++)
    pthread_create(&t[i], NULL, filler, (void *)i);
  for (int i = 0; i < NT; i++)
    pthread_join(t[i], NULL);
  double fill = (double)filled * pargc_gpu_class_size((int)cls) / (double)pool_size;
  printf("fill, %u B objects: %.2f%% of the pool before the first failure\n",
         pargc_gpu_class_size((int)cls), 100 * fill);
  /* Only slot-size rounding inside a bin (e.g. 48 B: 85 slots, 4080 of
   * 4096 bytes) may be lost. */
  CHECK(fill >= 0.99 * (double)(pargc_gpu_class_slots((int)cls) * pargc_gpu_class_size((int)cls)) /
                    PARGC_GPU_BIN_SIZE);
  return fill;
}

static long unfill_next;
static void *unfiller(void *arg)
{
  (void)arg;
  for (;;) {
    long i = __atomic_fetch_add(&unfill_next, 1, __ATOMIC_SEQ_CST);
    if (i >= filled)
      return NULL;
    disown(fill_objs[i], pargc_gpu_class_size((int)fill_cls));
    heap_free(fill_objs[i]);
  }
}

static void unfill(void)
{
  unfill_next = 0;
  pthread_t t[NT];
  for (long i = 0; i < NT; i++)
    pthread_create(&t[i], NULL, unfiller, (void *)i);
  for (int i = 0; i < NT; i++)
    pthread_join(t[i], NULL);
}

static void test_fill(uint32_t cls, uint64_t size)
{
  heap_setup(size);
  fill_objs = malloc(size / 16 * sizeof *fill_objs);
  fill_with(cls);
  unfill();
  free(fill_objs);
  trim_and_check_empty("fill");
}

/* Phases without trimming in between: the empty bins of one class must
 * not keep another class or a large object from the memory (the
 * exhaustion path reclaims them), so no failure comes early. */
static void test_phases(uint64_t size)
{
  heap_setup(size);
  fill_objs = malloc(size / 16 * sizeof *fill_objs);
  fill_with(0);
  unfill();
  fill_with(11);
  unfill();
  fill_with(2);
  unfill();
  char *big = large_alloc(size / 2, 0);
  CHECK(big != NULL);
  char *big2 = large_alloc(size / 2, 0);
  CHECK(big2 != NULL);
  if (big)
    heap_free(big);
  if (big2)
    heap_free(big2);
  free(fill_objs);
  trim_and_check_empty("phases");
}

int main(void)
{
  alarm(300);   /* a broken invariant shows up as a scan that never ends */
  test_churn();
  test_fill(0, (uint64_t)16 << 20);
  test_fill(2, (uint64_t)16 << 20);
  test_fill(11, (uint64_t)16 << 20);
  test_fill(12, (uint64_t)16 << 20);
  test_phases((uint64_t)16 << 20);
  return CHECK_SUMMARY();
}
