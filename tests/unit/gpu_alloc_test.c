/* Unit test for gpu/alloc.h: pargc_dev_malloc and pargc_dev_free as the GPU
 * runs them, lane by lane, on warps of host threads (gpu/warp.h) over a
 * heap in host memory (gpu_host_heap.h).
 *
 * Checked:
 *  - groups: warps of 32 lanes with random active masks, divergent sizes
 *    (small and medium classes, large blocks, several classes in one
 *    warp), NULL
 *    frees mixed into a warp's frees, objects freed by other warps (other
 *    arenas): no two live objects overlap, no NULL, no bad free, every
 *    list's semaphore equals its free slots, all memory back after trim;
 *  - double free: a slot freed twice (by one lane, and by two lanes of
 *    the same warp in one call) is counted as a bad free and leaves the
 *    semaphore equal to the free slots, so later allocations cannot scan
 *    for a slot that is not there; a large block freed twice likewise;
 *  - foreign pointers: below and beyond the pool, inside a slot, a bin's
 *    tail past its last slot, a bin of a chunk that is not in use, the
 *    inside of a large block, free buddy memory: each counted, nothing
 *    changed;
 *  - sizes that cannot be served (SIZE_MAX, a negative int converted to
 *    size_t, more than the pool): NULL, counted, nothing taken. */
#include "gpu_host_heap.h"

#include <unistd.h>

/* ---- one lane at a time ------------------------------------------------ */

static void lane_double_free(uint32_t warp, uint32_t lane, void *arg)
{
  (void)warp, (void)lane, (void)arg;
  char *p = pargc_gpu_malloc(16), *q = pargc_gpu_malloc(16);
  CHECK(p && q);
  pargc_gpu_free(p);
  pargc_gpu_free(p);                 /* the second time: a bad free */
  CHECK_EQ(test_counter(PARGC_GPU_COUNT_BAD_FREE), 1);
  char *mid = pargc_gpu_malloc(20000);
  CHECK(mid != NULL);
  pargc_gpu_free(mid);
  pargc_gpu_free(mid);               /* medium, twice */
  CHECK_EQ(test_counter(PARGC_GPU_COUNT_BAD_FREE), 2);
  char *big = pargc_gpu_malloc(300000);
  CHECK(big != NULL);
  pargc_gpu_free(big);
  pargc_gpu_free(big);               /* large, twice */
  CHECK_EQ(test_counter(PARGC_GPU_COUNT_BAD_FREE), 3);
  pargc_gpu_free(q);
}

/* 32 lanes take one 16 B slot each in one call; then lane 1 frees lane
 * 0's object too, in the same call as lane 0. */
static char *group_objs[32];
static void lane_double_free_group(uint32_t warp, uint32_t lane, void *arg)
{
  (void)warp, (void)arg;
  test_lanes(0xFFFFFFFFu);
  group_objs[lane] = pargc_gpu_malloc(16);
  pargc_warp_sync(0xFFFFFFFFu);      /* every lane's store before the frees */
  pargc_gpu_free(group_objs[lane == 1 ? 0 : lane]);
  test_lanes(1u << lane);
  if (lane == 1)
    pargc_gpu_free(group_objs[1]);
}

/* After the double frees: fill the pool with the class that was freed
 * twice, until NULL, and free it all.  A list whose count exceeds its free
 * slots would scan forever here, looking for a slot that is not there. */
#define FILL_MAX (1u << 19)
static void lane_fill(uint32_t warp, uint32_t lane, void *arg)
{
  (void)warp, (void)lane, (void)arg;
  static char *objs[FILL_MAX];
  uint32_t n = 0;
  while (n < FILL_MAX && (objs[n] = pargc_gpu_malloc(16)) != NULL)
    n++;
  CHECK(n >= 0.99 * FILL_MAX);
  while (n > 0)
    pargc_gpu_free(objs[--n]);
}

static void test_double_free(void)
{
  test_heap_setup((uint64_t)8 << 20, 2);
  test_run_warps(1, 1, lane_double_free, NULL);
  CHECK_EQ(test_heap_check_sems(), 0);
  test_run_warps(1, 32, lane_double_free_group, NULL);
  CHECK_EQ(test_counter(PARGC_GPU_COUNT_BAD_FREE), 4);
  CHECK_EQ(test_heap_check_sems(), 0);
  if (test_heap_check_sems() == 0) {
    test_run_warps(1, 1, lane_fill, NULL);
    CHECK_EQ(test_heap_check_sems(), 0);
  }
  printf("double free: %llu bad frees counted, semaphores equal to the free slots\n",
         (unsigned long long)test_counter(PARGC_GPU_COUNT_BAD_FREE));
  test_heap_check_empty("double free");
}

static uint64_t bad_expected;
static void bad_free(void *p)
{
  pargc_gpu_free(p);
  bad_expected++;
  CHECK_EQ(test_counter(PARGC_GPU_COUNT_BAD_FREE), bad_expected);
}

static void lane_foreign(uint32_t warp, uint32_t lane, void *arg)
{
  (void)warp, (void)lane, (void)arg;
  char *base = test_heap.base;
  uint64_t size = test_heap.size;
  char *p = pargc_gpu_malloc(48);      /* class 48 B: 85 slots, 4080 bytes */
  CHECK(p != NULL);
  uint64_t off = (uint64_t)(p - base);
  char *bin = base + (off & ~(uint64_t)(PARGC_GPU_BIN_SIZE - 1));
  uint64_t chunk = off & ~(uint64_t)(PARGC_GPU_CHUNK_SIZE - 1);
  bad_free(base - 16);                 /* below the pool */
  bad_free(base + size);               /* just past it */
  bad_free(base + size + ((uint64_t)1 << 40));
  bad_free(p + 16);                    /* inside a slot */
  bad_free(bin + 85 * 48);             /* the bin's tail, past slot 84 */
  /* A bin of p's chunk that no list has taken (the chunk is carved from
   * the front, and this arena has taken one bin). */
  bad_free(base + chunk + 100 * PARGC_GPU_BIN_SIZE);
  char *mid = pargc_gpu_malloc(64 << 10);   /* a medium bin: a whole chunk */
  CHECK(mid != NULL);
  bad_free(mid + 4096);                /* inside a medium object */
  bad_free(mid + 16);
  char *big = pargc_gpu_malloc(256 << 10);
  CHECK(big != NULL);
  bad_free(big + 4096);                /* inside a large block */
  bad_free(big + 16);
  bad_free(base + size - 4096);        /* free buddy memory */
  pargc_gpu_free(big);
  pargc_gpu_free(mid);
  pargc_gpu_free(p);
  CHECK_EQ(test_counter(PARGC_GPU_COUNT_BAD_FREE), bad_expected);
}

static void test_foreign(void)
{
  test_heap_setup((uint64_t)8 << 20, 2);
  bad_expected = 0;
  test_run_warps(1, 1, lane_foreign, NULL);
  CHECK_EQ(test_heap_check_sems(), 0);
  printf("foreign pointers: %llu bad frees counted, nothing changed\n",
         (unsigned long long)test_counter(PARGC_GPU_COUNT_BAD_FREE));
  test_heap_check_empty("foreign pointers");
}

static void lane_sizes(uint32_t warp, uint32_t lane, void *arg)
{
  (void)warp, (void)lane, (void)arg;
  int minus_one = -1;
  CHECK(pargc_gpu_malloc(UINT64_MAX) == NULL);
  CHECK(pargc_gpu_malloc((uint64_t)(size_t)minus_one) == NULL);
  CHECK(pargc_gpu_malloc((uint64_t)(size_t)(minus_one * 4096)) == NULL);
  CHECK(pargc_gpu_malloc(test_heap.size + 1) == NULL);
  CHECK(pargc_gpu_malloc((uint64_t)1 << 63) == NULL);
  CHECK_EQ(test_counter(PARGC_GPU_COUNT_NULL), 5);
  /* The whole pool still comes in one piece. */
  char *all = pargc_gpu_malloc(test_heap.size);
  CHECK(all == test_heap.base);
  pargc_gpu_free(all);
}

static void test_sizes(void)
{
  test_heap_setup((uint64_t)8 << 20, 2);
  test_run_warps(1, 1, lane_sizes, NULL);
  test_heap_check_empty("sizes that cannot be served");
}

/* ---- warps of 32 lanes --------------------------------------------------- */

#define NWARPS 4
#define ROUNDS 250
#define HELD 24

static uint32_t hash3(uint32_t a, uint32_t b, uint32_t c)
{
  uint32_t h = a * 0x9E3779B1u ^ b * 0x85EBCA77u ^ c * 0xC2B2AE3Du;
  h ^= h >> 15;
  h *= 0x2C1B3C6Du;
  h ^= h >> 12;
  return h;
}

/* Objects handed from one warp to another, freed by whoever takes them. */
static struct {
  pthread_mutex_t mu;
  char *p[4096];
  uint32_t size[4096];
  int n;
} mailbox = {PTHREAD_MUTEX_INITIALIZER, {0}, {0}, 0};

static long group_allocs, group_larges;

/* The allocating lane writes a byte of its id at both ends of the
 * object, with plain stores, and whoever frees it reads them back: under
 * ThreadSanitizer a missing release (free) or acquire (malloc) shows up
 * as a race on these bytes between an object's old and new owner. */
static void stamp(char *p, uint64_t size, int id)
{
  p[0] = p[size - 1] = (char)(id | 1);
}

static void unstamp(char *p, uint64_t size)
{
  if (p[0] != p[size - 1] || p[0] == 0)
    CHECK(!"an object changed under its owner");
}

static uint64_t group_size(uint32_t h)
{
  if (h % 97 == 0)
    return (uint64_t)65537 << (h / 97 % 3);      /* large: 64 KiB + 1 .. 256 KiB */
  if (h % 50 == 0)
    return (uint64_t)4096 << (h / 50 % 5);       /* medium: 4 KiB .. 64 KiB */
  if (h % 3 == 0)
    return 16;                                    /* a big group */
  return 1 + (h >> 8) % 2048;                     /* any small class */
}

static void lane_groups(uint32_t warp, uint32_t lane, void *arg)
{
  (void)arg;
  char *held[HELD];
  uint32_t held_size[HELD];
  int n = 0, id = (int)(warp * 32 + lane + 1);
  long allocs = 0, larges = 0;
  for (uint32_t r = 0; r < ROUNDS; r++) {
    /* Which lanes run this round, and which of them allocate: every lane
     * computes the same masks. */
    uint32_t active = hash3(warp, r, 77) | 1u << (r % 32);
    if (r % 5 == 0)
      active = 0xFFFFFFFFu;
    uint32_t alloc_mask = 0;
    for (uint32_t l = 0; l < 32; l++)
      if ((active >> l & 1) && hash3(warp, r, l) % 3 != 0)
        alloc_mask |= 1u << l;
    if (!(active >> lane & 1))
      continue;
    uint32_t h = hash3(warp, r, lane + 100);
    if (alloc_mask >> lane & 1) {
      test_lanes(alloc_mask);
      uint64_t size = group_size(h);
      char *p = pargc_gpu_malloc(size);
      if (!p) {
        CHECK(!"NULL with memory to spare");
        continue;
      }
      test_own(p, size, id);
      stamp(p, size, id);
      allocs++;
      larges += size > PARGC_GPU_MEDIUM_MAX;
      if (n == HELD || h % 7 == 0) {
        /* Hand it to another warp (through the mailbox), or drop the
         * oldest into the mailbox to make room. */
        char *give = n == HELD ? held[0] : p;
        uint32_t gsize = n == HELD ? held_size[0] : (uint32_t)size;
        pthread_mutex_lock(&mailbox.mu);
        int ok = mailbox.n < 4096;
        if (ok) {
          mailbox.p[mailbox.n] = give;
          mailbox.size[mailbox.n++] = gsize;
        }
        pthread_mutex_unlock(&mailbox.mu);
        if (!ok) {
          unstamp(give, gsize);
          test_disown(give, gsize);
          test_lanes(1u << lane);
          pargc_gpu_free(give);
        }
        if (n == HELD) {
          held[0] = p;
          held_size[0] = (uint32_t)size;
        }
      } else {
        held[n] = p;
        held_size[n++] = (uint32_t)size;
      }
    } else {
      /* Free: from the mailbox, or one of ours, or NULL when we have
       * nothing (free(NULL) in the middle of a group). */
      char *p = NULL;
      uint32_t size = 0;
      if (h % 2) {
        pthread_mutex_lock(&mailbox.mu);
        if (mailbox.n > 0) {
          p = mailbox.p[--mailbox.n];
          size = mailbox.size[mailbox.n];
        }
        pthread_mutex_unlock(&mailbox.mu);
      }
      if (!p && n > 0) {
        int i = (int)(h / 3 % (uint32_t)n);
        p = held[i];
        size = held_size[i];
        held[i] = held[--n];
        held_size[i] = held_size[n];
      }
      if (p) {
        unstamp(p, size);
        test_disown(p, size);
      }
      test_lanes(active & ~alloc_mask);
      pargc_gpu_free(p);
    }
  }
  /* Everything left, all lanes of the warp together. */
  for (int k = 0; k < HELD; k++) {
    char *p = k < n ? held[k] : NULL;
    if (p) {
      unstamp(p, held_size[k]);
      test_disown(p, held_size[k]);
    }
    test_lanes(0xFFFFFFFFu);
    pargc_gpu_free(p);
  }
  __atomic_fetch_add(&group_allocs, allocs, __ATOMIC_RELAXED);
  __atomic_fetch_add(&group_larges, larges, __ATOMIC_RELAXED);
}

static void test_groups(void)
{
  test_heap_setup((uint64_t)32 << 20, 2);
  group_allocs = group_larges = 0;
  test_run_warps(NWARPS, 32, lane_groups, NULL);
  for (int i = 0; i < mailbox.n; i++) {
    unstamp(mailbox.p[i], mailbox.size[i]);
    test_disown(mailbox.p[i], mailbox.size[i]);
    pargc_warp_host w;
    pargc_warp_host_init(&w, 0);
    pargc_warp_host_enter(&w, 0, 1);
    pargc_gpu_free(mailbox.p[i]);
    pargc_warp_host_destroy(&w);
  }
  mailbox.n = 0;
  CHECK_EQ(test_counter(PARGC_GPU_COUNT_NULL), 0);
  CHECK_EQ(test_counter(PARGC_GPU_COUNT_BAD_FREE), 0);
  CHECK_EQ(test_heap_check_sems(), 0);
  printf("groups: %d warps of 32 lanes, %ld objects (%ld large), no overlap, no NULL\n", NWARPS,
         group_allocs, group_larges);
  test_heap_check_empty("groups");
}

int main(void)
{
  alarm(300);   /* a broken invariant shows up as a scan that never ends */
  test_sizes();
  test_double_free();
  test_foreign();
  test_groups();
  test_heap_free_all();
  return CHECK_SUMMARY();
}
