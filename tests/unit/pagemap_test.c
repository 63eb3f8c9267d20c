/* Unit test for alloc/pagemap and alloc/page: lookups from any address
 * (interior pointers, tails of multi-page spans, outside the heap), mark
 * bits, free-list building and the sweep of one span. */
#include "config.h"
#include "alloc/heap.h"
#include "alloc/options.h"
#include "alloc/page.h"
#include "alloc/pagemap.h"
#include "alloc/thread.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

/* A new span of class c; *list and *n get its free list. */
static struct pargc_page *new_span(struct pargc_tctx *ctx, unsigned c, void ***list, size_t *n)
{
  enum pargc_run_source src;
  struct pargc_page *run = pargc_heap_take_run(ctx, pargc_sizeclasses[c].pages, false, &src);
  *list = pargc_page_format_small(run, PARGC_KIND_NORMAL, c, ctx->id, 0, n);
  return run;
}

int main(void)
{
  setenv("PARGC_HEAP_RESERVE", "1G", 1);
  pargc_alloc_init();
  struct pargc_tctx *ctx = pargc_tctx_new();

  /* A one-page span of 48-byte objects. */
  unsigned c48 = pargc_sizeclass_of(48);
  void **list;
  size_t n;
  struct pargc_page *pg = new_span(ctx, c48, &list, &n);
  uintptr_t base = pargc_page_addr(pg);
  struct pargc_page *found;
  CHECK_EQ(pargc_pagemap_object(base, &found), 0);
  CHECK(found == pg);
  CHECK_EQ(pargc_pagemap_object(base + 47, &found), 0);  /* interior */
  CHECK_EQ(pargc_pagemap_object(base + 48, &found), 1);
  CHECK_EQ(pargc_pagemap_object(base + 48 * 100 + 5, &found), 100);
  /* Past the last object (tail waste of the page) is no object. */
  CHECK_EQ(pargc_pagemap_object(base + PARGC_PAGE_SIZE - 1, &found),
           (PARGC_PAGE_SIZE - 1) / 48 < pg->nobjs ? (int)((PARGC_PAGE_SIZE - 1) / 48) : -1);
  CHECK_EQ(pargc_pagemap_object(pargc_region.base - 8, &found), -1);
  CHECK_EQ(pargc_pagemap_object(0, &found), -1);
  CHECK(pargc_pagemap_lookup(pargc_region.base + pargc_region.reserve - 8) == NULL);

  /* A multi-page span: tail pages resolve to the head. */
  unsigned cbig = pargc_sizeclass_of(40000);
  CHECK(pargc_sizeclasses[cbig].pages > 1);
  void **big_list;
  size_t big_n;
  struct pargc_page *big = new_span(ctx, cbig, &big_list, &big_n);
  uintptr_t bbase = pargc_page_addr(big);
  size_t bsize = big->size;
  CHECK(pargc_pagemap_lookup(bbase + PARGC_PAGE_SIZE + 3) == big);
  CHECK_EQ(pargc_pagemap_object(bbase + bsize * 2 + 100, &found), 2);
  CHECK(found == big);

  /* Mark bits. */
  uint64_t *marks = pargc_page_marks(pg);
  CHECK(pargc_mark_set(marks, 5));
  CHECK(!pargc_mark_set(marks, 5));
  CHECK(pargc_mark_test(marks, 5));
  pargc_mark_clear(marks, 5);
  CHECK(!pargc_mark_test(marks, 5));

  /* Free list of a fresh span: the objects of its first 4 KiB card, the
   * rest not linked (nor touched) yet; extending it links them all, each
   * once, in address order, in a few steps. */
  CHECK_EQ(n, (PARGC_CARD_SIZE + 47) / 48);
  CHECK_EQ(pargc_page_list_length(list), n);
  CHECK((uintptr_t)list == base);
  CHECK_EQ(pg->built, 1);
  CHECK(!pargc_slot_unbuilt(pg, (uint32_t)n - 1));
  CHECK(pargc_slot_unbuilt(pg, (uint32_t)n));
  CHECK(pargc_slot_is_free(pg, (uint32_t)n)); /* never linked: free */
  size_t total = n, steps = 1;
  uintptr_t expect = base;
  int order_ok = 1;
  for (void **p = list; p; p = (void **)((uintptr_t)*p ^ pargc_link_key), expect += 48)
    order_ok &= (uintptr_t)p == expect;
  while (pg->built) {
    size_t more;
    void **l = pargc_page_extend(pg, &more);
    CHECK(more > 0);
    CHECK_EQ(pargc_page_list_length(l), more);
    for (void **p = l; p; p = (void **)((uintptr_t)*p ^ pargc_link_key), expect += 48)
      order_ok &= (uintptr_t)p == expect;
    total += more;
    steps++;
  }
  CHECK(order_ok);
  CHECK_EQ(total, pg->nobjs);
  CHECK(steps <= 6);
  CHECK(!pargc_slot_unbuilt(pg, pg->nobjs - 1));
  /* A multi-page span of large objects: at least one object a step. */
  CHECK_EQ(big_n, 1);
  CHECK(big->built != 0);
  size_t big_total = big_n;
  while (big->built) {
    size_t more;
    pargc_page_extend(big, &more);
    CHECK(more >= 1);
    big_total += more;
  }
  CHECK_EQ(big_total, big->nobjs);

  /* Sweep: mark every third object live; the rest come back zeroed. */
  for (uint32_t i = 0; i < pg->nobjs; i++) {
    char *o = (char *)(base + (uintptr_t)i * 48);
    memset(o, 0xAB, 48);
    if (i % 3 == 0)
      pargc_mark_set(marks, i);
  }
  struct pargc_sweep_result r;
  pargc_page_sweep(pg, &r);
  CHECK_EQ(r.nlive, (pg->nobjs + 2) / 3);
  CHECK_EQ(r.nfree, pg->nobjs - r.nlive);
  size_t zero_ok = 1, live_ok = 1, count = 0;
  for (void **p = r.free; p; p = (void **)((uintptr_t)*p ^ pargc_link_key)) {
    uint32_t i = (uint32_t)(((uintptr_t)p - base) / 48);
    if (i % 3 == 0)
      live_ok = 0;
    for (int b = 8; b < 48; b++)
      if (((unsigned char *)p)[b])
        zero_ok = 0;
    count++;
  }
  CHECK_EQ(count, r.nfree);
  CHECK(zero_ok);
  CHECK(live_ok);
  /* A live object keeps its contents. */
  CHECK(((unsigned char *)base)[10] == 0xAB);

  /* A span with no marks is entirely free (the caller releases it). */
  memset(pargc_page_marks(big), 0, PARGC_MARK_WORDS * 8);
  pargc_page_sweep(big, &r);
  CHECK_EQ(r.nlive, 0);
  return CHECK_SUMMARY();
}
