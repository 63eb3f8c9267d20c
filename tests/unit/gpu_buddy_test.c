/* Unit test for gpu/buddy.h, compiled as host C: set-up of trees whose
 * pool is not a power of two, sequential first fit and merging, sizes too
 * large to serve (SIZE_MAX must not wrap round to one leaf), frees of
 * blocks that are not allocated, then threads allocating and freeing
 * random sizes with random search hints while an ownership map of the
 * leaves checks that no two live blocks overlap; at the end everything
 * must have merged back into the initial tree with exact summaries.
 * Cost: a search reads O(depth) words of the tree (regression test for
 * the summaries; the depth-first search before them read every PARTIAL
 * node left of the first fit). */
#include "config.h"

/* Words of the tree read by this thread (loads and CASes), for the cost
 * bounds of test_reads. */
static _Thread_local unsigned long long tree_reads;
#define PARGC_GPU_BUDDY_READ() (tree_reads++)

#include "gpu/buddy.h"
#include "check.h"

#include <pthread.h>
#include <string.h>

static pargc_gpu_buddy tree;
static uint32_t *words;
static int *leaf_owner;

static void setup(uint32_t levels, uint32_t usable)
{
  free(words);
  free(leaf_owner);
  words = calloc(pargc_gpu_buddy_nwords(levels), sizeof *words);
  leaf_owner = calloc((size_t)1 << levels, sizeof *leaf_owner);
  pargc_gpu_buddy_init(&tree, words, levels, 12, usable);
}

static uint64_t busy_leaves(uint64_t *largest)
{
  uint64_t busy = 0, big = 0;
  pargc_gpu_buddy_census(&tree, 1, &busy, &big);
  if (largest)
    *largest = big;
  return busy;
}

static void test_sequential(void)
{
  setup(4, 16);
  CHECK_EQ(pargc_gpu_buddy_get(&tree, 1), PARGC_GPU_BUDDY_FREE);
  CHECK_EQ(pargc_gpu_buddy_depth_for(&tree, 1), 4);
  CHECK_EQ(pargc_gpu_buddy_depth_for(&tree, 4096), 4);
  CHECK_EQ(pargc_gpu_buddy_depth_for(&tree, 4097), 3);
  CHECK_EQ(pargc_gpu_buddy_depth_for(&tree, 16 * 4096), 0);
  CHECK_EQ(pargc_gpu_buddy_depth_for(&tree, 16 * 4096 + 1), -1);
  /* Sizes whose rounding up to leaves wraps round: never a leaf. */
  int minus_one = -1;
  CHECK_EQ(pargc_gpu_buddy_depth_for(&tree, UINT64_MAX), -1);
  CHECK_EQ(pargc_gpu_buddy_depth_for(&tree, (uint64_t)(size_t)minus_one), -1);
  CHECK_EQ(pargc_gpu_buddy_depth_for(&tree, UINT64_MAX - 4094), -1);
  CHECK_EQ(pargc_gpu_buddy_depth_for(&tree, (uint64_t)1 << 63), -1);
  uint64_t a = pargc_gpu_buddy_alloc(&tree, 4, 0);
  uint64_t b = pargc_gpu_buddy_alloc(&tree, 4, 0);
  uint64_t c = pargc_gpu_buddy_alloc(&tree, 2, 0);
  CHECK_EQ(a, 16);                          /* first fit: leftmost leaf */
  CHECK_EQ(b, 17);
  CHECK_EQ(c, 5);                           /* next free quarter */
  CHECK_EQ(pargc_gpu_buddy_offset(&tree, c), 4 * 4096);
  CHECK_EQ(pargc_gpu_buddy_node_at(&tree, 4096), b);
  CHECK_EQ(pargc_gpu_buddy_node_at(&tree, 4 * 4096), c);
  CHECK_EQ(pargc_gpu_buddy_node_at(&tree, 2 * 4096), 0);   /* not a block start */
  CHECK_EQ(busy_leaves(NULL), 6);
  CHECK_EQ(pargc_gpu_buddy_alloc(&tree, 0, 0), 0);          /* whole pool: no */
  CHECK_EQ(pargc_gpu_buddy_free_node(&tree, a), 1);
  CHECK_EQ(pargc_gpu_buddy_free_node(&tree, a), 0);         /* twice: refused */
  CHECK_EQ(pargc_gpu_buddy_free_node(&tree, 9), 0);         /* not a block */
  CHECK_EQ(pargc_gpu_buddy_free_node(&tree, c), 1);
  CHECK_EQ(pargc_gpu_buddy_free_node(&tree, b), 1);
  CHECK_EQ(pargc_gpu_buddy_get(&tree, 1), PARGC_GPU_BUDDY_FREE);   /* merged */
  CHECK_EQ(pargc_gpu_buddy_get(&tree, 2), PARGC_GPU_BUDDY_ABSENT);
  CHECK_EQ(pargc_gpu_buddy_alloc(&tree, 0, 0), 1);
  pargc_gpu_buddy_free_node(&tree, 1);

  /* A pool of 11 leaves in a 16-leaf tree: exactly 11 leaves allocatable. */
  setup(4, 11);
  uint64_t largest;
  CHECK_EQ(busy_leaves(&largest), 0);
  CHECK_EQ(largest, 8);
  int n = 0;
  while (pargc_gpu_buddy_alloc(&tree, 4, 0))
    n++;
  CHECK_EQ(n, 11);
  CHECK_EQ(busy_leaves(NULL), 11);
}

/* Many threads, random sizes 1..64 leaves, random hints. */
#define NT 8
#define LEVELS 12
static long allocs, nulls;

static void *hammer(void *arg)
{
  int id = (int)(long)arg + 1;
  unsigned seed = (unsigned)id * 7919u;
  uint64_t held[32];
  int nheld = 0;
  long mine = 0, none = 0;
  for (int it = 0; it < 30000; it++) {
    seed = seed * 1103515245u + 12345u;
    if (nheld < 32 && (nheld == 0 || (seed >> 20) % 2)) {
      uint32_t depth = LEVELS - (seed >> 8) % 7;                /* 1..64 leaves */
      uint64_t n = pargc_gpu_buddy_alloc(&tree, depth, (seed >> 12) & 1 ? seed : 0);
      if (!n) {
        none++;
        continue;
      }
      CHECK_EQ(pargc_gpu_buddy_depth(n), depth);
      uint64_t off = pargc_gpu_buddy_offset(&tree, n) >> 12;
      uint64_t len = (uint64_t)1 << (LEVELS - depth);
      for (uint64_t i = 0; i < len; i++)
        if (__atomic_exchange_n(&leaf_owner[off + i], id, __ATOMIC_SEQ_CST) != 0)
          CHECK(!"two live blocks overlap");
      held[nheld++] = n;
      mine++;
    } else {
      uint64_t n = held[--nheld];
      uint64_t off = pargc_gpu_buddy_offset(&tree, n);
      if (pargc_gpu_buddy_node_at(&tree, off) != n)
        CHECK(!"node_at does not find the block");
      uint64_t len = (uint64_t)1 << (LEVELS - pargc_gpu_buddy_depth(n));
      for (uint64_t i = 0; i < len; i++)
        __atomic_store_n(&leaf_owner[(off >> 12) + i], 0, __ATOMIC_SEQ_CST);
      pargc_gpu_buddy_free_node(&tree, n);
    }
  }
  while (nheld > 0) {
    uint64_t n = held[--nheld];
    uint64_t off = pargc_gpu_buddy_offset(&tree, n);
    uint64_t len = (uint64_t)1 << (LEVELS - pargc_gpu_buddy_depth(n));
    for (uint64_t i = 0; i < len; i++)
      __atomic_store_n(&leaf_owner[(off >> 12) + i], 0, __ATOMIC_SEQ_CST);
    pargc_gpu_buddy_free_node(&tree, n);
  }
  __atomic_fetch_add(&allocs, mine, __ATOMIC_RELAXED);
  __atomic_fetch_add(&nulls, none, __ATOMIC_RELAXED);
  return NULL;
}

static void test_threads(uint32_t usable)
{
  setup(LEVELS, usable);
  uint32_t *before = malloc(pargc_gpu_buddy_nwords(LEVELS) * sizeof *before);
  memcpy(before, words, pargc_gpu_buddy_nwords(LEVELS) * sizeof *before);
  allocs = nulls = 0;
  pthread_t t[NT];
  for (long i = 0; i < NT; i++)
    pthread_create(&t[i], NULL, hammer, (void *)i);
  for (int i = 0; i < NT; i++)
    pthread_join(t[i], NULL);
  /* Every buddy merged back: the tree is bit for bit the initial one,
   * summaries included. */
  CHECK(memcmp(before, words, pargc_gpu_buddy_nwords(LEVELS) * sizeof *before) == 0);
  CHECK_EQ(busy_leaves(NULL), 0);
  CHECK(allocs > 0);
  printf("buddy, %u of %u leaves: %ld blocks allocated, %ld NULL\n", usable, 1u << LEVELS,
         allocs, nulls);
  free(before);
}

/* Exhaustion under contention: threads take single leaves until NULL;
 * together they must get every leaf of the pool. */
static long got_total;
static void *fill(void *arg)
{
  long mine = 0;
  while (pargc_gpu_buddy_alloc(&tree, LEVELS, (uint32_t)(long)arg * 0x9E3779B9u))
    mine++;
  __atomic_fetch_add(&got_total, mine, __ATOMIC_SEQ_CST);
  return NULL;
}

static void test_fill(uint32_t usable)
{
  setup(LEVELS, usable);
  got_total = 0;
  pthread_t t[NT];
  for (long i = 0; i < NT; i++)
    pthread_create(&t[i], NULL, fill, (void *)i);
  for (int i = 0; i < NT; i++)
    pthread_join(t[i], NULL);
  CHECK_EQ(got_total, usable);
  uint32_t avail;
  CHECK_EQ(pargc_gpu_buddy_check(&tree, 1, &avail), 0);   /* summaries exact */
  CHECK_EQ(avail, 0);
}

/* Cost of a search, single thread (the tree quiet, summaries exact): at
 * most 1 + depth reads going down, 4 per level for splits and 4 per level
 * for the summary refresh.  Filling 2^20 leaves one at a time is the
 * benchmark's 4 KiB row; with its hints (16 regions by SM) the search
 * without summaries read about 7e10 words, the last allocation 127 110. */
static void test_reads(uint32_t levels, int hinted)
{
  setup(levels, 1u << levels);
  uint64_t n = (uint64_t)1 << levels, total = 0, worst = 0;
  uint64_t bound = 10 * ((uint64_t)levels + 1);
  for (uint64_t i = 0; i < n; i++) {
    uint32_t sm = (uint32_t)((i / 256) % 132);
    uint32_t hint = hinted ? (sm * 0x9E3779B9u) & 0xF0000000u : 0;
    tree_reads = 0;
    uint64_t node = pargc_gpu_buddy_alloc(&tree, levels, hint);
    if (!node) {
      CHECK(!"a leaf was free");
      break;
    }
    total += tree_reads;
    if (tree_reads > worst)
      worst = tree_reads;
  }
  tree_reads = 0;
  CHECK_EQ(pargc_gpu_buddy_alloc(&tree, levels, 0), 0);     /* full: NULL at once */
  CHECK(tree_reads <= 2);
  printf("reads, %llu one-leaf allocations (depth %u%s): %llu in all, %.1f each, worst %llu "
         "(bound %llu)\n",
         (unsigned long long)n, levels, hinted ? ", hinted" : "", (unsigned long long)total,
         (double)total / (double)n, (unsigned long long)worst, (unsigned long long)bound);
  CHECK(worst <= bound);
  CHECK(total <= 3 * ((uint64_t)levels + 1) * n);
  uint32_t avail;
  CHECK_EQ(pargc_gpu_buddy_check(&tree, 1, &avail), 0);

  /* Random sizes, allocations and frees: each operation O(depth). */
  setup(levels, (1u << levels) - 1000);
  static uint64_t live[4096];
  int nlive = 0;
  unsigned seed = 12345;
  uint64_t worst_alloc = 0, worst_free = 0;
  for (int it = 0; it < 200000; it++) {
    seed = seed * 1103515245u + 12345u;
    if (nlive < 4096 && (nlive == 0 || (seed >> 16) % 3 != 0)) {
      tree_reads = 0;
      uint64_t node = pargc_gpu_buddy_alloc(&tree, levels - (seed >> 8) % 8, seed);
      if (tree_reads > worst_alloc)
        worst_alloc = tree_reads;
      if (node)
        live[nlive++] = node;
    } else {
      int i = (int)((seed >> 4) % (uint32_t)nlive);
      uint64_t node = live[i];
      live[i] = live[--nlive];
      tree_reads = 0;
      uint64_t at = pargc_gpu_buddy_node_at(&tree, pargc_gpu_buddy_offset(&tree, node));
      CHECK_EQ(at, node);
      pargc_gpu_buddy_free_node(&tree, node);
      if (tree_reads > worst_free)
        worst_free = tree_reads;
    }
  }
  printf("reads, random sizes and frees: worst allocation %llu, worst free %llu (bound %llu)\n",
         (unsigned long long)worst_alloc, (unsigned long long)worst_free,
         (unsigned long long)bound);
  CHECK(worst_alloc <= bound);
  CHECK(worst_free <= bound);
  CHECK_EQ(pargc_gpu_buddy_check(&tree, 1, &avail), 0);
}

int main(void)
{
  test_sequential();
  test_threads(1u << LEVELS);
  test_threads(3000);   /* the small blocks fill a pool of 3000 leaves */
  test_threads(300);    /* contention and many NULLs */
  test_fill(1u << LEVELS);
  test_fill(2500);
  test_reads(16, 0);
  test_reads(20, 1);
  free(words);
  free(leaf_owner);
  return CHECK_SUMMARY();
}
