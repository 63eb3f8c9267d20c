/* gpu/bins.h -- chunks, bins and bin lists of the bin-object side (small
 * and medium classes): refill, RCU-protected list walks, removal of empty
 * bins, chunk fetches and the chunk index, reclaim and trimming.
 *
 * Job: everything about bin objects that does not depend on warps, so
 * that it compiles both into gpu/device.cu (as __device__ code working on
 * the heap in constant memory) and into the CPU tests (as host code on a
 * heap in host memory, tests/unit/gpu_host_heap.h).  gpu/alloc.h, the
 * per-lane code, is built on it.  The includer defines
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
 * Freeing: pargc_gpu_bitmap_release the slots' bits (release), then
 * pargc_gpu_sem_signal the ones that really were set (release), then
 * pargc_gpu_bins_freed to see whether the bin went empty and may leave
 * the list.
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
enum {
  PARGC_GPU_TRACE_UNLINK,   /* an empty bin left its list */
  PARGC_GPU_TRACE_RECYCLE,  /* ... and went back to its chunk after its grace period */
  PARGC_GPU_TRACE_RETIRE,   /* a chunk went back to the buddy tree */
  PARGC_GPU_TRACE_FETCH,    /* an arena fetched a new chunk */
  PARGC_GPU_TRACE_SCAN,     /* the exhaustion path found a bin in some chunk */
  PARGC_GPU_TRACE_EVENTS
};

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

/* Arenas that serve class cls: one per SM for the small classes; for the
 * medium ones, whose bins are 512 KiB each, only the first
 * PARGC_GPU_MEDIUM_ARENAS, so that a class does not hold a half-empty
 * chunk on each of 132 SMs. */
#define PARGC_GPU_MEDIUM_ARENAS 8u
PARGC_GPU_FN uint32_t pargc_gpu_class_arenas(uint32_t cls)
{
  uint32_t n = PARGC_GPU_HEAP.narenas;
  return cls < PARGC_GPU_NSMALL || n < PARGC_GPU_MEDIUM_ARENAS ? n : PARGC_GPU_MEDIUM_ARENAS;
}

/* ---- chunks ------------------------------------------------------------ */

/* Returns 1 if it retired the chunk. */
PARGC_GPU_FN int pargc_gpu_chunk_retire(uint32_t ci)
{
  /* Only an idle chunk (no bins, not current, not retired: state 0) goes
   * back to the buddy tree; the CAS fails if anybody claims meanwhile. */
  if (pargc_gpu_cas32(&PARGC_GPU_HEAP.chunks[ci].state, 0, PARGC_GPU_CHUNK_RETIRED,
                      PARGC_GPU_ACQ_REL) == 0) {
    /* Acquire: the bins' releases (chunk_put) come before; the buddy free
     * below is the release that hands the 512 KiB on. */
    PARGC_GPU_TRACE(PARGC_GPU_TRACE_RETIRE);
    pargc_gpu_buddy_free_node(&PARGC_GPU_HEAP.buddy, ((uint64_t)1 << PARGC_GPU_HEAP.chunk_depth) + ci);
    return 1;
  }
  return 0;
}

PARGC_GPU_FN void pargc_gpu_chunk_unuse(uint32_t ci)
{
  uint32_t r = pargc_gpu_add32(&PARGC_GPU_HEAP.chunks[ci].state, 0xFFFFFFFFu, PARGC_GPU_ACQ_REL) - 1;
  if (r == 0)
    pargc_gpu_chunk_retire(ci);
}

PARGC_GPU_FN int pargc_gpu_chunk_uncurrent(uint32_t ci)
{
  uint32_t r = pargc_gpu_and32(&PARGC_GPU_HEAP.chunks[ci].state, ~PARGC_GPU_CHUNK_CURRENT,
                               PARGC_GPU_ACQ_REL);
  return (r & ~PARGC_GPU_CHUNK_CURRENT) == 0 ? pargc_gpu_chunk_retire(ci) : 0;
}

/* Take one free bin of chunk ci; PARGC_GPU_NONE if it has none or is not
 * a bin chunk (retired). */
PARGC_GPU_FN uint32_t pargc_gpu_chunk_take(uint32_t ci)
{
  pargc_gpu_chunk *c = &PARGC_GPU_HEAP.chunks[ci];
  uint32_t st = pargc_gpu_add32(&c->state, 1, PARGC_GPU_ACQUIRE);
  if (st & PARGC_GPU_CHUNK_RETIRED) {
    pargc_gpu_add32(&c->state, 0xFFFFFFFFu, PARGC_GPU_RELAXED);
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
  if (pargc_gpu_load32(&PARGC_GPU_HEAP.chunks[ci].medium)) {
    /* A medium bin is its whole chunk: USED drops to 0 and the chunk
     * retires; its bitmap stays full, so nobody carves it meanwhile. */
    pargc_gpu_chunk_unuse(ci);
    return;
  }
  /* Release, then the USED count drops (acq_rel): whoever sees the chunk
   * idle sees the bin's bit clear. */
  pargc_gpu_bitmap_release(&PARGC_GPU_HEAP.chunks[ci].bins[i / 32], 1u << (i % 32));
  /* The chunk has a free bin now: into the index (release: after the
   * bin's bit), then the USED count may drop. */
  pargc_gpu_or32(&PARGC_GPU_HEAP.chunk_index[ci / 32], 1u << (ci % 32), PARGC_GPU_RELEASE);
  pargc_gpu_chunk_unuse(ci);
}

/* A chunk fresh from the buddy tree becomes the caller's current one. */
PARGC_GPU_FN void pargc_gpu_chunk_reinit(uint32_t ci)
{
  pargc_gpu_chunk *c = &PARGC_GPU_HEAP.chunks[ci];
  for (uint32_t w = 0; w < PARGC_GPU_BINS_PER_CHUNK / 32; w++)
    pargc_gpu_store32(&c->bins[w], 0);
  pargc_gpu_store32(&c->medium, 0);
  /* Keep USED: a late chunk_take may still undo its increment.  Release:
   * the cleared bitmap before the chunk stops being RETIRED. */
  uint32_t st = pargc_gpu_load32(&c->state), old;
  while ((old = pargc_gpu_cas32(&c->state, st, (st & PARGC_GPU_CHUNK_USED) | PARGC_GPU_CHUNK_CURRENT,
                                PARGC_GPU_RELEASE)) != st)
    st = old;
}

/* The exhaustion path's search for a 4 KiB bin in any chunk, through
 * the index of chunks that may have one (heap.h): a bit per chunk, set
 * by whoever gives a bin back (after the bin's bit is clear, release),
 * cleared here when the chunk turns out full or retired (acq_rel: if a
 * putter's set came first, the re-check below sees its bin).  So a bin
 * that is free when the search starts is found, and the search reads one
 * word per 32 chunks instead of every chunk descriptor. */
PARGC_GPU_FN uint32_t pargc_gpu_bins_scan_chunks(void)
{
  uint32_t nw = (PARGC_GPU_HEAP.nchunks + 31) / 32;
  for (uint32_t w = 0; w < nw; w++) {
    uint32_t m = pargc_gpu_load32(&PARGC_GPU_HEAP.chunk_index[w]);
    while (m) {
      uint32_t bit = m & (0u - m), ci = w * 32 + (uint32_t)pargc_gpu_ctz32(m);
      m &= m - 1;
      uint32_t b = pargc_gpu_chunk_take(ci);
      if (b == PARGC_GPU_NONE) {
        pargc_gpu_and32(&PARGC_GPU_HEAP.chunk_index[w], ~bit, PARGC_GPU_ACQ_REL);
        b = pargc_gpu_chunk_take(ci);   /* a bin given back meanwhile? */
      }
      if (b != PARGC_GPU_NONE) {
        PARGC_GPU_TRACE(PARGC_GPU_TRACE_SCAN);
        return b;
      }
    }
  }
  return PARGC_GPU_NONE;
}

/* One attempt at a free bin for arena a: from its current chunk, else
 * from a new chunk, else (exhaustion) from any chunk that has one.
 *
 * New chunks: when the current chunk is used up, one thread of the arena
 * fetches the next from the buddy tree while the others wait for it and
 * then carve from it -- the collective mutex of Gelado & Garland (sec.
 * 4.2.2), held for one buddy search.  The flag is a bit of current[a]
 * itself.  Without it every refiller that found the chunk full took a
 * chunk of its own, and all but one stayed half used. */
#define PARGC_GPU_FETCHING 0x80000000u
PARGC_GPU_FN PARGC_GPU_NOINLINE uint32_t pargc_gpu_bins_get_once(uint32_t a)
{
  uint32_t *current = &PARGC_GPU_HEAP.current[a];
  for (int tries = 0; tries < 4; tries++) {
    uint32_t cur = pargc_gpu_load32_acq(current);
    if (cur & PARGC_GPU_FETCHING) {
      /* Someone fetches for the arena: wait, then use what it got. */
      while ((cur = pargc_gpu_load32_acq(current)) & PARGC_GPU_FETCHING)
        pargc_gpu_relax();
      if (cur) {
        uint32_t b = pargc_gpu_chunk_take(cur - 1);
        if (b != PARGC_GPU_NONE)
          return b;
      }
      continue;
    }
    if (cur) {
      uint32_t b = pargc_gpu_chunk_take(cur - 1);
      if (b != PARGC_GPU_NONE)
        return b;
    }
    if (pargc_gpu_cas32(current, cur, cur | PARGC_GPU_FETCHING, PARGC_GPU_ACQUIRE) != cur)
      continue;   /* the arena changed: look again */
    uint64_t node = pargc_gpu_buddy_alloc(&PARGC_GPU_HEAP.buddy, PARGC_GPU_HEAP.chunk_depth, 0);
    if (!node) {
      pargc_gpu_store32_rel(current, cur);   /* no chunk: let go, search the chunks */
      break;
    }
    uint32_t ci = (uint32_t)(node - ((uint64_t)1 << PARGC_GPU_HEAP.chunk_depth));
    PARGC_GPU_TRACE(PARGC_GPU_TRACE_FETCH);
    pargc_gpu_chunk_reinit(ci);
    uint32_t b = pargc_gpu_chunk_take(ci);
    /* Its other bins are free: into the index, for other arenas' searches. */
    pargc_gpu_or32(&PARGC_GPU_HEAP.chunk_index[ci / 32], 1u << (ci % 32), PARGC_GPU_RELEASE);
    pargc_gpu_store32_rel(current, ci + 1);  /* the chunk, ready, before the flag goes */
    if (cur)
      pargc_gpu_chunk_uncurrent(cur - 1);
    return b;
  }
  return pargc_gpu_bins_scan_chunks();
}

/* ---- bin lists and their RCU ------------------------------------------ */

PARGC_GPU_FN uint32_t pargc_gpu_rcu_enter(pargc_gpu_binlist *L)
{
  for (;;) {
    uint32_t e = pargc_gpu_load32(&L->epoch);
    pargc_gpu_add32(&L->readers[e & 1], 1, PARGC_GPU_RELAXED);
    /* Store-load pair against the remover's epoch flip and its read of
     * our counter: a full fence on each side (atomics.h). */
    pargc_gpu_fence();
    /* If a remover flipped the epoch meanwhile it may already have seen
     * our old counter at zero: enter again under the new epoch. */
    if (pargc_gpu_load32(&L->epoch) == e)
      return e & 1;
    pargc_gpu_add32(&L->readers[e & 1], 0xFFFFFFFFu, PARGC_GPU_RELAXED);
  }
}

PARGC_GPU_FN void pargc_gpu_rcu_exit(pargc_gpu_binlist *L, uint32_t parity)
{
  /* Release: our reads of the list are done before the remover that sees
   * the count at zero (and then fences) recycles a bin. */
  pargc_gpu_add32(&L->readers[parity], 0xFFFFFFFFu, PARGC_GPU_RELEASE);
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
    /* Release: the bin's descriptor (bins_init) and its next before it
     * is on the list; readers load head and next with acquire. */
    if ((old = pargc_gpu_cas32(&L->head, h, b + 1, PARGC_GPU_RELEASE)) == h)
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
      if (pargc_gpu_cas32(&L->head, me, next, PARGC_GPU_RELAXED) == me)
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
  pargc_gpu_store32_rel(&bin->linked, 1);   /* after list and class */
}

/* With list li's lock held: take empty bin b off the list.  Claims all of
 * its slots through the semaphore first, so no reservation can be counting
 * on them, and gives up if any slot turns out to be in use.  Returns 1 if
 * the bin left the list. */
PARGC_GPU_FN int pargc_gpu_bins_remove_locked(uint32_t li, uint32_t b)
{
  pargc_gpu_binlist *L = &PARGC_GPU_HEAP.lists[li];
  pargc_gpu_bin *bin = &PARGC_GPU_HEAP.bins[b];
  uint32_t slots = pargc_gpu_class_slots((int)(li % PARGC_GPU_NCLASSES));
  uint32_t linked = pargc_gpu_load32_acq(&bin->linked);   /* then list */
  if (!linked || pargc_gpu_load32(&bin->list) != li || !pargc_gpu_sem_try(&L->sem, slots))
    return 0;
  /* We hold `slots` reservations: claim every bit.  If all were clear the
   * bin is ours alone. */
  uint32_t got[PARGC_GPU_BIN_WORDS], nw = pargc_gpu_bins_words(slots), whole = 1;
  for (uint32_t w = 0; w < nw; w++) {
    uint32_t old = pargc_gpu_or32(&bin->bits[w], ~0u, PARGC_GPU_ACQUIRE);
    got[w] = ~old;
    whole &= old == pargc_gpu_bins_tail(slots, w);
  }
  if (whole) {
    pargc_gpu_bins_unlink(L, b);
    PARGC_GPU_TRACE(PARGC_GPU_TRACE_UNLINK);
    pargc_gpu_store32(&bin->linked, 0);
    pargc_gpu_store32(&bin->retire_next, pargc_gpu_load32(&L->limbo));
    pargc_gpu_store32(&L->limbo, b + 1);
    return 1;
  }
  for (uint32_t w = 0; w < nw; w++)
    if (got[w])
      pargc_gpu_bitmap_release(&bin->bits[w], got[w]);
  pargc_gpu_sem_signal(&L->sem, slots);
  return 0;
}

/* Take empty bin b off list li if the list has at least `keep` free slots
 * besides it.  Skips (never waits) when another remover holds the lock. */
PARGC_GPU_FN PARGC_GPU_NOINLINE void pargc_gpu_bins_remove(uint32_t li, uint32_t b, uint32_t keep)
{
  pargc_gpu_binlist *L = &PARGC_GPU_HEAP.lists[li];
  uint32_t slots = pargc_gpu_class_slots((int)(li % PARGC_GPU_NCLASSES));
  if (pargc_gpu_sem_count(pargc_gpu_load64(&L->sem)) < slots + keep)
    return;
  if (pargc_gpu_cas32(&L->lock, 0, 1, PARGC_GPU_ACQUIRE) != 0)
    return;
  pargc_gpu_rcu_advance(L);
  pargc_gpu_bins_remove_locked(li, b);
  pargc_gpu_rcu_advance(L);
  pargc_gpu_store32_rel(&L->lock, 0);
}

/* Every empty bin of list li back to its chunk, now.  Waits for the list
 * lock and for the readers of the grace period: only for trimming and
 * for the exhaustion path, never on a fast path.  Readers never wait for
 * anything, so the wait ends.  Returns the number of bins given back. */
PARGC_GPU_FN uint32_t pargc_gpu_bins_sweep_list(uint32_t li)
{
  uint32_t freed = 0;
  pargc_gpu_binlist *L = &PARGC_GPU_HEAP.lists[li];
  uint32_t slots = pargc_gpu_class_slots((int)(li % PARGC_GPU_NCLASSES));
  while (pargc_gpu_cas32(&L->lock, 0, 1, PARGC_GPU_ACQUIRE) != 0)
    pargc_gpu_relax();
  /* With the lock held nobody else unlinks or recycles, so this walk
   * needs no read section; pushes only touch the head. */
  for (uint32_t cur = pargc_gpu_load32(&L->head); cur;) {
    uint32_t next = pargc_gpu_load32(&PARGC_GPU_HEAP.bins[cur - 1].next), empty = 1;
    for (uint32_t w = 0; w < pargc_gpu_bins_words(slots) && empty; w++)
      empty = pargc_gpu_load32(&PARGC_GPU_HEAP.bins[cur - 1].bits[w]) ==
              pargc_gpu_bins_tail(slots, w);
    if (empty)
      freed += (uint32_t)pargc_gpu_bins_remove_locked(li, cur - 1);
    cur = next;
  }
  for (int round = 0; round < 2; round++) {
    pargc_gpu_rcu_advance(L);
    while (pargc_gpu_load32(&L->pending) &&
           pargc_gpu_load32(&L->readers[pargc_gpu_load32(&L->pending_parity)]) != 0)
      pargc_gpu_relax();
  }
  pargc_gpu_rcu_advance(L);
  pargc_gpu_store32_rel(&L->lock, 0);
  return freed;
}

/* Arena a stops carving its current chunk if that chunk is empty, so that
 * it can retire.  Returns 1 if the chunk retired. */
PARGC_GPU_FN int pargc_gpu_bins_drop_current(uint32_t a, int only_if_empty)
{
  uint32_t c = pargc_gpu_load32(&PARGC_GPU_HEAP.current[a]);
  if (!c || (c & PARGC_GPU_FETCHING) || (only_if_empty &&
             pargc_gpu_load32(&PARGC_GPU_HEAP.chunks[c - 1].state) != PARGC_GPU_CHUNK_CURRENT))
    return 0;
  if (pargc_gpu_cas32(&PARGC_GPU_HEAP.current[a], c, 0, PARGC_GPU_ACQ_REL) == c)
    return pargc_gpu_chunk_uncurrent(c - 1);
  return 0;
}

/* Exhaustion path: before anyone reports NULL, give every empty bin of
 * every list back to its chunk and every empty chunk back to the buddy
 * tree (bins kept as spares, or left behind when a remover found the
 * list lock taken, would otherwise hold memory that another class or a
 * large object needs).  One thread sweeps; the others wait for its
 * generation to end.  Returns how many bins and chunks that sweep gave
 * back: the callers search again while it is not 0. */
PARGC_GPU_FN PARGC_GPU_NOINLINE uint32_t pargc_gpu_bins_reclaim(void)
{
  uint32_t *sync = PARGC_GPU_HEAP.sync;
  uint32_t gen = pargc_gpu_load32_acq(&sync[1]);
  if (pargc_gpu_cas32(&sync[0], 0, 1, PARGC_GPU_ACQUIRE) != 0) {
    while (pargc_gpu_load32_acq(&sync[1]) == gen)
      pargc_gpu_relax();
    return pargc_gpu_load32(&sync[2]);
  }
  uint32_t nlists = PARGC_GPU_HEAP.narenas * PARGC_GPU_NCLASSES, gave = 0;
  for (uint32_t li = 0; li < nlists; li++)
    gave += pargc_gpu_bins_sweep_list(li);
  for (uint32_t a = 0; a < PARGC_GPU_HEAP.narenas; a++)
    gave += (uint32_t)pargc_gpu_bins_drop_current(a, 1);
  for (uint32_t ci = 0; ci < PARGC_GPU_HEAP.nchunks; ci++)
    if (pargc_gpu_load32(&PARGC_GPU_HEAP.chunks[ci].state) == 0)
      gave += (uint32_t)pargc_gpu_chunk_retire(ci);
  pargc_gpu_store32(&sync[2], gave);
  pargc_gpu_add32(&sync[1], 1, PARGC_GPU_RELEASE);   /* after sync[2] */
  pargc_gpu_store32_rel(&sync[0], 0);
  return gave;
}

/* A free bin for arena a: from its current chunk, else from a new chunk,
 * else from any chunk that has one, else after reclaiming empty bins and
 * chunks everywhere; PARGC_GPU_NONE only when a whole pass found nothing
 * after a sweep that gave nothing back. */
PARGC_GPU_FN PARGC_GPU_NOINLINE uint32_t pargc_gpu_bins_get(uint32_t a)
{
  for (;;) {
    uint32_t b = pargc_gpu_bins_get_once(a);
    if (b != PARGC_GPU_NONE || !pargc_gpu_bins_reclaim())
      return b;
  }
}

/* A chunk for one medium bin, straight from the buddy tree: its bin
 * bitmap full (no 4 KiB bin can be carved from it), USED 1 for its one
 * bin, not CURRENT.  Returns the bin (the chunk's first descriptor) or
 * PARGC_GPU_NONE when a whole pass, after a sweep that gave nothing back,
 * found no free chunk. */
PARGC_GPU_FN PARGC_GPU_NOINLINE uint32_t pargc_gpu_bins_get_medium(void)
{
  for (;;) {
    uint64_t node = pargc_gpu_buddy_alloc(&PARGC_GPU_HEAP.buddy, PARGC_GPU_HEAP.chunk_depth, 0);
    if (node) {
      uint32_t ci = (uint32_t)(node - ((uint64_t)1 << PARGC_GPU_HEAP.chunk_depth));
      pargc_gpu_chunk *c = &PARGC_GPU_HEAP.chunks[ci];
      for (uint32_t w = 0; w < PARGC_GPU_BINS_PER_CHUNK / 32; w++)
        pargc_gpu_store32(&c->bins[w], ~0u);
      pargc_gpu_store32(&c->medium, 1);
      /* Release: bitmap and kind before the chunk stops being RETIRED;
       * keep the transient claims of late takers (they undo them). */
      uint32_t st = pargc_gpu_load32(&c->state), old;
      while ((old = pargc_gpu_cas32(&c->state, st, (st & PARGC_GPU_CHUNK_USED) + 1,
                                    PARGC_GPU_RELEASE)) != st)
        st = old;
      return ci * PARGC_GPU_BINS_PER_CHUNK;
    }
    if (!pargc_gpu_bins_reclaim())
      return PARGC_GPU_NONE;
  }
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
    uint32_t b = cls < PARGC_GPU_NSMALL ? pargc_gpu_bins_get(a) : pargc_gpu_bins_get_medium();
    if (b == PARGC_GPU_NONE)
      break;
    pargc_gpu_bins_init(b, cls, li);
    pargc_gpu_bins_push(L, b);
  }
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
      c = pargc_gpu_load32_acq(&L->head);
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
    c = pargc_gpu_load32_acq(&bin->next);
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
