/* pagemap: reserve the heap range and the side arrays; see pagemap.h. */
#include "config.h"
#include "alloc/pagemap.h"
#include "alloc/os.h"
#include "alloc/report.h"

struct pargc_region pargc_region;

bool pargc_pagemap_init(size_t reserve)
{
  reserve &= ~(PARGC_PAGE_SIZE - 1);
  size_t max_pages = reserve >> PARGC_PAGE_SHIFT;
  /* Align the heap to 2 MiB so transparent huge pages can back it. */
  void *base = pargc_os_reserve(reserve, (size_t)2 << 20);
  void *pages = pargc_os_alloc_meta(max_pages * sizeof(struct pargc_page));
  size_t mark_bytes = max_pages * PARGC_MARK_WORDS * sizeof(uint64_t);
  void *marks = pargc_os_alloc_meta(mark_bytes);
  void *marks2 = pargc_os_alloc_meta(mark_bytes);
  void *blacklist = pargc_os_alloc_meta((max_pages + 63) / 64 * sizeof(uint64_t));
  void *dirty = pargc_os_alloc_meta((max_pages * PARGC_CARDS_PER_PAGE + 63) / 64 * sizeof(uint64_t));
  if (!base || !pages || !marks || !marks2 || !blacklist || !dirty) {
    pargc_warn("cannot reserve %zu bytes of address space for the heap "
               "(lower PARGC_HEAP_RESERVE)", reserve);
    return false;
  }
  pargc_region.base = (uintptr_t)base;
  pargc_region.reserve = reserve;
  pargc_region.max_pages = max_pages;
  atomic_store(&pargc_region.top, 0);
  pargc_region.pages = pages;
  pargc_region.mark_arrays[0] = marks;
  pargc_region.mark_arrays[1] = marks2;
  pargc_region.marks = marks;
  pargc_region.sweep_marks = marks;
  pargc_region.blacklist = blacklist;
  pargc_region.dirty = dirty;
  return true;
}

void pargc_blacklist_clear(void)
{
  size_t hi = atomic_load(&pargc_region.blacklist_hi);
  for (size_t w = 0; w < (hi + 63) / 64; w++)
    atomic_store_explicit(&pargc_region.blacklist[w], 0, memory_order_relaxed);
  atomic_store(&pargc_region.blacklist_hi, 0);
}

__thread volatile sig_atomic_t pargc_mark_section_depth __attribute__((tls_model("initial-exec")));
__thread volatile sig_atomic_t pargc_mark_section_stop __attribute__((tls_model("initial-exec")));
void (*pargc_mark_section_stop_hook)(void);

void pargc_mark_section_take_stop(void)
{
  pargc_mark_section_stop = 0;
  atomic_signal_fence(memory_order_seq_cst);
  void (*take)(void) = pargc_mark_section_stop_hook;
  if (take)
    take();
}

/* Between collections the two bitmap pointers are equal; from a
 * collection's start to its end (or abandon) they differ.  All three
 * run with the world stopped by the caller (pagemap.h). */
void pargc_pagemap_flip_marks(void)
{
  pargc_assert(pargc_world_stopped_by_me);
  pargc_assert(pargc_region.marks == pargc_region.sweep_marks);
  pargc_region.marks = pargc_region.marks == pargc_region.mark_arrays[0]
                           ? pargc_region.mark_arrays[1]
                           : pargc_region.mark_arrays[0];
}

void pargc_pagemap_marks_abandon(void)
{
  pargc_assert(pargc_world_stopped_by_me);
  pargc_assert(pargc_region.marks != pargc_region.sweep_marks);
  pargc_region.marks = pargc_region.sweep_marks;
}

void pargc_pagemap_marks_complete(void)
{
  pargc_assert(pargc_world_stopped_by_me);
  pargc_assert(pargc_region.marks != pargc_region.sweep_marks);
  pargc_region.sweep_marks = pargc_region.marks;
}
