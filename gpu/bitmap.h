/* gpu/bitmap.h -- occupancy bitmaps: a bin's slots, a chunk's bins.
 *
 * Job: claim and release bits in 32-bit words with one atomic operation
 * per word for a whole group of requesters.  Gelado & Garland (PPoPP 2019,
 * "Throughput-oriented GPU memory allocation", sec. 4) keep a bitmap per
 * bin; the point of claiming *several* bits with one atomicOr is that the
 * leader of a warp's coalesced group serves up to 32 lanes per atomic.
 *
 * Invariants:
 *  - a set bit is a slot that is allocated, or that does not exist (the
 *    tail bits of a bin whose slot count is not a multiple of 32 are set
 *    once at initialisation and never cleared);
 *  - a bit is set only by pargc_gpu_bitmap_claim (returning it in its
 *    mask) and cleared only by its owner through pargc_gpu_bitmap_release,
 *    so two claimers never receive the same bit.
 */
#ifndef PARGC_GPU_BITMAP_H
#define PARGC_GPU_BITMAP_H

#include "gpu/atomics.h"

/* The lowest n set bits of x (all of x if it has n or fewer). */
static inline PARGC_HD uint32_t pargc_gpu_bits_lowest(uint32_t x, int n)
{
  if (pargc_gpu_popc32(x) <= n)
    return x;
  uint32_t m = 0;
  for (; n > 0; n--) {
    uint32_t b = x & (0u - x);
    m |= b;
    x ^= b;
  }
  return m;
}

/* Position of the n-th (0-based) set bit of x; x has more than n bits. */
static inline PARGC_HD int pargc_gpu_bits_nth(uint32_t x, int n)
{
#if defined(__CUDA_ARCH__)
  return (int)__fns(x, 0, n + 1);
#else
  for (; n > 0; n--)
    x &= x - 1;
  return pargc_gpu_ctz32(x);
#endif
}

/* Claim up to n clear bits of *w in one atomicOr; returns the bits this
 * call set (0 when the word is full).  Retries only while the word keeps
 * changing under us and still has clear bits, so it is lock-free.
 * Acquire: the slots were handed back by a release (below), so whatever
 * their last owner did to them happens before the new owner's accesses. */
static inline PARGC_HD uint32_t pargc_gpu_bitmap_claim(uint32_t *w, int n)
{
  uint32_t snap = pargc_gpu_load32(w);
  for (;;) {
    uint32_t freebits = ~snap;
    if (freebits == 0)
      return 0;
    uint32_t want = pargc_gpu_bits_lowest(freebits, n);
    uint32_t old = pargc_gpu_or32(w, want, PARGC_GPU_ACQUIRE);
    uint32_t got = want & ~old;
    if (got)
      return got;
    snap = old | want;
  }
}

/* Release bits this caller owns; returns the word before the release.
 * Release order: the owner's accesses to the slots come before the next
 * claim (acquire) that gets them. */
static inline PARGC_HD uint32_t pargc_gpu_bitmap_release(uint32_t *w, uint32_t mask)
{
  return pargc_gpu_and32(w, ~mask, PARGC_GPU_RELEASE);
}

/* Initialise a bitmap of nwords for nbits usable bits: bits past nbits
 * are set for good so that claims never return them.  Not atomic: the
 * bitmap must not be visible to other threads yet. */
static inline PARGC_HD void pargc_gpu_bitmap_init(uint32_t *w, int nwords, uint32_t nbits)
{
  for (int i = 0; i < nwords; i++) {
    uint32_t lo = (uint32_t)i * 32;
    uint32_t v;
    if (nbits >= lo + 32)
      v = 0;
    else if (nbits <= lo)
      v = ~0u;
    else
      v = ~0u << (nbits - lo);
    pargc_gpu_store32(&w[i], v);
  }
}

/* Number of usable bits that are set (allocated slots). */
static inline PARGC_HD uint32_t pargc_gpu_bitmap_used(const uint32_t *w, int nwords, uint32_t nbits)
{
  uint32_t n = 0;
  for (int i = 0; i < nwords; i++) {
    uint32_t lo = (uint32_t)i * 32, v = pargc_gpu_load32(&w[i]);
    if (nbits <= lo)
      break;
    if (nbits < lo + 32)
      v &= (1u << (nbits - lo)) - 1;
    n += (uint32_t)pargc_gpu_popc32(v);
  }
  return n;
}

#endif
