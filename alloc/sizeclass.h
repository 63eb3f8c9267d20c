/* sizeclass: the small-object size classes and their geometry.
 *
 * Classes are 16-byte granules up to 128 bytes, then eight classes per
 * power of two up to 512 KiB (104 classes).  For a request above 128
 * bytes the class is at most 1/8 larger than the request, so internal
 * waste is under 12.5%; below 128 bytes it is under one 16-byte granule.
 * Each class lives in spans of 1..16 pages (64 KiB each): the smallest
 * span whose unusable tail is at most 1/8 of it, failing that the one
 * with the least waste.  The table is computed at start-up
 * (pargc_sizeclass_init), not written out anywhere.  Larger objects are
 * "large": runs of whole pages, one object each.
 *
 * Object index within a span is computed without division:
 *   index = (offset * recip) >> 40,  recip = floor(2^40 / size) + 1,
 * exact for offset < 2^20 (span <= 1 MiB) and size <= 2^20.
 */
#ifndef PARGC_SIZECLASS_H
#define PARGC_SIZECLASS_H
#ifndef PARGC_BUILDING
#error "alloc/sizeclass.h is internal to pargc"
#endif

#include <stddef.h>
#include <stdint.h>

#include "alloc/report.h"

#define PARGC_GRANULE 16
#define PARGC_NCLASSES 104
#define PARGC_SMALL_MAX (512 * 1024)
#define PARGC_RECIP_SHIFT 40

struct pargc_sizeclass {
  uint32_t size;      /* object size in bytes */
  uint32_t pages;     /* pages per span */
  uint32_t nobjs;     /* objects per span */
  uint64_t recip;     /* floor(2^40 / size) + 1 */
};

extern struct pargc_sizeclass pargc_sizeclasses[PARGC_NCLASSES];

void pargc_sizeclass_init(void);

/* The class of a request of `size` bytes (1..PARGC_SMALL_MAX; 0 counts
 * as 1).  A handful of instructions: used on the allocation fast path. */
static inline unsigned pargc_sizeclass_of(size_t size)
{
  pargc_assert(size <= PARGC_SMALL_MAX);
  if (size <= 128)
    return size ? (unsigned)((size - 1) >> 4) : 0;
  size_t s = size - 1;
  unsigned e = 63u - (unsigned)__builtin_clzl(s); /* 2^e <= s < 2^(e+1), e >= 7 */
  unsigned c = 8 + (e - 7) * 8 + (unsigned)((s - ((size_t)1 << e)) >> (e - 3));
  pargc_assert(c < PARGC_NCLASSES);
  return c;
}

/* The class of each request up to PARGC_SIZECLASS_TABLE_MAX bytes, by
 * granules (index (size + 15) / 16; 0 for size 0): one load instead of
 * pargc_sizeclass_of's arithmetic, which above 128 bytes is a dozen
 * instructions (a bit scan, shifts).  malloc's fast path uses it, where
 * most requests are of a few hundred bytes; GC_MALLOC's keeps the
 * arithmetic, which for its small objects is three instructions. */
#define PARGC_SIZECLASS_TABLE_MAX 1024
extern uint8_t pargc_sizeclass_by_granule[PARGC_SIZECLASS_TABLE_MAX / PARGC_GRANULE + 1];

static inline size_t pargc_sizeclass_size(unsigned c)
{
  pargc_assert(c < PARGC_NCLASSES);
  return pargc_sizeclasses[c].size;
}

/* Index of the object containing byte `offset` of a span of class c. */
static inline uint32_t pargc_sizeclass_index(uint64_t offset, uint64_t recip)
{
  return (uint32_t)((offset * recip) >> PARGC_RECIP_SHIFT);
}

#endif
