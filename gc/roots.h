/* roots: static root ranges -- the data and bss of the executable and of
 * every loaded shared object (found with dl_iterate_phdr, re-read at each
 * collection so libraries loaded later with dlopen are seen), and the
 * ranges given with GC_add_roots minus those removed with GC_remove_roots.
 * pargc's own data is excluded (it never holds the only pointer to a
 * live object).
 */
#ifndef PARGC_GC_ROOTS_H
#define PARGC_GC_ROOTS_H
#ifndef PARGC_BUILDING
#error "gc/roots.h is internal to pargc"
#endif

#include "gc/threads.h"

void pargc_roots_init(void);
/* Call fn(lo, hi, arg) for each static root range, word-aligned,
 * non-overlapping.  Called with the world stopped. */
void pargc_roots_each_range(pargc_range_fn fn, void *arg);
/* User root ranges (GC_add_roots / GC_remove_roots / GC_clear_roots). */
void pargc_roots_add(void *lo, void *hi);
void pargc_roots_remove(void *lo, void *hi);
void pargc_roots_clear(void);

#endif
