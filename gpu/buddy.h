/* gpu/buddy.h -- the concurrent buddy allocator over a static tree that
 * serves large objects and the 512 KiB chunks that small bins come from.
 *
 * Job: allocate and free power-of-two blocks of the pool, from one leaf
 * (PARGC_GPU_BIN_SIZE, 4 KiB) up to the whole pool, from any number of
 * threads at once, merging buddies on free.  Gelado & Garland (PPoPP 2019,
 * sec. 4.3, "TBuddy") describe a static binary tree whose nodes are
 * available, partially used or busy, updated by locking a node and its
 * parent; we keep their static tree and three states but replace the two
 * node locks by a lock-free protocol that leans on one fact of the
 * encoding: the two children of a node live in the same 32-bit word.
 *
 * Encoding: node 1 is the root; node n has children 2n and 2n+1; a node at
 * depth k covers 2^(levels-k) leaves.  Each node has 2 bits, 16 nodes per
 * word, so siblings (2m, 2m+1) always share a word and a single CAS can
 * test-and-change a buddy pair.  The tree for a 140 GiB pool (2^23 leaves)
 * takes 4 MiB.
 *
 * States:
 *   ABSENT  (0) the node is not a block of its own: its parent is FREE or
 *               BUSY, or a split/merge of the parent is under way.
 *   FREE    (1) the whole block is available.
 *   PARTIAL (2) split: the children are the blocks.
 *   BUSY    (3) the whole block is allocated (or lies past the pool end).
 *
 * Invariants:
 *  (I1) a pair of children is non-ABSENT only while their parent is
 *       PARTIAL: split sets the parent PARTIAL *then* the pair FREE; merge
 *       sets the pair ABSENT *then* the parent FREE.
 *  (I2) hence a successful CAS of a child FREE -> BUSY happens while the
 *       parent is PARTIAL, and no merge can have consumed that child: the
 *       merge's pair CAS (FREE,FREE) -> (ABSENT,ABSENT) and the allocation
 *       CAS touch the same word, so one of them fails.
 *  (I3) below a FREE or BUSY node everything is ABSENT, so free() finds the
 *       block of an address by walking up from its leaf to the first node
 *       that is not ABSENT -- no size is stored anywhere.
 * A thread that meets an ABSENT node whose parent is still PARTIAL is
 * inside somebody's split or merge window and waits for it (a few
 * instructions); otherwise it retries at the parent.  allocation returns 0
 * only after a full traversal found no FREE block of the size it wants.
 */
#ifndef PARGC_GPU_BUDDY_H
#define PARGC_GPU_BUDDY_H

#include "gpu/atomics.h"

enum {
  PARGC_GPU_BUDDY_ABSENT = 0,
  PARGC_GPU_BUDDY_FREE = 1,
  PARGC_GPU_BUDDY_PARTIAL = 2,
  PARGC_GPU_BUDDY_BUSY = 3
};

typedef struct pargc_gpu_buddy {
  uint32_t *words;    /* 2 bits per node, node n at bits 2*(n%16) of n/16 */
  uint32_t levels;    /* depth of the leaves; the tree has 2^(levels+1) nodes */
  uint32_t leaf_shift; /* log2 of the leaf (smallest block) size */
  uint32_t usable_leaves; /* leaves inside the pool; the rest are BUSY */
} pargc_gpu_buddy;

static inline PARGC_HD uint64_t pargc_gpu_buddy_nwords(uint32_t levels)
{
  return ((uint64_t)2 << levels) / 16 + 1;
}

static inline PARGC_HD uint32_t pargc_gpu_buddy_state_in(uint32_t w, uint64_t n)
{
  return (w >> ((n & 15) * 2)) & 3u;
}

static inline PARGC_HD uint32_t pargc_gpu_buddy_get(const pargc_gpu_buddy *b, uint64_t n)
{
  return pargc_gpu_buddy_state_in(pargc_gpu_load32(&b->words[n >> 4]), n);
}

/* Change node n from `from` to `to`, leaving its 15 neighbours alone.
 * Returns the state found: `from` on success, something else on failure. */
static inline PARGC_HD uint32_t pargc_gpu_buddy_cas(const pargc_gpu_buddy *b, uint64_t n,
                                                    uint32_t from, uint32_t to)
{
  uint32_t *w = &b->words[n >> 4];
  uint32_t sh = (uint32_t)(n & 15) * 2;
  uint32_t cur = pargc_gpu_load32(w);
  for (;;) {
    uint32_t st = (cur >> sh) & 3u;
    if (st != from)
      return st;
    uint32_t old = pargc_gpu_cas32(w, cur, (cur & ~(3u << sh)) | (to << sh));
    if (old == cur)
      return from;
    cur = old;
  }
}

/* Same for the buddy pair (left, left+1), left even: both must match. */
static inline PARGC_HD int pargc_gpu_buddy_cas_pair(const pargc_gpu_buddy *b, uint64_t left,
                                                    uint32_t from, uint32_t to)
{
  uint32_t *w = &b->words[left >> 4];
  uint32_t sh = (uint32_t)(left & 15) * 2;
  uint32_t pfrom = from | from << 2, pto = to | to << 2;
  uint32_t cur = pargc_gpu_load32(w);
  for (;;) {
    if (((cur >> sh) & 15u) != pfrom)
      return 0;
    uint32_t old = pargc_gpu_cas32(w, cur, (cur & ~(15u << sh)) | (pto << sh));
    if (old == cur)
      return 1;
    cur = old;
  }
}

static inline PARGC_HD uint32_t pargc_gpu_buddy_depth(uint64_t n)
{
  return (uint32_t)pargc_gpu_log2_64(n);
}

/* Byte offset of node n's block from the pool base. */
static inline PARGC_HD uint64_t pargc_gpu_buddy_offset(const pargc_gpu_buddy *b, uint64_t n)
{
  uint32_t k = pargc_gpu_buddy_depth(n);
  return (n - ((uint64_t)1 << k)) << (b->leaf_shift + b->levels - k);
}

/* Depth whose blocks are the smallest holding `size` bytes; -1 if none. */
static inline PARGC_HD int pargc_gpu_buddy_depth_for(const pargc_gpu_buddy *b, uint64_t size)
{
  uint64_t leaves = (size + ((uint64_t)1 << b->leaf_shift) - 1) >> b->leaf_shift;
  int up = leaves <= 1 ? 0 : pargc_gpu_log2_64(leaves - 1) + 1;
  return up > (int)b->levels ? -1 : (int)b->levels - up;
}

/* The real node behind virtual node v: the path bits are XORed with the
 * top bits of hint, so threads with different hints start their search in
 * different subtrees (less contention) while hint 0 is plain first fit. */
static inline PARGC_HD uint64_t pargc_gpu_buddy_real(uint64_t v, uint32_t hint)
{
  uint32_t k = pargc_gpu_buddy_depth(v);
  if (k == 0 || hint == 0)
    return v;
  uint64_t flip = k >= 32 ? (uint64_t)hint << (k - 32) : (uint64_t)(hint >> (32 - k));
  return v ^ flip;
}

/* Allocate a block at `depth`; returns its node or 0 when none is FREE. */
static inline PARGC_HD uint64_t pargc_gpu_buddy_alloc(const pargc_gpu_buddy *b, uint32_t depth,
                                                       uint32_t hint)
{
  uint64_t v = 1;
  for (;;) {
    uint64_t n = pargc_gpu_buddy_real(v, hint);
    uint32_t k = pargc_gpu_buddy_depth(v);
    uint32_t s = pargc_gpu_buddy_get(b, n);
    if (s == PARGC_GPU_BUDDY_FREE) {
      if (k == depth) {
        if (pargc_gpu_buddy_cas(b, n, PARGC_GPU_BUDDY_FREE, PARGC_GPU_BUDDY_BUSY) ==
            PARGC_GPU_BUDDY_FREE)
          return n;
        continue;  /* lost the race: look at n again */
      }
      if (pargc_gpu_buddy_cas(b, n, PARGC_GPU_BUDDY_FREE, PARGC_GPU_BUDDY_PARTIAL) !=
          PARGC_GPU_BUDDY_FREE)
        continue;
      /* (I1): parent PARTIAL first, then the pair becomes FREE.  Nobody
       * else can touch an ABSENT pair under a node that was FREE. */
      pargc_gpu_buddy_cas_pair(b, 2 * n, PARGC_GPU_BUDDY_ABSENT, PARGC_GPU_BUDDY_FREE);
      v = 2 * v;
      continue;
    }
    if (s == PARGC_GPU_BUDDY_PARTIAL && k < depth) {
      v = 2 * v;
      continue;
    }
    if (s == PARGC_GPU_BUDDY_ABSENT && v > 1) {
      /* Inside a split or merge of the parent: wait while the parent is
       * PARTIAL (the window closes in a few instructions); once it is not,
       * re-examine the parent itself. */
      uint64_t p = pargc_gpu_buddy_real(v >> 1, hint);
      if (pargc_gpu_buddy_get(b, p) == PARGC_GPU_BUDDY_PARTIAL)
        pargc_gpu_relax();
      else
        v >>= 1;
      continue;
    }
    /* BUSY, or PARTIAL at the wanted depth: next subtree in DFS order. */
    while (v & 1)
      v >>= 1;
    if (v <= 1)
      return 0;
    v += 1;
  }
}

/* Free the block of node n (BUSY), merging buddies upwards. */
static inline PARGC_HD void pargc_gpu_buddy_free_node(const pargc_gpu_buddy *b, uint64_t n)
{
  if (pargc_gpu_buddy_cas(b, n, PARGC_GPU_BUDDY_BUSY, PARGC_GPU_BUDDY_FREE) != PARGC_GPU_BUDDY_BUSY)
    return;   /* not an allocated block (double free): leave the tree alone */
  while (n > 1) {
    /* (I1) again, in reverse: the pair goes ABSENT in one CAS that fails if
     * anyone took either half meanwhile; then the parent becomes FREE. */
    if (!pargc_gpu_buddy_cas_pair(b, n & ~(uint64_t)1, PARGC_GPU_BUDDY_FREE, PARGC_GPU_BUDDY_ABSENT))
      return;
    n >>= 1;
    pargc_gpu_buddy_cas(b, n, PARGC_GPU_BUDDY_PARTIAL, PARGC_GPU_BUDDY_FREE);
  }
}

/* Node of the block that starts at byte offset off, or 0 if none (I3). */
static inline PARGC_HD uint64_t pargc_gpu_buddy_node_at(const pargc_gpu_buddy *b, uint64_t off)
{
  uint64_t n = ((uint64_t)1 << b->levels) + (off >> b->leaf_shift);
  while (n >= 1 && pargc_gpu_buddy_get(b, n) == PARGC_GPU_BUDDY_ABSENT)
    n >>= 1;
  if (n == 0 || pargc_gpu_buddy_get(b, n) != PARGC_GPU_BUDDY_BUSY ||
      pargc_gpu_buddy_offset(b, n) != off)
    return 0;
  return n;
}

/* Host-side set-up of a tree whose first `usable_leaves` leaves are the
 * pool: nodes wholly inside are FREE, wholly outside BUSY, straddling
 * ones PARTIAL.  words must hold pargc_gpu_buddy_nwords(levels) zeroed
 * words.  Not thread-safe; runs before the tree is shared. */
static inline void pargc_gpu_buddy_init_node(pargc_gpu_buddy *b, uint64_t n, uint64_t lo,
                                             uint64_t hi)
{
  uint32_t st;
  if (hi <= b->usable_leaves)
    st = PARGC_GPU_BUDDY_FREE;
  else if (lo >= b->usable_leaves)
    st = PARGC_GPU_BUDDY_BUSY;
  else
    st = PARGC_GPU_BUDDY_PARTIAL;
  b->words[n >> 4] |= st << ((n & 15) * 2);
  if (st == PARGC_GPU_BUDDY_PARTIAL) {
    uint64_t mid = (lo + hi) / 2;
    pargc_gpu_buddy_init_node(b, 2 * n, lo, mid);
    pargc_gpu_buddy_init_node(b, 2 * n + 1, mid, hi);
  }
}

static inline void pargc_gpu_buddy_init(pargc_gpu_buddy *b, uint32_t *words, uint32_t levels,
                                        uint32_t leaf_shift, uint32_t usable_leaves)
{
  b->words = words;
  b->levels = levels;
  b->leaf_shift = leaf_shift;
  b->usable_leaves = usable_leaves;
  pargc_gpu_buddy_init_node(b, 1, 0, (uint64_t)1 << levels);
}

/* Host-side census (tree quiescent): leaves allocated inside the pool,
 * and the size in leaves of the largest FREE block. */
static inline void pargc_gpu_buddy_census(const pargc_gpu_buddy *b, uint64_t n, uint64_t *busy,
                                          uint64_t *largest_free)
{
  uint32_t k = pargc_gpu_buddy_depth(n);
  uint64_t leaves = (uint64_t)1 << (b->levels - k);
  uint64_t lo = (n - ((uint64_t)1 << k)) * leaves;
  uint32_t s = pargc_gpu_buddy_state_in(b->words[n >> 4], n);
  if (s == PARGC_GPU_BUDDY_BUSY) {
    if (lo < b->usable_leaves)
      *busy += (lo + leaves <= b->usable_leaves ? leaves : b->usable_leaves - lo);
  } else if (s == PARGC_GPU_BUDDY_FREE) {
    if (leaves > *largest_free)
      *largest_free = leaves;
  } else if (s == PARGC_GPU_BUDDY_PARTIAL) {
    pargc_gpu_buddy_census(b, 2 * n, busy, largest_free);
    pargc_gpu_buddy_census(b, 2 * n + 1, busy, largest_free);
  }
}

#endif
