/* gpu_host_heap.h -- the device heap built in host memory, for the CPU
 * tests of gpu/ (gpu_bins_test, gpu_alloc_test).
 *
 * Includes gpu/alloc.h with the heap in a host variable, so the tests call
 * the very pargc_gpu_malloc / pargc_gpu_free that gpu/device.cu compiles,
 * with warps of pthreads (gpu/warp.h) standing in for hardware warps.
 * Provides: heap set-up of any size and arena count, a 16-byte ownership
 * map (two live objects must never share a granule), the semaphore
 * invariant of every list, trimming and the "everything came back" check,
 * and a harness that runs a function on every lane of some warps.
 */
#ifndef PARGC_TESTS_GPU_HOST_HEAP_H
#define PARGC_TESTS_GPU_HOST_HEAP_H

#include "config.h"
#include "gpu/heap.h"

static pargc_gpu_devheap test_heap;
static long test_events[8];
#define PARGC_GPU_TRACE(e) __atomic_fetch_add(&test_events[e], 1, __ATOMIC_RELAXED)
#define PARGC_GPU_HEAP test_heap
#define PARGC_GPU_FN static inline
#include "gpu/alloc.h"
#include "check.h"

#include <pthread.h>
#include <string.h>

#define TEST_GRANULE 16

static uint32_t *test_initial_words;
static int *test_owner;
static uint64_t test_pool_size;
static uint32_t test_levels;

static uint32_t test_nlists(void)
{
  return test_heap.narenas * PARGC_GPU_NCLASSES;
}

static void test_heap_free_all(void)
{
  pargc_gpu_devheap *d = &test_heap;
  free(d->base);
  free(d->bins);
  free(d->chunks);
  free(d->lists);
  free(d->current);
  free(d->chunk_index);
  free(d->counters);
  free(d->sync);
  free(d->buddy.words);
  free(test_initial_words);
  free(test_owner);
  memset(d, 0, sizeof *d);
  test_initial_words = NULL;
  test_owner = NULL;
}

/* A heap of `size` bytes (a multiple of 512 KiB) with `narenas` arenas,
 * laid out as gpu/host.cu lays it out on the device. */
static void test_heap_setup(uint64_t size, uint32_t narenas)
{
  pargc_gpu_devheap *d = &test_heap;
  test_heap_free_all();
  test_pool_size = size;
  uint64_t leaves = size >> PARGC_GPU_BIN_SHIFT;
  uint32_t levels = 0;
  while (((uint64_t)1 << levels) < leaves)
    levels++;
  test_levels = levels;
  d->base = aligned_alloc(PARGC_GPU_CHUNK_SIZE, size);
  d->size = size;
  d->narenas = narenas;
  d->nchunks = (uint32_t)(size >> PARGC_GPU_CHUNK_SHIFT);
  d->chunk_depth = levels - (PARGC_GPU_CHUNK_SHIFT - PARGC_GPU_BIN_SHIFT);
  d->bins = calloc(leaves, sizeof *d->bins);
  d->chunks = calloc(d->nchunks, sizeof *d->chunks);
  d->lists = calloc((size_t)narenas * PARGC_GPU_NCLASSES, sizeof *d->lists);
  d->current = calloc(narenas, sizeof *d->current);
  d->chunk_index = calloc((d->nchunks + 31) / 32, sizeof *d->chunk_index);
  d->counters = calloc(PARGC_GPU_COUNTERS, sizeof *d->counters);
  d->sync = calloc(PARGC_GPU_SYNC_WORDS, sizeof *d->sync);
  uint32_t *words = calloc(pargc_gpu_buddy_nwords(levels), sizeof *words);
  for (uint32_t i = 0; i < d->nchunks; i++)
    d->chunks[i].state = PARGC_GPU_CHUNK_RETIRED;
  pargc_gpu_buddy_init(&d->buddy, words, levels, PARGC_GPU_BIN_SHIFT, (uint32_t)leaves);
  test_initial_words = malloc(pargc_gpu_buddy_nwords(levels) * sizeof *words);
  memcpy(test_initial_words, words, pargc_gpu_buddy_nwords(levels) * sizeof *words);
  test_owner = calloc(size / TEST_GRANULE, sizeof *test_owner);
}

/* Ownership of [p, p + size): every granule must have been free.  The
 * first and last granules are taken with an atomic exchange (two objects
 * that overlap there cannot both succeed); the ones between, thousands
 * for a 64 KiB object, with a load and a store, which is enough to see an
 * overlap with a live object and costs a tenth. */
static void test_own(char *p, uint64_t size, int id)
{
  uint64_t off = (uint64_t)(p - test_heap.base);
  if (off % 16 != 0 || off + size > test_pool_size) {
    CHECK(!"object misaligned or outside the pool");
    return;
  }
  uint64_t first = off / TEST_GRANULE, end = (off + size + TEST_GRANULE - 1) / TEST_GRANULE;
  for (uint64_t g = first; g < end; g++) {
    int was;
    if (g == first || g == end - 1) {
      was = __atomic_exchange_n(&test_owner[g], id, __ATOMIC_SEQ_CST);
    } else {
      was = __atomic_load_n(&test_owner[g], __ATOMIC_RELAXED);
      __atomic_store_n(&test_owner[g], id, __ATOMIC_RELAXED);
    }
    if (was != 0) {
      CHECK(!"two live objects overlap");
      return;
    }
  }
}

static void test_disown(char *p, uint64_t size)
{
  uint64_t off = (uint64_t)(p - test_heap.base);
  for (uint64_t g = off / TEST_GRANULE; g < (off + size + TEST_GRANULE - 1) / TEST_GRANULE; g++)
    __atomic_store_n(&test_owner[g], 0, __ATOMIC_RELAXED);
}

static uint64_t test_counter(int which)
{
  return __atomic_load_n(&test_heap.counters[which], __ATOMIC_SEQ_CST);
}

/* The bulk-semaphore invariant of every list, with no thread running:
 * count == the clear usable bits of the bins on the list, expected == 0.
 * Returns the number of lists that break it. */
static int test_heap_check_sems(void)
{
  int bad = 0;
  for (uint32_t li = 0; li < test_nlists(); li++) {
    pargc_gpu_binlist *L = &test_heap.lists[li];
    uint32_t slots = pargc_gpu_class_slots((int)(li % PARGC_GPU_NCLASSES));
    int64_t clear = 0;
    for (uint32_t b = L->head; b; b = test_heap.bins[b - 1].next)
      clear += slots - pargc_gpu_bitmap_used(test_heap.bins[b - 1].bits, PARGC_GPU_BIN_WORDS, slots);
    if (pargc_gpu_sem_count(L->sem) != clear || pargc_gpu_sem_expected(L->sem) != 0) {
      fprintf(stderr, "list %u: semaphore count %lld, expected %u, but %lld free slots\n", li,
              (long long)pargc_gpu_sem_count(L->sem), pargc_gpu_sem_expected(L->sem),
              (long long)clear);
      bad++;
    }
  }
  return bad;
}

/* What pargc_gpu_heap_trim's kernels do, from one thread. */
static void test_heap_trim(void)
{
  for (uint32_t li = 0; li < test_nlists(); li++)
    pargc_gpu_bins_sweep_list(li);
  for (uint32_t a = 0; a < test_heap.narenas; a++)
    pargc_gpu_bins_drop_current(a, 0);
  for (uint32_t ci = 0; ci < test_heap.nchunks; ci++)
    pargc_gpu_chunk_retire(ci);
}

/* Trim, then everything must be back: lists empty with zero semaphores,
 * every chunk retired, the buddy tree bit for bit the initial one. */
static void test_heap_check_empty(const char *what)
{
  test_heap_trim();
  int lists_ok = 1, chunks_ok = 1;
  for (uint32_t li = 0; li < test_nlists(); li++) {
    pargc_gpu_binlist *L = &test_heap.lists[li];
    lists_ok &= L->head == 0 && L->sem == 0 && L->limbo == 0 && L->pending == 0 &&
                L->readers[0] == 0 && L->readers[1] == 0 && L->lock == 0;
  }
  for (uint32_t ci = 0; ci < test_heap.nchunks; ci++)
    chunks_ok &= test_heap.chunks[ci].state == PARGC_GPU_CHUNK_RETIRED;
  CHECK(lists_ok);
  CHECK(chunks_ok);
  CHECK(memcmp(test_initial_words, test_heap.buddy.words,
               pargc_gpu_buddy_nwords(test_levels) * sizeof *test_initial_words) == 0);
  printf("%s: all memory back in the buddy tree after trim\n", what);
}

/* ---- warps of threads ---------------------------------------------------- */

typedef void (*test_lane_fn)(uint32_t warp, uint32_t lane, void *arg);

typedef struct {
  pargc_warp_host *warp;
  uint32_t w, lane;
  test_lane_fn fn;
  void *arg;
} test_lane;

static void *test_lane_main(void *p)
{
  test_lane *l = (test_lane *)p;
  pargc_warp_host_enter(l->warp, l->lane, 1u << l->lane);
  l->fn(l->w, l->lane, l->arg);
  return NULL;
}

/* Run fn on lanes 0..nlanes-1 of nwarps warps (warp w pretends to be on
 * SM w), one thread per lane, and wait for all.  fn says which lanes run
 * together with pargc_warp_host_enter before each heap call. */
static pargc_warp_host *test_warps;
static inline void test_run_warps(uint32_t nwarps, uint32_t nlanes, test_lane_fn fn, void *arg)
{
  uint32_t n = nwarps * nlanes;
  pthread_t *t = calloc(n, sizeof *t);
  test_lane *l = calloc(n, sizeof *l);
  test_warps = calloc(nwarps, sizeof *test_warps);
  for (uint32_t w = 0; w < nwarps; w++)
    pargc_warp_host_init(&test_warps[w], w);
  for (uint32_t i = 0; i < n; i++) {
    l[i] = (test_lane){&test_warps[i / nlanes], i / nlanes, i % nlanes, fn, arg};
    if (pthread_create(&t[i], NULL, test_lane_main, &l[i]) != 0)
      abort();
  }
  for (uint32_t i = 0; i < n; i++)
    pthread_join(t[i], NULL);
  for (uint32_t w = 0; w < nwarps; w++)
    pargc_warp_host_destroy(&test_warps[w]);
  free(test_warps);
  test_warps = NULL;
  free(t);
  free(l);
}

/* This lane runs with the lanes of `active` (of its warp) from now on. */
static inline void test_lanes(uint32_t active)
{
  pargc_warp_host_enter(pargc_warp_self.warp, pargc_warp_self.lane, active);
}

#endif
