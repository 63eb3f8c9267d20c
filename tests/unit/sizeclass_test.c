/* Unit test for alloc/sizeclass: class lookup is monotone and tight, the
 * waste bounds hold, and index-by-multiplication equals division. */
#include "config.h"
#include "alloc/pagemap.h"
#include "alloc/sizeclass.h"
#include "check.h"

int main(void)
{
  pargc_sizeclass_init();
  /* Every request maps to the smallest class that holds it. */
  for (size_t s = 1; s <= PARGC_SMALL_MAX; s += (s < 4096 ? 1 : 61)) {
    unsigned c = pargc_sizeclass_of(s);
    if (c >= PARGC_NCLASSES || pargc_sizeclass_size(c) < s ||
        (c > 0 && pargc_sizeclass_size(c - 1) >= s)) {
      CHECK(!"class of size");
      fprintf(stderr, "size %zu -> class %u\n", s, c);
      break;
    }
  }
  CHECK_EQ(pargc_sizeclass_of(PARGC_SMALL_MAX), PARGC_NCLASSES - 1);
  CHECK_EQ(pargc_sizeclass_size(PARGC_NCLASSES - 1), PARGC_SMALL_MAX);
  CHECK_EQ(pargc_sizeclass_of(0), 0);
  /* malloc's table agrees with the arithmetic for every size it covers. */
  for (size_t n = 0; n <= PARGC_SIZECLASS_TABLE_MAX; n++)
    if (pargc_sizeclass_by_granule[(n + PARGC_GRANULE - 1) / PARGC_GRANULE] !=
        pargc_sizeclass_of(n))
      CHECK(!"class by granule table");
  CHECK_EQ(pargc_sizeclass_size(0), 16);

  for (unsigned c = 0; c < PARGC_NCLASSES; c++) {
    const struct pargc_sizeclass *sc = &pargc_sizeclasses[c];
    /* Internal waste above 128 bytes: under 1/8 of the class. */
    if (c >= 8) {
      size_t smallest = pargc_sizeclass_size(c - 1) + 1;
      CHECK((sc->size - smallest) * 8 < sc->size);
    }
    CHECK(sc->pages >= 1 && sc->pages <= 16);
    CHECK(sc->nobjs >= 1 && sc->nobjs <= PARGC_MARK_WORDS * 64);
    /* Tail waste: at most 1/8 of the span for every class. */
    size_t span = sc->pages * PARGC_PAGE_SIZE;
    CHECK((span - (size_t)sc->nobjs * sc->size) * 8 <= span);
    /* Multiplicative index == division, at every object boundary. */
    for (uint64_t off = 0; off < span; off += (sc->size < 4096 ? 7 : sc->size / 13 + 1)) {
      if (pargc_sizeclass_index(off, sc->recip) != off / sc->size) {
        CHECK(!"index by multiplication");
        fprintf(stderr, "class %u size %u off %llu\n", c, sc->size, (unsigned long long)off);
        break;
      }
    }
    for (uint32_t i = 1; i <= sc->nobjs; i++) {
      uint64_t off = (uint64_t)i * sc->size;
      if (pargc_sizeclass_index(off - 1, sc->recip) != i - 1 ||
          pargc_sizeclass_index(off, sc->recip) != i) {
        CHECK(!"index at boundary");
        break;
      }
    }
  }
  return CHECK_SUMMARY();
}
