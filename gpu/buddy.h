/* gpu/buddy.h -- the concurrent buddy allocator over a static tree that
 * serves large objects and the 512 KiB chunks that small bins come from.
 *
 * Job: allocate and free power-of-two blocks of the pool, from one leaf
 * (PARGC_GPU_BIN_SIZE, 4 KiB) up to the whole pool, from any number of
 * threads at once, merging buddies on free, in O(depth) steps.  Gelado &
 * Garland (PPoPP 2019, sec. 4.3, "TBuddy") describe a static binary tree
 * whose nodes are available, partially used or busy, updated by locking a
 * node and its parent; we keep their static tree and three states but
 * replace the two node locks by a lock-free protocol that leans on one
 * fact of the encoding: the two children of a node live in the same
 * 32-bit word.
 *
 * Encoding: node 1 is the root; node n has children 2n and 2n+1; a node at
 * depth k has height levels-k and covers 2^(levels-k) leaves.  Each node
 * has one byte, four nodes per word, so siblings (2m, 2m+1) always share a
 * word and a single CAS can test-and-change a buddy pair.  The byte holds
 * the node's state (2 bits) and its summary `avail` (6 bits): 1 + the
 * height of the largest FREE block in its subtree, 0 if there is none
 * (the classic "longest free block" array of sequential buddy allocators,
 * made concurrent below).  The tree for a 139 GiB pool (2^26 leaves) takes
 * 128 MiB, 0.09% of the pool.
 *
 * States:
 *   ABSENT  (0) the node is not a block of its own: its parent is FREE or
 *               BUSY, or a split/merge of the parent is under way.
 *   FREE    (1) the whole block is available; avail = height + 1.
 *   PARTIAL (2) split: the children are the blocks; avail = the larger of
 *               the children's (a hint, see below).
 *   BUSY    (3) the whole block is allocated (or lies past the pool end);
 *               avail = 0.
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
 *  (I4) summaries: every thread that changes a node's byte (a state
 *       change, or a summary) then refreshes the summary of its parent
 *       (pargc_gpu_buddy_refresh), and goes on upwards while the summary
 *       changes.  A refresh CASes the parent and re-reads the children
 *       afterwards; if they changed meanwhile it recomputes.  So the last
 *       writer of a summary has seen the children's last value, and once
 *       the tree is quiet every summary is exact.  While threads are at
 *       work a summary may be stale in either direction for a moment: too
 *       high only costs a search a step back (it repairs the summary as it
 *       climbs); too low lasts only until the thread whose change it
 *       misses finishes its refresh.
 *
 * Search for a block of height h: from the root, go down into a child
 * whose avail is >= h + 1 (the hinted one first), splitting FREE nodes on
 * the way; one word read per level.  A node that cannot serve sends the
 * search one level up (after repairing a summary that was too high).  A
 * thread that meets an ABSENT pair under a PARTIAL node is inside
 * somebody's split or merge window and waits for it (a few instructions).
 * Allocation returns 0 only when the root's summary, read after every
 * repair on the way, says no block of that height is FREE.
 *
 * Cost (single thread, the tree quiet): a search reads 1 + depth words, and
 * the summary refresh after it at most 3 words and one CAS per level that
 * changes.  The first version had no summaries and searched depth first,
 * reading every PARTIAL node left of the first fit: filling a 4 GiB pool
 * with 4 KiB blocks read about 7e10 words, the last block alone 127 110.
 * gpu_buddy_test asserts the bound (PARGC_GPU_BUDDY_READ counts reads).
 *
 * Orders: every CAS is acq_rel.  A block is handed over from the thread
 * that freed it to the one that allocates it through a chain of CASes on
 * the block's node or on nodes above it (a merge moves the hand-over up a
 * level), each a release of the previous owner's accesses and an acquire
 * for the next.  The summary refresh pairs a CAS with a later load of
 * another word, so it puts a full fence between them (see I4).
 */
#ifndef PARGC_GPU_BUDDY_H
#define PARGC_GPU_BUDDY_H

#include "gpu/atomics.h"

/* Test hook: called once per load or CAS of a tree word, so the CPU test
 * can count the words a search reads; nothing unless the includer
 * defines it. */
#ifndef PARGC_GPU_BUDDY_READ
#define PARGC_GPU_BUDDY_READ() ((void)0)
#endif

enum {
  PARGC_GPU_BUDDY_ABSENT = 0,
  PARGC_GPU_BUDDY_FREE = 1,
  PARGC_GPU_BUDDY_PARTIAL = 2,
  PARGC_GPU_BUDDY_BUSY = 3
};

typedef struct pargc_gpu_buddy {
  uint32_t *words;    /* 1 byte per node, node n in byte n%4 of word n/4 */
  uint32_t levels;    /* depth of the leaves; the tree has 2^(levels+1) nodes */
  uint32_t leaf_shift; /* log2 of the leaf (smallest block) size */
  uint32_t usable_leaves; /* leaves inside the pool; the rest are BUSY */
} pargc_gpu_buddy;

static inline PARGC_HD uint64_t pargc_gpu_buddy_nwords(uint32_t levels)
{
  return ((uint64_t)2 << levels) / 4 + 1;
}

/* A node's byte: state in bits 0-1, avail in bits 2-7. */
static inline PARGC_HD uint32_t pargc_gpu_buddy_field(uint32_t state, uint32_t avail)
{
  return state | avail << 2;
}

static inline PARGC_HD uint32_t pargc_gpu_buddy_field_in(uint32_t w, uint64_t n)
{
  return (w >> ((n & 3) * 8)) & 0xFFu;
}

static inline PARGC_HD uint32_t pargc_gpu_buddy_state_in(uint32_t w, uint64_t n)
{
  return pargc_gpu_buddy_field_in(w, n) & 3u;
}

static inline PARGC_HD uint32_t pargc_gpu_buddy_avail_in(uint32_t w, uint64_t n)
{
  return pargc_gpu_buddy_field_in(w, n) >> 2;
}

/* The word that holds node n (and its sibling). */
static inline PARGC_HD uint32_t pargc_gpu_buddy_word(const pargc_gpu_buddy *b, uint64_t n)
{
  PARGC_GPU_BUDDY_READ();
  return pargc_gpu_load32(&b->words[n >> 2]);
}

static inline PARGC_HD uint32_t pargc_gpu_buddy_get(const pargc_gpu_buddy *b, uint64_t n)
{
  return pargc_gpu_buddy_state_in(pargc_gpu_buddy_word(b, n), n);
}

static inline PARGC_HD uint32_t pargc_gpu_buddy_depth(uint64_t n)
{
  return (uint32_t)pargc_gpu_log2_64(n);
}

static inline PARGC_HD uint32_t pargc_gpu_buddy_height(const pargc_gpu_buddy *b, uint64_t n)
{
  return b->levels - pargc_gpu_buddy_depth(n);
}

/* The byte of a FREE node of height h. */
static inline PARGC_HD uint32_t pargc_gpu_buddy_free_field(uint32_t h)
{
  return pargc_gpu_buddy_field(PARGC_GPU_BUDDY_FREE, h + 1);
}

/* Change node n's byte to `to` if its state is `from`, leaving its three
 * neighbours alone.  Returns the state found: `from` on success. */
static inline PARGC_HD uint32_t pargc_gpu_buddy_cas(const pargc_gpu_buddy *b, uint64_t n,
                                                    uint32_t from, uint32_t to)
{
  uint32_t *w = &b->words[n >> 2];
  uint32_t sh = (uint32_t)(n & 3) * 8;
  uint32_t cur = pargc_gpu_buddy_word(b, n);
  for (;;) {
    uint32_t st = (cur >> sh) & 3u;
    if (st != from)
      return st;
    PARGC_GPU_BUDDY_READ();
    uint32_t old = pargc_gpu_cas32(w, cur, (cur & ~(0xFFu << sh)) | (to << sh), PARGC_GPU_ACQ_REL);
    if (old == cur)
      return from;
    cur = old;
  }
}

/* Change the buddy pair (left, left+1), left even, from the two bytes
 * `from` (left's in the low byte) to `to`; 1 on success. */
static inline PARGC_HD int pargc_gpu_buddy_cas_pair(const pargc_gpu_buddy *b, uint64_t left,
                                                    uint32_t from, uint32_t to)
{
  uint32_t *w = &b->words[left >> 2];
  uint32_t sh = (uint32_t)(left & 3) * 8;
  uint32_t cur = pargc_gpu_buddy_word(b, left);
  for (;;) {
    if (((cur >> sh) & 0xFFFFu) != from)
      return 0;
    PARGC_GPU_BUDDY_READ();
    uint32_t old = pargc_gpu_cas32(w, cur, (cur & ~(0xFFFFu << sh)) | (to << sh), PARGC_GPU_ACQ_REL);
    if (old == cur)
      return 1;
    cur = old;
  }
}

/* The pair (2n, 2n+1) as 16 bits of the word w that holds it. */
static inline PARGC_HD uint32_t pargc_gpu_buddy_pair_in(uint32_t w, uint64_t left)
{
  return (w >> ((left & 3) * 8)) & 0xFFFFu;
}

/* (I4) Make PARTIAL node n's avail the larger of its children's.  Returns
 * 1 if this call changed it.  After its CAS it re-reads the children: a
 * change it missed is either seen now, and recomputed, or made after the
 * re-read, and then its maker's refresh sees our CAS. */
static inline PARGC_HD int pargc_gpu_buddy_refresh(const pargc_gpu_buddy *b, uint64_t n)
{
  uint64_t l = 2 * n;
  uint32_t cw = pargc_gpu_buddy_word(b, l), changed = 0;
  for (;;) {
    uint32_t al = pargc_gpu_buddy_avail_in(cw, l), ar = pargc_gpu_buddy_avail_in(cw, l + 1);
    uint32_t want = al > ar ? al : ar;
    uint32_t *w = &b->words[n >> 2];
    uint32_t sh = (uint32_t)(n & 3) * 8;
    uint32_t pw = pargc_gpu_buddy_word(b, n);
    uint32_t f = (pw >> sh) & 0xFFu;
    if ((f & 3u) != PARGC_GPU_BUDDY_PARTIAL || f >> 2 == want)
      return (int)changed;
    PARGC_GPU_BUDDY_READ();
    uint32_t nf = pargc_gpu_buddy_field(PARGC_GPU_BUDDY_PARTIAL, want);
    if (pargc_gpu_cas32(w, pw, (pw & ~(0xFFu << sh)) | (nf << sh), PARGC_GPU_ACQ_REL) != pw)
      continue;   /* n's word moved (n or a neighbour): look again */
    changed = 1;
    pargc_gpu_fence();   /* our CAS before the re-read (store -> load) */
    uint32_t cw2 = pargc_gpu_buddy_word(b, l);
    if (pargc_gpu_buddy_pair_in(cw2, l) == pargc_gpu_buddy_pair_in(cw, l))
      return 1;
    cw = cw2;
  }
}

/* After an operation changed the bytes of n and of its ancestors up to
 * `top` (the highest node whose state it set), refresh the summaries
 * above n: up to top's parent whatever happens, then while they change. */
static inline PARGC_HD void pargc_gpu_buddy_fix_up(const pargc_gpu_buddy *b, uint64_t n,
                                                   uint64_t top)
{
  pargc_gpu_fence();     /* our state change before reading parents */
  for (uint64_t p = n >> 1; p >= 1; p >>= 1)
    if (!pargc_gpu_buddy_refresh(b, p) && p < top)
      break;
}

/* Byte offset of node n's block from the pool base. */
static inline PARGC_HD uint64_t pargc_gpu_buddy_offset(const pargc_gpu_buddy *b, uint64_t n)
{
  uint32_t k = pargc_gpu_buddy_depth(n);
  return (n - ((uint64_t)1 << k)) << (b->leaf_shift + b->levels - k);
}

/* Depth whose blocks are the smallest holding `size` bytes; -1 if none.
 * Sizes beyond the whole tree are refused before any rounding, so that
 * SIZE_MAX (or a negative int converted to size_t) cannot wrap around to
 * one leaf. */
static inline PARGC_HD int pargc_gpu_buddy_depth_for(const pargc_gpu_buddy *b, uint64_t size)
{
  if (size > (uint64_t)1 << (b->levels + b->leaf_shift))
    return -1;
  uint64_t leaves = (size + ((uint64_t)1 << b->leaf_shift) - 1) >> b->leaf_shift;
  int up = leaves <= 1 ? 0 : pargc_gpu_log2_64(leaves - 1) + 1;
  return up > (int)b->levels ? -1 : (int)b->levels - up;
}

/* Which child of a node at depth k the search tries first: bit 31-k of
 * hint, so threads with different hints start in different subtrees (less
 * contention at the top) while hint 0 is plain first fit. */
static inline PARGC_HD uint64_t pargc_gpu_buddy_pref(uint32_t k, uint32_t hint)
{
  return k < 32 ? (hint >> (31 - k)) & 1u : 0;
}

/* A byte that can hold a block needing avail >= need. */
static inline PARGC_HD int pargc_gpu_buddy_fits(uint32_t f, uint32_t need)
{
  uint32_t st = f & 3u;
  return (st == PARGC_GPU_BUDDY_FREE || st == PARGC_GPU_BUDDY_PARTIAL) && f >> 2 >= need;
}

/* Allocate a block at `depth`; returns its node or 0 when none is FREE. */
static inline PARGC_HD uint64_t pargc_gpu_buddy_alloc(const pargc_gpu_buddy *b, uint32_t depth,
                                                       uint32_t hint)
{
  uint32_t need = b->levels - depth + 1;
  uint64_t n = 1, top = 0;
  uint32_t w = pargc_gpu_buddy_word(b, 1);
  for (;;) {
    uint32_t f = pargc_gpu_buddy_field_in(w, n), st = f & 3u;
    uint32_t k = pargc_gpu_buddy_depth(n);
    if (st == PARGC_GPU_BUDDY_FREE) {
      if (k == depth) {
        if (pargc_gpu_buddy_cas(b, n, PARGC_GPU_BUDDY_FREE,
                                pargc_gpu_buddy_field(PARGC_GPU_BUDDY_BUSY, 0)) ==
            PARGC_GPU_BUDDY_FREE) {
          pargc_gpu_buddy_fix_up(b, n, top ? top : n);
          return n;
        }
        w = pargc_gpu_buddy_word(b, n);   /* lost the race: look at n again */
        continue;
      }
      uint32_t h = b->levels - k;
      if (pargc_gpu_buddy_cas(b, n, PARGC_GPU_BUDDY_FREE,
                              pargc_gpu_buddy_field(PARGC_GPU_BUDDY_PARTIAL, h)) !=
          PARGC_GPU_BUDDY_FREE) {
        w = pargc_gpu_buddy_word(b, n);
        continue;
      }
      if (!top)
        top = n;
      /* (I1): parent PARTIAL first, then the pair becomes FREE.  Nobody
       * else can touch an ABSENT pair under a node that was FREE. */
      uint64_t l = 2 * n;
      uint32_t cf = pargc_gpu_buddy_free_field(h - 1), pair = cf | cf << 8;
      pargc_gpu_buddy_cas_pair(b, l, 0, pair);
      n = l + pargc_gpu_buddy_pref(k, hint);
      w = pair << ((l & 3) * 8);   /* what we just wrote: no read */
      continue;
    }
    if (st == PARGC_GPU_BUDDY_PARTIAL && k < depth && f >> 2 >= need) {
      uint64_t l = 2 * n, c = l + pargc_gpu_buddy_pref(k, hint);
      uint32_t cw = pargc_gpu_buddy_word(b, l);
      if (pargc_gpu_buddy_fits(pargc_gpu_buddy_field_in(cw, c), need)) {
        n = c;
        w = cw;
        continue;
      }
      if (pargc_gpu_buddy_fits(pargc_gpu_buddy_field_in(cw, c ^ 1), need)) {
        n = c ^ 1;
        w = cw;
        continue;
      }
      if (pargc_gpu_buddy_pair_in(cw, l) == 0)
        pargc_gpu_relax();   /* inside a split or merge of n: it ends soon */
      else if (pargc_gpu_buddy_refresh(b, n))   /* n's summary was too high */
        pargc_gpu_buddy_fix_up(b, n, n);
      w = pargc_gpu_buddy_word(b, n);
      continue;
    }
    /* n cannot serve (BUSY, ABSENT, too small, taken meanwhile): go up,
     * where the parent is looked at afresh. */
    if (n == 1)
      return 0;
    n >>= 1;
    w = pargc_gpu_buddy_word(b, n);
  }
}

/* Free the block of node n (BUSY), merging buddies upwards.  Returns 0,
 * changing nothing, if n was not an allocated block. */
static inline PARGC_HD int pargc_gpu_buddy_free_node(const pargc_gpu_buddy *b, uint64_t n)
{
  uint32_t h = pargc_gpu_buddy_height(b, n);
  if (pargc_gpu_buddy_cas(b, n, PARGC_GPU_BUDDY_BUSY, pargc_gpu_buddy_free_field(h)) !=
      PARGC_GPU_BUDDY_BUSY)
    return 0;
  while (n > 1) {
    /* (I1) again, in reverse: the pair goes ABSENT in one CAS that fails if
     * anyone took either half meanwhile; then the parent becomes FREE. */
    uint32_t ff = pargc_gpu_buddy_free_field(h);
    if (!pargc_gpu_buddy_cas_pair(b, n & ~(uint64_t)1, ff | ff << 8, 0))
      break;
    n >>= 1;
    h++;
    pargc_gpu_buddy_cas(b, n, PARGC_GPU_BUDDY_PARTIAL, pargc_gpu_buddy_free_field(h));
  }
  pargc_gpu_buddy_fix_up(b, n, n);
  return 1;
}

/* Node of the block that starts at byte offset off, or 0 if none (I3). */
static inline PARGC_HD uint64_t pargc_gpu_buddy_node_at(const pargc_gpu_buddy *b, uint64_t off)
{
  if (off >> b->leaf_shift >= b->usable_leaves)
    return 0;
  uint64_t n = ((uint64_t)1 << b->levels) + (off >> b->leaf_shift);
  uint32_t st = PARGC_GPU_BUDDY_ABSENT;
  while (n >= 1 && (st = pargc_gpu_buddy_get(b, n)) == PARGC_GPU_BUDDY_ABSENT)
    n >>= 1;
  if (n == 0 || st != PARGC_GPU_BUDDY_BUSY || pargc_gpu_buddy_offset(b, n) != off)
    return 0;
  return n;
}

/* Host-side set-up of a tree whose first `usable_leaves` leaves are the
 * pool: nodes wholly inside are FREE, wholly outside BUSY, straddling
 * ones PARTIAL, with exact summaries.  words must hold
 * pargc_gpu_buddy_nwords(levels) zeroed words.  Not thread-safe; runs
 * before the tree is shared.  Returns n's avail. */
static inline uint32_t pargc_gpu_buddy_init_node(pargc_gpu_buddy *b, uint64_t n, uint64_t lo,
                                                 uint64_t hi)
{
  uint32_t f;
  if (hi <= b->usable_leaves) {
    f = pargc_gpu_buddy_free_field(pargc_gpu_buddy_height(b, n));
  } else if (lo >= b->usable_leaves) {
    f = pargc_gpu_buddy_field(PARGC_GPU_BUDDY_BUSY, 0);
  } else {
    uint64_t mid = (lo + hi) / 2;
    uint32_t al = pargc_gpu_buddy_init_node(b, 2 * n, lo, mid);
    uint32_t ar = pargc_gpu_buddy_init_node(b, 2 * n + 1, mid, hi);
    f = pargc_gpu_buddy_field(PARGC_GPU_BUDDY_PARTIAL, al > ar ? al : ar);
  }
  b->words[n >> 2] |= f << ((n & 3) * 8);
  return f >> 2;
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
  uint32_t s = pargc_gpu_buddy_state_in(b->words[n >> 2], n);
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

/* Host-side check (tree quiescent): every summary is exact.  Returns the
 * number of nodes whose avail differs from what their subtree holds. */
static inline uint64_t pargc_gpu_buddy_check(const pargc_gpu_buddy *b, uint64_t n,
                                             uint32_t *avail)
{
  uint32_t f = pargc_gpu_buddy_field_in(b->words[n >> 2], n), st = f & 3u;
  if (st != PARGC_GPU_BUDDY_PARTIAL) {
    *avail = st == PARGC_GPU_BUDDY_FREE ? pargc_gpu_buddy_height(b, n) + 1 : 0;
    return (f >> 2) != *avail;
  }
  uint32_t al, ar;
  uint64_t bad = pargc_gpu_buddy_check(b, 2 * n, &al) + pargc_gpu_buddy_check(b, 2 * n + 1, &ar);
  *avail = al > ar ? al : ar;
  return bad + ((f >> 2) != *avail);
}

#endif
