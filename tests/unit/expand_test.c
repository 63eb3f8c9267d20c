/* GC_expand_hp at start-up: the next collection comes once the heap
 * could have grown by what was asked, as on Boehm GC -- not that plus
 * the least interval.
 *
 * Guile expands its heap by 2 MB right after GC_INIT.  The expansion
 * used to be added to the interval, whose floor is 1 MB
 * (PARGC_HEAP_MIN_INTERVAL) where Boehm GC's heap starts at 64 KiB: the
 * first collection came 3 MB on instead of 2, and the memory touched by
 * then stayed resident (Guile's allocation script peaked 0.7 MB higher).
 * Here: a fresh heap, one collection, GC_expand_hp(2 MB); the interval
 * is the committed heap plus 2 MB less the live data, and allocating a
 * little more than that collects. */
#include "config.h"
#include "alloc/heap.h"
#include <gc.h>
#include "check.h"

#define MB ((size_t)1 << 20)

int main(void)
{
  setenv("PARGC_HEAP_MIN_INTERVAL", "1M", 1);
  GC_INIT();
  GC_gcollect();
  size_t heap = pargc_heap_committed_bytes(), live = atomic_load(&pargc_heap.last_live);
  size_t before = pargc_heap_interval();
  CHECK(heap >= live);
  CHECK(heap - live < MB / 2); /* a fresh heap holds little */
  GC_word gc_no = GC_get_gc_no();
  CHECK_EQ(GC_expand_hp(2 * MB), 1);
  size_t e = pargc_heap_interval();
  size_t room = heap + 2 * MB - live;
  CHECK_EQ(e, room > before ? room : before);
  CHECK(e < 2 * MB + MB / 2); /* not 1 MB + 2 MB */

  /* Allocating the interval and 512 KiB more (4 KiB at a time; the
   * allocator counts in steps of 256 KiB) collects. */
  size_t failed = 0;
  for (size_t done = 0; done < e + MB / 2; done += 4096)
    failed += GC_MALLOC(4096) == NULL;
  CHECK_EQ(failed, 0);
  CHECK(GC_get_gc_no() > gc_no);

  /* Expanding by less than the interval leaves it as it is. */
  GC_gcollect();
  size_t e1 = pargc_heap_interval();
  CHECK_EQ(GC_expand_hp(4096), 1);
  CHECK(pargc_heap_interval() >= e1);
  return CHECK_SUMMARY();
}
