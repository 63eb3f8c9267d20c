/* gpu/alloc.h -- pargc_dev_malloc and pargc_dev_free, written per lane.
 *
 * Job: the warp-level code of the device heap, as one source that
 * gpu/device.cu compiles for the GPU and the CPU tests compile for the
 * host, where gpu/warp.h emulates a warp with one thread per lane.  The
 * includer defines PARGC_GPU_HEAP and PARGC_GPU_FN (see gpu/bins.h).
 *
 * Masks.  Every warp-collective call names the lanes that take part, and
 * those are computed, never assumed: the entry points read the lanes that
 * arrived together (__activemask) and split them with ballots at each
 * branch (small or large, valid pointer or not), so no collective waits
 * for a lane that went another way.
 *
 * Frees are checked (heap.h, PARGC_GPU_COUNT_BAD_FREE): a pointer outside
 * the pool, not at the start of a slot or of a block, in a bin or chunk
 * that is not in use, or whose slot or block is already free, is counted
 * and changes nothing.  What cannot be caught: a stale pointer to memory
 * that has been handed out again looks like the new object.
 */
#ifndef PARGC_GPU_ALLOC_H
#define PARGC_GPU_ALLOC_H

#include "gpu/warp.h"
#include "gpu/bins.h"

PARGC_GPU_FN void pargc_gpu_count(int which)
{
  pargc_gpu_add64(&PARGC_GPU_HEAP.counters[which], 1, PARGC_GPU_RELAXED);
}

/* ---- small objects ---------------------------------------------------- */

/* The lanes of `peers` hold one reservation each on list li: the leader
 * walks the list inside an RCU read section, claims up to popc(pending)
 * bits per atomicOr, and hands them out in lane order. */
PARGC_GPU_FN void *pargc_gpu_claim_group(uint32_t li, uint32_t cls, uint32_t peers,
                                         uint32_t leader, uint32_t lane)
{
  pargc_gpu_binlist *L = &PARGC_GPU_HEAP.lists[li];
  uint32_t size = pargc_gpu_class_size((int)cls);
  uint32_t pending = peers, parity = 0, cur = 0;
  void *mine = NULL;
  if (lane == leader)
    parity = pargc_gpu_rcu_enter(L);
  while (pending) {
    uint32_t got = 0, gb = 0, gw = 0;
    if (lane == leader)
      got = pargc_gpu_bins_scan(li, cls, pargc_gpu_popc32(pending), &cur, &gb, &gw);
    got = pargc_warp_shfl(peers, got, leader);
    gb = pargc_warp_shfl(peers, gb, leader);
    gw = pargc_warp_shfl(peers, gw, leader);
    int k = pargc_gpu_popc32(got);
    int before = pargc_gpu_popc32(pending & pargc_warp_lanemask_lt());
    if (((pending >> lane) & 1) && before < k) {
      uint32_t slot = gw * 32 + (uint32_t)pargc_gpu_bits_nth(got, before);
      mine = PARGC_GPU_HEAP.base + ((uint64_t)gb << PARGC_GPU_BIN_SHIFT) + slot * size;
    }
    pending &= ~pargc_gpu_bits_lowest(pending, k);
  }
  if (lane == leader)
    pargc_gpu_rcu_exit(L, parity);
  return mine;
}

/* Exhaustion path, one lane at a time: a slot from the class's list on
 * any arena (its own first).  sem_try waits out the transient deficits of
 * failed fast-path takes, so a list is passed over only when its count
 * really was 0. */
PARGC_GPU_FN PARGC_GPU_NOINLINE void *pargc_gpu_small_steal(uint32_t cls, uint32_t a0,
                                                            uint32_t lane)
{
  for (uint32_t i = 0; i < PARGC_GPU_HEAP.narenas; i++) {
    uint32_t li = ((a0 + i) % PARGC_GPU_HEAP.narenas) * PARGC_GPU_NCLASSES + cls;
    if (pargc_gpu_sem_try(&PARGC_GPU_HEAP.lists[li].sem, 1))
      return pargc_gpu_claim_group(li, cls, 1u << lane, lane, lane);
  }
  pargc_gpu_count(PARGC_GPU_COUNT_NULL);
  return NULL;
}

/* The lanes of `mask` (all of which call this) each want one object of
 * their class cls. */
PARGC_GPU_FN void *pargc_gpu_small_alloc(uint32_t cls, uint32_t mask)
{
  uint32_t lane = pargc_warp_lane();
  uint32_t peers = pargc_warp_match(mask, cls);
  uint32_t leader = (uint32_t)pargc_gpu_ctz32(peers);
  uint32_t a = pargc_warp_sm() % pargc_gpu_class_arenas(cls);
  uint32_t li = a * PARGC_GPU_NCLASSES + cls;
  int ok = 0;
  if (lane == leader)
    ok = pargc_gpu_bins_reserve(a, li, cls, (uint32_t)pargc_gpu_popc32(peers));
  ok = (int)pargc_warp_shfl(peers, (uint32_t)ok, leader);
  if (ok)
    return pargc_gpu_claim_group(li, cls, peers, leader, lane);
  return pargc_gpu_small_steal(cls, a, lane);
}

/* The lanes of `mask` (all of which call this) free an object at byte
 * `in` of bin b: a 4 KiB bin, or (medium) the bin of a whole chunk. */
PARGC_GPU_FN void pargc_gpu_small_free(uint32_t b, uint32_t in, uint32_t medium, uint32_t mask)
{
  uint32_t lane = pargc_warp_lane();
  pargc_gpu_bin *bin = &PARGC_GPU_HEAP.bins[b];
  /* A live object's bin is on its list (linked), and its list, class and
   * magic stay put while it is (heap.h).  The loads are atomic: the bin
   * may have served another class before, and a stale L1 line on this SM
   * would still say so. */
  uint32_t linked = pargc_gpu_load32_acq(&bin->linked);
  uint32_t li = pargc_gpu_load32(&bin->list);
  uint32_t cls = li % PARGC_GPU_NCLASSES;
  uint32_t slot = cls < PARGC_GPU_NSMALL
                      ? pargc_gpu_class_slot_magic(pargc_gpu_load32(&bin->magic), in)
                      : in / pargc_gpu_class_size((int)cls);
  int valid = linked && li < PARGC_GPU_HEAP.narenas * PARGC_GPU_NCLASSES &&
              (cls >= PARGC_GPU_NSMALL) == medium &&
              slot < pargc_gpu_class_slots((int)cls) &&
              slot * pargc_gpu_class_size((int)cls) == in;
  uint32_t ok = pargc_warp_ballot(mask, valid);
  if (!valid) {
    pargc_gpu_count(PARGC_GPU_COUNT_BAD_FREE);
    return;
  }
  uint32_t w = slot / 32, bit = 1u << (slot % 32);
  /* Lanes freeing into the same bitmap word release together. */
  uint32_t grp = pargc_warp_match(ok, (uint64_t)b * PARGC_GPU_BIN_WORDS + w);
  uint32_t bits = pargc_warp_or(grp, bit);
  uint32_t wleader = (uint32_t)pargc_gpu_ctz32(grp);
  int first = 1;
  if (pargc_gpu_popc32(bits) != pargc_gpu_popc32(grp)) {
    /* Two lanes free the same slot: only the lowest of them counts. */
    uint32_t same = pargc_warp_match(grp, bit);
    first = lane == (uint32_t)pargc_gpu_ctz32(same);
  }
  uint32_t old = 0;
  if (lane == wleader)
    old = pargc_gpu_bitmap_release(&bin->bits[w], bits);   /* release order: bitmap.h */
  old = pargc_warp_shfl(grp, old, wleader);
  /* A bit that was already clear was a double free: the AND did nothing
   * to it, and it must not be counted as a free slot. */
  int good = first && (old & bit);
  uint32_t goods = pargc_warp_ballot(ok, good);
  /* The bits are clear before the semaphore counts them (sem.h): the
   * sync orders the word leaders' releases before the list leaders'
   * signals, which are releases too. */
  pargc_warp_sync(ok);
  uint32_t lgrp = pargc_warp_match(ok, li);
  uint32_t n = (uint32_t)pargc_gpu_popc32(lgrp & goods);
  if (lane == (uint32_t)pargc_gpu_ctz32(lgrp) && n)
    pargc_gpu_sem_signal(&PARGC_GPU_HEAP.lists[li].sem, n);
  if (!good)
    pargc_gpu_count(PARGC_GPU_COUNT_BAD_FREE);
  if (lane == wleader && (bits & old))
    pargc_gpu_bins_freed(li, b, w, bits & old, old);
}

/* ---- large objects ---------------------------------------------------- */

PARGC_GPU_FN PARGC_GPU_NOINLINE void *pargc_gpu_large_alloc(uint64_t size)
{
  int depth = pargc_gpu_buddy_depth_for(&PARGC_GPU_HEAP.buddy, size);
  if (depth >= 0) {
    /* Spread the SMs over 16 regions of the tree to cut contention on
     * the top nodes; chunks use plain first fit (hint 0). */
    uint32_t hint = (pargc_warp_sm() * 0x9E3779B9u) & 0xF0000000u;
    for (;;) {
      uint64_t n = pargc_gpu_buddy_alloc(&PARGC_GPU_HEAP.buddy, (uint32_t)depth, hint);
      if (n)
        return PARGC_GPU_HEAP.base + pargc_gpu_buddy_offset(&PARGC_GPU_HEAP.buddy, n);
      /* Empty bins and chunks may hold what we need: reclaim, and search
       * again for as long as a sweep gives something back. */
      if (!pargc_gpu_bins_reclaim())
        break;
    }
  }
  pargc_gpu_count(PARGC_GPU_COUNT_NULL);
  return NULL;
}

PARGC_GPU_FN PARGC_GPU_NOINLINE void pargc_gpu_large_free(uint64_t off)
{
  uint64_t n = pargc_gpu_buddy_node_at(&PARGC_GPU_HEAP.buddy, off);
  if (!n || !pargc_gpu_buddy_free_node(&PARGC_GPU_HEAP.buddy, n))
    pargc_gpu_count(PARGC_GPU_COUNT_BAD_FREE);
}

/* ---- the API ---------------------------------------------------------- */

PARGC_GPU_FN void *pargc_gpu_malloc(uint64_t size)
{
  uint32_t active = pargc_warp_active();
  int small = size <= PARGC_GPU_MEDIUM_MAX;
  uint32_t smalls = pargc_warp_ballot(active, small);
  if (!small)
    return pargc_gpu_large_alloc(size);
  return pargc_gpu_small_alloc((uint32_t)pargc_gpu_class_of(size ? (uint32_t)size : 1), smalls);
}

enum { PARGC_GPU_FREE_NULL, PARGC_GPU_FREE_BAD, PARGC_GPU_FREE_LARGE, PARGC_GPU_FREE_SMALL };

PARGC_GPU_FN void pargc_gpu_free(void *p)
{
  uint32_t active = pargc_warp_active();
  uint64_t off = (uint64_t)((char *)p - PARGC_GPU_HEAP.base);
  int kind = PARGC_GPU_FREE_NULL;
  uint32_t b = 0, in = 0, medium = 0;
  if (!p) {
    kind = PARGC_GPU_FREE_NULL;
  } else if (off >= PARGC_GPU_HEAP.size) {
    kind = PARGC_GPU_FREE_BAD;   /* below the pool wraps round to a huge off */
  } else {
    /* Bin object or large block from the address alone: a live bin
     * object's chunk is a bin chunk, never RETIRED, and keeps its kind
     * (4 KiB bins or one medium bin) for as long as the object lives. */
    pargc_gpu_chunk *c = &PARGC_GPU_HEAP.chunks[off >> PARGC_GPU_CHUNK_SHIFT];
    uint32_t st = pargc_gpu_load32(&c->state);
    kind = st & PARGC_GPU_CHUNK_RETIRED ? PARGC_GPU_FREE_LARGE : PARGC_GPU_FREE_SMALL;
    medium = pargc_gpu_load32(&c->medium) != 0;
    if (medium) {
      b = (uint32_t)(off >> PARGC_GPU_CHUNK_SHIFT) * PARGC_GPU_BINS_PER_CHUNK;
      in = (uint32_t)off & (PARGC_GPU_CHUNK_SIZE - 1);
    } else {
      b = (uint32_t)(off >> PARGC_GPU_BIN_SHIFT);
      in = (uint32_t)off & (PARGC_GPU_BIN_SIZE - 1);
    }
  }
  uint32_t smalls = pargc_warp_ballot(active, kind == PARGC_GPU_FREE_SMALL);
  if (kind == PARGC_GPU_FREE_SMALL)
    pargc_gpu_small_free(b, in, medium, smalls);
  else if (kind == PARGC_GPU_FREE_LARGE)
    pargc_gpu_large_free(off);
  else if (kind == PARGC_GPU_FREE_BAD)
    pargc_gpu_count(PARGC_GPU_COUNT_BAD_FREE);
}

#endif
