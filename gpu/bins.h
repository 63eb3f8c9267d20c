/* gpu/bins.h -- chunks, bins and bin lists of the small-object side:
 * refill, RCU-protected list walks, removal of empty bins, trimming.
 *
 * Job: everything about small objects that does not depend on warps, so
 * that it compiles both into gpu/device.cu (as __device__ code working on
 * the heap in constant memory) and into the CPU test
 * tests/unit/gpu_bins_test.c (as host code on a heap in host memory,
 * hammered by pthreads that play warp leaders).  The includer defines
 *   PARGC_GPU_HEAP  an lvalue of type pargc_gpu_devheap, the heap in use
 *   PARGC_GPU_FN    the storage class and space of the functions
 * before including this file.  Structures and invariants: gpu/heap.h.
 *
 * The allocation protocol for a group of n requests of class c on arena a
 * (list li = a * NCLASSES + c), done by the group's leader:
 *   pargc_gpu_bins_reserve  n slots from the list's bulk semaphore,
 *                           refilling the list with fresh bins if told to;
 *   pargc_gpu_rcu_enter     then pargc_gpu_bins_scan until n bits are
 *                           claimed, then pargc_gpu_rcu_exit.
 * Freeing: pargc_gpu_bitmap_release the slots' bits, fence,
 * pargc_gpu_sem_signal, then pargc_gpu_bins_freed to see whether the bin
 * went empty and may leave the list.
 */
#ifndef PARGC_GPU_BINS_H
#define PARGC_GPU_BINS_H

#include "gpu/heap.h"

#if !defined(PARGC_GPU_HEAP) || !defined(PARGC_GPU_FN)
#error "define PARGC_GPU_HEAP and PARGC_GPU_FN before including gpu/bins.h"
#endif

/* Test hook: PARGC_GPU_TRACE(event) is called at the rare events below
 * (bin unlinked, bin recycled, chunk retired); it compiles to nothing
 * unless the includer defines it. */
#ifndef PARGC_GPU_TRACE
#define PARGC_GPU_TRACE(event) ((void)0)
#endif
enum { PARGC_GPU_TRACE_UNLINK, PARGC_GPU_TRACE_RECYCLE, PARGC_GPU_TRACE_RETIRE, PARGC_GPU_TRACE_EVENTS };

#if defined(__CUDA_ARCH__)
#define PARGC_GPU_NOINLINE __noinline__
#else
#define PARGC_GPU_NOINLINE
#endif

/* Bits of a bin's word w that stay set forever (slots past the end). */
PARGC_GPU_FN uint32_t pargc_gpu_bins_tail(uint32_t slots, uint32_t w)
{
  uint32_t lo = w * 32;
  return slots >= lo + 32 ? 0u : ~0u << (slots - lo);
}

PARGC_GPU_FN uint32_t pargc_gpu_bins_words(uint32_t slots)
{
  return (slots + 31) / 32;
}

/* ---- chunks ------------------------------------------------------------ */

PARGC_GPU_FN void pargc_gpu_chunk_retire(uint32_t ci)
{
  /* Only an idle chunk (no bins, not current, not retired: state 0) goes
   * back to the buddy tree; the CAS fails if anybody claims meanwhile. */
  if (pargc_gpu_cas32(&PARGC_GPU_HEAP.chunks[ci].state, 0, PARGC_GPU_CHUNK_RETIRED) == 0) {
    pargc_gpu_fence();
    PARGC_GPU_TRACE(PARGC_GPU_TRACE_RETIRE);
    pargc_gpu_buddy_free_node(&PARGC_GPU_HEAP.buddy, ((uint64_t)1 << PARGC_GPU_HEAP.chunk_depth) + ci);
  }
}

PARGC_GPU_FN void pargc_gpu_chunk_unuse(uint32_t ci)
{
  uint32_t r = pargc_gpu_add32(&PARGC_GPU_HEAP.chunks[ci].state, 0xFFFFFFFFu) - 1;
  if (r == 0)
    pargc_gpu_chunk_retire(ci);
}

PARGC_GPU_FN void pargc_gpu_chunk_uncurrent(uint32_t ci)
{
  uint32_t r = pargc_gpu_and32(&PARGC_GPU_HEAP.chunks[ci].state, ~PARGC_GPU_CHUNK_CURRENT);
  if ((r & ~PARGC_GPU_CHUNK_CURRENT) == 0)
    pargc_gpu_chunk_retire(ci);
}

/* Take one free bin of chunk ci; PARGC_GPU_NONE if it has none or is not
 * a bin chunk (retired). */
PARGC_GPU_FN uint32_t pargc_gpu_chunk_take(uint32_t ci)
{
  pargc_gpu_chunk *c = &PARGC_GPU_HEAP.chunks[ci];
  uint32_t st = pargc_gpu_add32(&c->state, 1);
  if (st & PARGC_GPU_CHUNK_RETIRED) {
    pargc_gpu_add32(&c->state, 0xFFFFFFFFu);
    return PARGC_GPU_NONE;
  }
  for (uint32_t w = 0; w < PARGC_GPU_BINS_PER_CHUNK / 32; w++) {
    uint32_t got = pargc_gpu_bitmap_claim(&c->bins[w], 1);
    if (got)
      return ci * PARGC_GPU_BINS_PER_CHUNK + w * 32 + (uint32_t)pargc_gpu_ctz32(got);
  }
  pargc_gpu_chunk_unuse(ci);
  return PARGC_GPU_NONE;
}

PARGC_GPU_FN void pargc_gpu_chunk_put(uint32_t b)
{
  uint32_t ci = b / PARGC_GPU_BINS_PER_CHUNK, i = b % PARGC_GPU_BINS_PER_CHUNK;
  pargc_gpu_bitmap_release(&PARGC_GPU_HEAP.chunks[ci].bins[i / 32], 1u << (i % 32));
  pargc_gpu_fence();
  pargc_gpu_chunk_unuse(ci);
}

/* A chunk fresh from the buddy tree becomes the caller's current one. */
PARGC_GPU_FN void pargc_gpu_chunk_reinit(uint32_t ci)
{
  pargc_gpu_chunk *c = &PARGC_GPU_HEAP.chunks[ci];
  for (uint32_t w = 0; w < PARGC_GPU_BINS_PER_CHUNK / 32; w++)
    pargc_gpu_store32(&c->bins[w], 0);
  pargc_gpu_fence();
  /* Keep USED: a late chunk_take_bin may still undo its increment. */
  uint32_t st = pargc_gpu_load32(&c->state), old;
  while ((old = pargc_gpu_cas32(&c->state, st,
                                (st & PARGC_GPU_CHUNK_USED) | PARGC_GPU_CHUNK_CURRENT)) != st)
    st = old;
}

/* One attempt at a free bin for arena a: from its current chunk, else
 * from a new chunk, else (exhaustion) from any chunk that has one. */
PARGC_GPU_FN PARGC_GPU_NOINLINE uint32_t pargc_gpu_bins_get_once(uint32_t a)
{
  uint32_t cur = pargc_gpu_load32(&PARGC_GPU_HEAP.current[a]);
  if (cur) {
    uint32_t b = pargc_gpu_chunk_take(cur - 1);
    if (b != PARGC_GPU_NONE)
      return b;
  }
  uint64_t node = pargc_gpu_buddy_alloc(&PARGC_GPU_HEAP.buddy, PARGC_GPU_HEAP.chunk_depth, 0);
  if (node) {
    uint32_t ci = (uint32_t)(node - ((uint64_t)1 << PARGC_GPU_HEAP.chunk_depth));
    pargc_gpu_chunk_reinit(ci);
    uint32_t b = pargc_gpu_chunk_take(ci);
    if (pargc_gpu_cas32(&PARGC_GPU_HEAP.current[a], cur, ci + 1) == cur) {
      if (cur)
        pargc_gpu_chunk_uncurrent(cur - 1);
    } else {
      /* Another refiller of this arena installed a chunk first; ours
       * stays an ordinary chunk holding our bin. */
      pargc_gpu_chunk_uncurrent(ci);
    }
    return b;
  }
  for (uint32_t ci = 0; ci < PARGC_GPU_HEAP.nchunks; ci++)
    if (!(pargc_gpu_load32(&PARGC_GPU_HEAP.chunks[ci].state) & PARGC_GPU_CHUNK_RETIRED)) {
      uint32_t b = pargc_gpu_chunk_take(ci);
      if (b != PARGC_GPU_NONE)
        return b;
    }
  return PARGC_GPU_NONE;
}

/* ---- bin lists and their RCU ------------------------------------------ */

PARGC_GPU_FN uint32_t pargc_gpu_rcu_enter(pargc_gpu_binlist *L)
{
  for (;;) {
    uint32_t e = pargc_gpu_load32(&L->epoch);
    pargc_gpu_add32(&L->readers[e & 1], 1);
    pargc_gpu_fence();
    /* If a remover flipped the epoch meanwhile it may already have seen
     * our old counter at zero: enter again under the new epoch. */
    if (pargc_gpu_load32(&L->epoch) == e)
      return e & 1;
    pargc_gpu_add32(&L->readers[e & 1], 0xFFFFFFFFu);
  }
}

PARGC_GPU_FN void pargc_gpu_rcu_exit(pargc_gpu_binlist *L, uint32_t parity)
{
  pargc_gpu_fence();
  pargc_gpu_add32(&L->readers[parity], 0xFFFFFFFFu);
}

/* Under the list lock: recycle pending bins once their readers are gone,
 * then start a grace period for the bins in limbo.  Never waits. */
PARGC_GPU_FN void pargc_gpu_rcu_advance(pargc_gpu_binlist *L)
{
  /* Lock holders follow each other across SMs: the fields below are read
   * and written with volatile accesses so that no stale L1 line is used. */
  uint32_t pending = pargc_gpu_load32(&L->pending);
  if (pending) {
    if (pargc_gpu_load32(&L->readers[pargc_gpu_load32(&L->pending_parity)]) != 0)
      return;
    pargc_gpu_fence();
    for (uint32_t b = pending; b;) {
      uint32_t nb = pargc_gpu_load32(&PARGC_GPU_HEAP.bins[b - 1].retire_next);
      pargc_gpu_chunk_put(b - 1);
      PARGC_GPU_TRACE(PARGC_GPU_TRACE_RECYCLE);
      b = nb;
    }
    pargc_gpu_store32(&L->pending, 0);
  }
  uint32_t limbo = pargc_gpu_load32(&L->limbo);
  if (limbo) {
    uint32_t e = pargc_gpu_load32(&L->epoch);
    pargc_gpu_store32(&L->pending_parity, e & 1);
    pargc_gpu_store32(&L->pending, limbo);
    pargc_gpu_store32(&L->limbo, 0);
    pargc_gpu_fence();     /* the unlinks happen before the flip */
    pargc_gpu_store32(&L->epoch, e + 1);
    pargc_gpu_fence();
  }
}

PARGC_GPU_FN void pargc_gpu_bins_push(pargc_gpu_binlist *L, uint32_t b)
{
  uint32_t h = pargc_gpu_load32(&L->head), old;
  for (;;) {
    pargc_gpu_store32(&PARGC_GPU_HEAP.bins[b].next, h);
    pargc_gpu_fence();
    if ((old = pargc_gpu_cas32(&L->head, h, b + 1)) == h)
      return;
    h = old;
  }
}

/* Under the list lock; pushes may run concurrently (they touch only the
 * head).  The unlinked bin keeps its next so readers standing on it walk
 * on. */
PARGC_GPU_FN void pargc_gpu_bins_unlink(pargc_gpu_binlist *L, uint32_t b)
{
  uint32_t me = b + 1, next = pargc_gpu_load32(&PARGC_GPU_HEAP.bins[b].next);
  for (;;) {
    uint32_t h = pargc_gpu_load32(&L->head);
    if (h == me) {
      if (pargc_gpu_cas32(&L->head, me, next) == me)
        return;
      continue;
    }
    for (uint32_t p = h; p;) {
      uint32_t pn = pargc_gpu_load32(&PARGC_GPU_HEAP.bins[p - 1].next);
      if (pn == me) {
        pargc_gpu_store32(&PARGC_GPU_HEAP.bins[p - 1].next, next);
        return;
      }
      p = pn;
    }
    return;  /* not found: cannot happen while the lock is held */
  }
}

PARGC_GPU_FN void pargc_gpu_bins_init(uint32_t b, uint32_t cls, uint32_t li)
{
  pargc_gpu_bin *bin = &PARGC_GPU_HEAP.bins[b];
  pargc_gpu_bitmap_init(bin->bits, PARGC_GPU_BIN_WORDS, pargc_gpu_class_slots((int)cls));
  pargc_gpu_store32(&bin->cls, cls);
  pargc_gpu_store32(&bin->list, li);
  pargc_gpu_store32(&bin->magic, pargc_gpu_class_magic((int)cls));
  pargc_gpu_fence();
  pargc_gpu_store32(&bin->linked, 1);
}

/* With list li's lock held: take empty bin b off the list.  Claims all of
 * its slots through the semaphore first, so no reservation can be counting
 * on them, and gives up if any slot turns out to be in use. */
PARGC_GPU_FN void pargc_gpu_bins_remove_locked(uint32_t li, uint32_t b)
{
  pargc_gpu_binlist *L = &PARGC_GPU_HEAP.lists[li];
  pargc_gpu_bin *bin = &PARGC_GPU_HEAP.bins[b];
  uint32_t slots = pargc_gpu_class_slots((int)(li % PARGC_GPU_NCLASSES));
  uint32_t linked = pargc_gpu_load32(&bin->linked);
  pargc_gpu_fence();   /* bins_init writes list before linked */
  if (!linked || pargc_gpu_load32(&bin->list) != li || !pargc_gpu_sem_try(&L->sem, slots))
    return;
  /* We hold `slots` reservations: claim every bit.  If all were clear the
   * bin is ours alone. */
  uint32_t got[PARGC_GPU_BIN_WORDS], nw = pargc_gpu_bins_words(slots), whole = 1;
  for (uint32_t w = 0; w < nw; w++) {
    uint32_t old = pargc_gpu_or32(&bin->bits[w], ~0u);
    got[w] = ~old;
    whole &= old == pargc_gpu_bins_tail(slots, w);
  }
  if (whole) {
    pargc_gpu_bins_unlink(L, b);
    PARGC_GPU_TRACE(PARGC_GPU_TRACE_UNLINK);
    pargc_gpu_store32(&bin->linked, 0);
    pargc_gpu_store32(&bin->retire_next, pargc_gpu_load32(&L->limbo));
    pargc_gpu_store32(&L->limbo, b + 1);
  } else {
    for (uint32_t w = 0; w < nw; w++)
      if (got[w])
        pargc_gpu_bitmap_release(&bin->bits[w], got[w]);
    pargc_gpu_fence();
    pargc_gpu_sem_signal(&L->sem, slots);
  }
}

/* Take empty bin b off list li if the list has at least `keep` free slots
 * besides it.  Skips (never waits) when another remover holds the lock. */
PARGC_GPU_FN PARGC_GPU_NOINLINE void pargc_gpu_bins_remove(uint32_t li, uint32_t b, uint32_t keep)
{
  pargc_gpu_binlist *L = &PARGC_GPU_HEAP.lists[li];
  uint32_t slots = pargc_gpu_class_slots((int)(li % PARGC_GPU_NCLASSES));
  if (pargc_gpu_sem_count(pargc_gpu_load64(&L->sem)) < slots + keep)
    return;
  if (pargc_gpu_cas32(&L->lock, 0, 1) != 0)
    return;
  pargc_gpu_fence();
  pargc_gpu_rcu_advance(L);
  pargc_gpu_bins_remove_locked(li, b);
  pargc_gpu_rcu_advance(L);
  pargc_gpu_fence();
  pargc_gpu_store32(&L->lock, 0);
}

/* Every empty bin of list li back to its chunk, now.  Waits for the list
 * lock and for the readers of the grace period: only for trimming and
 * for the exhaustion path, never on a fast path.  Readers never wait for
 * anything, so the wait ends. */
PARGC_GPU_FN void pargc_gpu_bins_sweep_list(uint32_t li)
{
  pargc_gpu_binlist *L = &PARGC_GPU_HEAP.lists[li];
  uint32_t slots = pargc_gpu_class_slots((int)(li % PARGC_GPU_NCLASSES));
  while (pargc_gpu_cas32(&L->lock, 0, 1) != 0)
    pargc_gpu_relax();
  pargc_gpu_fence();
  /* With the lock held nobody else unlinks or recycles, so this walk
   * needs no read section; pushes only touch the head. */
  for (uint32_t cur = pargc_gpu_load32(&L->head); cur;) {
    uint32_t next = pargc_gpu_load32(&PARGC_GPU_HEAP.bins[cur - 1].next), empty = 1;
    for (uint32_t w = 0; w < pargc_gpu_bins_words(slots) && empty; w++)
      empty = pargc_gpu_load32(&PARGC_GPU_HEAP.bins[cur - 1].bits[w]) ==
              pargc_gpu_bins_tail(slots, w);
    if (empty)
      pargc_gpu_bins_remove_locked(li, cur - 1);
    cur = next;
  }
  for (int round = 0; round < 2; round++) {
    pargc_gpu_rcu_advance(L);
    while (pargc_gpu_load32(&L->pending) &&
           pargc_gpu_load32(&L->readers[pargc_gpu_load32(&L->pending_parity)]) != 0)
      pargc_gpu_relax();
  }
  pargc_gpu_rcu_advance(L);
  pargc_gpu_fence();
  pargc_gpu_store32(&L->lock, 0);
}

/* Arena a stops carving its current chunk if that chunk is empty, so that
 * it can retire. */
PARGC_GPU_FN void pargc_gpu_bins_drop_current(uint32_t a, int only_if_empty)
{
  uint32_t c = pargc_gpu_load32(&PARGC_GPU_HEAP.current[a]);
  if (!c || (only_if_empty &&
             pargc_gpu_load32(&PARGC_GPU_HEAP.chunks[c - 1].state) != PARGC_GPU_CHUNK_CURRENT))
    return;
  if (pargc_gpu_cas32(&PARGC_GPU_HEAP.current[a], c, 0) == c)
    pargc_gpu_chunk_uncurrent(c - 1);
}

/* Exhaustion path: before anyone reports NULL, give every empty bin of
 * every list back to its chunk and every empty chunk back to the buddy
 * tree (bins kept as spares, or left behind when a remover found the
 * list lock taken, would otherwise hold memory that another class or a
 * large object needs).  One thread sweeps; the others wait for its
 * generation to end, then retry. */
PARGC_GPU_FN PARGC_GPU_NOINLINE void pargc_gpu_bins_reclaim(void)
{
  uint32_t *sync = PARGC_GPU_HEAP.sync;
  uint32_t gen = pargc_gpu_load32(&sync[1]);
  if (pargc_gpu_cas32(&sync[0], 0, 1) != 0) {
    while (pargc_gpu_load32(&sync[1]) == gen)
      pargc_gpu_relax();
    return;
  }
  pargc_gpu_fence();
  uint32_t nlists = PARGC_GPU_HEAP.narenas * PARGC_GPU_NCLASSES;
  for (uint32_t li = 0; li < nlists; li++)
    pargc_gpu_bins_sweep_list(li);
  for (uint32_t a = 0; a < PARGC_GPU_HEAP.narenas; a++)
    pargc_gpu_bins_drop_current(a, 1);
  for (uint32_t ci = 0; ci < PARGC_GPU_HEAP.nchunks; ci++)
    if (pargc_gpu_load32(&PARGC_GPU_HEAP.chunks[ci].state) == 0)
      pargc_gpu_chunk_retire(ci);
  pargc_gpu_fence();
  pargc_gpu_add32(&sync[1], 1);
  pargc_gpu_store32(&sync[0], 0);
}

/* A free bin for arena a: from its current chunk, else from a new chunk,
 * else from any chunk that has one, else after reclaiming empty bins and
 * chunks everywhere; PARGC_GPU_NONE only when all of that failed. */
PARGC_GPU_FN PARGC_GPU_NOINLINE uint32_t pargc_gpu_bins_get(uint32_t a)
{
  uint32_t b = pargc_gpu_bins_get_once(a);
  if (b == PARGC_GPU_NONE) {
    pargc_gpu_bins_reclaim();
    b = pargc_gpu_bins_get_once(a);
  }
  return b;
}

/* The refill a REFILL answer obliges the leader to do: k fresh bins for
 * list li, of which the leader keeps n slots.  Out of line: it is the
 * slow path, and inlining it would cost the fast path registers. */
PARGC_GPU_FN PARGC_GPU_NOINLINE int pargc_gpu_bins_refill(uint32_t a, uint32_t li, uint32_t cls,
                                                          uint32_t n, uint32_t k)
{
  pargc_gpu_binlist *L = &PARGC_GPU_HEAP.lists[li];
  uint32_t slots = pargc_gpu_class_slots((int)cls), batch = k * slots;
  uint32_t made = 0;
  for (; made < k; made++) {
    uint32_t b = pargc_gpu_bins_get(a);
    if (b == PARGC_GPU_NONE)
      break;
    pargc_gpu_bins_init(b, cls, li);
    pargc_gpu_bins_push(L, b);
  }
  pargc_gpu_fence();
  if (made == k) {
    pargc_gpu_sem_refilled(&L->sem, batch, n);
    return 1;
  }
  pargc_gpu_sem_abort(&L->sem, batch);
  if (made)
    pargc_gpu_sem_signal(&L->sem, made * slots);
  return 0;
}

/* Leader only: reserve n slots of list li, refilling it if the semaphore
 * says so.  1 on success; 0 when no bin could be found for the refill.
 * Fast path: one CAS on the semaphore. */
PARGC_GPU_FN int pargc_gpu_bins_reserve(uint32_t a, uint32_t li, uint32_t cls, uint32_t n)
{
  uint32_t slots = pargc_gpu_class_slots((int)cls);
  uint32_t k = (n + slots - 1) / slots;
  if (pargc_gpu_sem_wait(&PARGC_GPU_HEAP.lists[li].sem, n, k * slots) == PARGC_GPU_SEM_ACQUIRED)
    return 1;
  return pargc_gpu_bins_refill(a, li, cls, n, k);
}

/* Leader of a group holding `want` reservations on list li: claim up to
 * `want` clear bits from the first bin word that has any, starting at
 * *cur (a bin index + 1; 0 means the head) and leaving *cur on the bin
 * that served, so the next call goes on from there.  Must run inside an
 * RCU read section.  Returns the claimed bits; *bin and *word say where. */
PARGC_GPU_FN uint32_t pargc_gpu_bins_scan(uint32_t li, uint32_t cls, int want, uint32_t *cur,
                                          uint32_t *bin_out, uint32_t *word_out)
{
  pargc_gpu_binlist *L = &PARGC_GPU_HEAP.lists[li];
  uint32_t nw = pargc_gpu_bins_words(pargc_gpu_class_slots((int)cls));
  uint32_t c = *cur;
  /* Our reservations guarantee clear bits on the list; a pass misses them
   * only while other threads are releasing, so go round again. */
  for (;;) {
    if (c == 0) {
      c = pargc_gpu_load32(&L->head);
      continue;
    }
    pargc_gpu_bin *bin = &PARGC_GPU_HEAP.bins[c - 1];
    for (uint32_t w = 0; w < nw; w++)
      if (pargc_gpu_load32(&bin->bits[w]) != ~0u) {
        uint32_t got = pargc_gpu_bitmap_claim(&bin->bits[w], want);
        if (got) {
          *cur = c;
          *bin_out = c - 1;
          *word_out = w;
          return got;
        }
      }
    c = pargc_gpu_load32(&bin->next);
  }
}

/* After `bits` of word w of bin b were released (old: the word before)
 * and signalled: if the bin went empty, try to give it back, keeping one
 * spare bin's worth of free slots on the list. */
PARGC_GPU_FN void pargc_gpu_bins_freed(uint32_t li, uint32_t b, uint32_t w, uint32_t bits,
                                       uint32_t old)
{
  pargc_gpu_bin *bin = &PARGC_GPU_HEAP.bins[b];
  uint32_t slots = pargc_gpu_class_slots((int)(li % PARGC_GPU_NCLASSES));
  if ((old & ~bits) != pargc_gpu_bins_tail(slots, w))
    return;
  uint32_t nw = pargc_gpu_bins_words(slots);
  for (uint32_t i = 0; i < nw; i++)
    if (pargc_gpu_load32(&bin->bits[i]) != pargc_gpu_bins_tail(slots, i))
      return;
  pargc_gpu_bins_remove(li, b, slots);
}

#endif
