/* compat: what the Boehm GC compatibility modules share -- finalize.c
 * (finalizers, disappearing links, toggle-refs), kinds.c (GC_new_kind,
 * typed, gcj, disclaim), debug.c (GC_DEBUG objects, leak detection) and
 * the thin API files.
 *
 * Each module installs its collector hooks from pargc_init (init.c), in
 * the order finalize, kinds, debug: finalization marks more objects, so
 * the disclaim and leak passes must run after it and see final marks.
 * The after-mark hooks run with the world stopped and the collection
 * lock held: they call no malloc and take no lock a mutator may hold.
 */
#ifndef PARGC_API_COMPAT_H
#define PARGC_API_COMPAT_H
#ifndef PARGC_BUILDING
#error "api/compat.h is internal to pargc"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/pagemap.h"

void pargc_finalize_install(void);
void pargc_kinds_install(void);
void pargc_debug_install(void);
void pargc_misc_install(void);

/* Collection-time object queries (world stopped, after marking).
 * Marked: true for addresses outside the heap (never "dead"), for
 * uncollectable objects, and for marked ones. */
bool pargc_compat_marked(uintptr_t p);
/* The base of the object containing p, 0 if none. */
uintptr_t pargc_compat_base(uintptr_t p);

/* Boehm's kind numbers swap normal and pointer-free (Boehm: PTRFREE 0,
 * NORMAL 1; pargc: NORMAL 0, ATOMIC 1); all others are the same. */
static inline unsigned pargc_kind_from_api(int k)
{
  return k == 0 ? 1u : k == 1 ? 0u : (unsigned)k;
}
static inline int pargc_kind_to_api(unsigned k)
{
  return k == 0 ? 1 : k == 1 ? 0 : (int)k;
}

/* The size to allocate for n bytes asked for: one byte more, as Boehm GC
 * does by default, so that a pointer one past an object's end -- a legal
 * C pointer value, and what a loop over an array leaves in a register --
 * still points into the object and keeps it alive.  Exactly n once the
 * program turns Boehm's GC_all_interior_pointers off (pargc still
 * recognises interior pointers then; only the past-the-end ones are
 * lost). */
extern int GC_all_interior_pointers;
static inline size_t pargc_api_size(size_t n)
{
  size_t extra = GC_all_interior_pointers != 0;
  return n > SIZE_MAX - extra ? SIZE_MAX : n + extra;
}

/* Allocate pargc_api_size(size) bytes of (pargc) kind k
 * through the right path; _exact adds nothing (client free lists of
 * gc_inline.h, whose sizes are granules). */
void *pargc_compat_alloc(size_t size, unsigned kind);
void *pargc_compat_alloc_exact(size_t size, unsigned kind);
/* GC_realloc of an object of the typed kinds (gc_typed.h), whose
 * descriptor lives in the object's last words: the new object gets the
 * old one's descriptor (typed arrays: scanned whole) instead of a copy of
 * payload there.  Returns false, doing nothing, for the other kinds. */
bool pargc_kinds_realloc_typed(void *old, size_t size, void **out);

/* Run queued finalizers if finalization is not on demand (after an
 * explicit collection, or from the allocation slow path when a
 * collection triggered by allocation queued some). */
void pargc_finalize_after_collection(bool explicit_call);
/* Boehm's GC_collect_or_expand rule: finalizers were registered since
 * the last collection, more than one per `per_finalizer` bytes
 * allocated (`allocated`), and finalization has happened before: collect
 * rather than grow the heap. */
bool pargc_finalize_wants_collection(size_t allocated, size_t per_finalizer);
/* Print the debug and leak reports gathered by the last collection. */
void pargc_debug_after_collection(void);

/* A Boehm setting kept in a plain variable: GC_set_<name> stores the
 * value, GC_get_<name> returns it (gc.h declares both). */
#define PARGC_API_SETTING(type, name, variable)      \
  void GC_set_##name(type value) { variable = value; } \
  type GC_get_##name(void) { return variable; }

/* Boehm's variables that change collector behaviour when written. */
extern int GC_find_leak;
extern int GC_finalize_on_demand;
extern int GC_java_finalization;

#endif
