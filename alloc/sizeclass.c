/* sizeclass: build the class table; see sizeclass.h. */
#include "config.h"
#include "alloc/sizeclass.h"
#include "alloc/pagemap.h"

struct pargc_sizeclass pargc_sizeclasses[PARGC_NCLASSES];
uint8_t pargc_sizeclass_by_granule[PARGC_SIZECLASS_TABLE_MAX / PARGC_GRANULE + 1];

static uint32_t class_size(unsigned c)
{
  if (c < 8)
    return 16 * (c + 1);
  unsigned e = 7 + (c - 8) / 8, j = (c - 8) % 8;
  return (1u << e) + (j + 1) * ((1u << e) >> 3);
}

void pargc_sizeclass_init(void)
{
  for (unsigned c = 0; c < PARGC_NCLASSES; c++) {
    uint32_t size = class_size(c);
    /* Smallest span whose tail waste is at most 1/8 (a span is owned by
     * one thread, so smaller spans also mean less memory held per
     * thread); failing that the span (of at most 16 pages) with the
     * least waste. */
    uint32_t best = 0;
    uint64_t best_permille = UINT64_MAX;
    for (uint32_t pages = 1; pages <= 16; pages++) {
      uint64_t bytes = (uint64_t)pages * PARGC_PAGE_SIZE;
      if (bytes < size)
        continue;
      uint64_t waste = bytes % size;
      if (waste * 8 <= bytes) {
        best = pages;
        break;
      }
      if (waste * 1000 / bytes < best_permille) {
        best_permille = waste * 1000 / bytes;
        best = pages;
      }
    }
    struct pargc_sizeclass *sc = &pargc_sizeclasses[c];
    sc->size = size;
    sc->pages = best;
    sc->nobjs = (uint32_t)((uint64_t)best * PARGC_PAGE_SIZE / size);
    sc->recip = ((uint64_t)1 << PARGC_RECIP_SHIFT) / size + 1;
  }
  for (size_t g = 0; g <= PARGC_SIZECLASS_TABLE_MAX / PARGC_GRANULE; g++)
    pargc_sizeclass_by_granule[g] = (uint8_t)pargc_sizeclass_of(g * PARGC_GRANULE);
}
