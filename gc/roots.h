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

#include <stdbool.h>
#include <stddef.h>

void pargc_roots_init(void);
/* Call fn(lo, hi, arg) for each static root range, word-aligned,
 * non-overlapping, in address order; user ranges included.  Called with
 * the world stopped, by one thread at a time (it takes no lock, does not
 * call malloc, and reuses its scratch memory from call to call); the
 * loaded objects are those pargc_roots_stop_world found when it stopped
 * the world (read afresh when the world was stopped some other way). */
void pargc_roots_each_range(pargc_range_fn fn, void *arg);
/* User root ranges (GC_add_roots / GC_remove_roots / GC_clear_roots). */
void pargc_roots_add(void *lo, void *hi);
void pargc_roots_remove(void *lo, void *hi);
void pargc_roots_clear(void);
/* Static data never to scan (GC_exclude_static_roots): subtracted from the
 * static segments, not from the user's ranges.  A hole may fall in the
 * middle of a segment. */
void pargc_roots_exclude(void *lo, void *hi);
void pargc_roots_clear_exclusions(void);

/* GC_register_has_static_roots_callback: asked, at each collection, for
 * each writable segment of the program ("" as the name) and of every
 * loaded library; 0 leaves that segment out of the roots.  Called with
 * the world stopped: it must not take locks the program may hold. */
extern int (*pargc_roots_filter)(const char *name, void *start, size_t size);
/* Points at GC_no_dls (set by the compatibility layer): while nonzero no
 * loaded object's data is scanned, the program's included. */
extern const volatile int *pargc_roots_no_dls;
/* Stop the world by calling stop() from inside a walk of the loaded
 * objects, which holds the dynamic loader's lock, and note their static
 * ranges for the pargc_roots_each_range calls of this stop.  A walk
 * with the world already stopped waits forever for a stopped thread that
 * holds that lock (in dlopen, dlclose or dl_iterate_phdr); this way no
 * stopped thread can hold it.  The collector's every stop goes through
 * here.  Not with the world stopped. */
void pargc_roots_stop_world(void (*stop)(void));
/* Is p in the static data a collection would scan now (after the filter,
 * GC_no_dls, RELRO and exclusions)?  Boehm GC's "temporary roots"
 * (GC_is_tmp_root): found afresh at each collection.  Not with the world
 * stopped (takes the registry lock). */
bool pargc_roots_is_scanned_static(const void *p);
/* Is p in a range given with GC_add_roots? */
bool pargc_roots_is_user_root(const void *p);

/* pargc's own data is not scanned: when libpargc is a shared object, none
 * of its segments is; when pargc is linked into the program (the unit
 * tests), only variables marked PARGC_UNSCANNED are left out -- use it for
 * large tables.  So a module that keeps the only pointer to a heap object
 * in its own static data (finalizer tables, say) must push that pointer
 * itself; static roots will not find it. */
#define PARGC_UNSCANNED __attribute__((section("pargc_unscanned")))
/* A large zero-filled table of pargc's own, [lo, lo + size), that holds
 * no root -- left out like PARGC_UNSCANNED variables, without making the
 * library file carry its zeros (a named section is stored in the file
 * even when zero-filled).  Call once at initialisation; at most a few
 * tables.  GC_clear_exclusion_tables does not drop them. */
void pargc_roots_exclude_own(const void *lo, size_t size);
/* The address of a PARGC_UNSCANNED static of roots.c (for tests). */
void *pargc_roots_private_probe(void);

#endif
