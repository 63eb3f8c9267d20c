/* Unit test for gpu/buddy.h, compiled as host C: set-up of trees whose
 * pool is not a power of two, sequential first fit and merging, then
 * threads allocating and freeing random sizes with random search hints
 * while an ownership map of the leaves checks that no two live blocks
 * overlap; at the end everything must have merged back into the initial
 * tree, and a pool-sized allocation must succeed. */
#include "config.h"
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
  pargc_gpu_buddy_free_node(&tree, a);
  pargc_gpu_buddy_free_node(&tree, c);
  pargc_gpu_buddy_free_node(&tree, b);
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
  /* Every buddy merged back: the tree is bit for bit the initial one. */
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
}

int main(void)
{
  test_sequential();
  test_threads(1u << LEVELS);
  test_threads(3000);   /* the small blocks fill a pool of 3000 leaves */
  test_threads(300);    /* contention and many NULLs */
  test_fill(1u << LEVELS);
  test_fill(2500);
  free(words);
  free(leaf_owner);
  return CHECK_SUMMARY();
}
