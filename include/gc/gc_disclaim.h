/*
 * gc/gc_disclaim.h -- disclaim procedures: a per-kind hook that the sweep
 * calls on each unmarked object before reclaiming it, and "finalized"
 * allocation built on it.
 *
 * Unlike finalizers (gc.h), a disclaim procedure runs during the sweep,
 * without ordering and without resurrecting anything the object points
 * to; it is cheap enough for millions of objects.  It must not allocate
 * or take locks.  Returning nonzero keeps the object (and everything it
 * points to stays as marked by the last collection: nothing is
 * resurrected).
 */
#ifndef GC_DISCLAIM_H
#define GC_DISCLAIM_H

#include "gc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Prepare the kind used by GC_finalized_malloc.  Call once before it. */
GC_API void GC_CALL GC_init_finalized_malloc(void);

/* Return nonzero to keep obj from being reclaimed this time. */
typedef int(GC_CALLBACK *GC_disclaim_proc)(void *obj);

/* Install proc for objects of kind.  With mark_from_all nonzero, objects
 * reachable from any object of this kind (reclaimable or not) are kept
 * alive until the disclaim procedure has seen their referrer. */
GC_API void GC_CALL GC_register_disclaim_proc(int kind, GC_disclaim_proc proc, int mark_from_all)
    GC_ATTR_NONNULL(2);

/* What GC_finalized_malloc calls: proc(obj, cd) when obj is reclaimed. */
struct GC_finalizer_closure {
  GC_finalization_proc proc;
  void *cd;
};

/* Allocate size bytes (zeroed, scanned) whose closure runs during the
 * sweep that reclaims them.  fc must stay valid (e.g. static) for the
 * object's lifetime; it is not copied.  Objects that the finalized object
 * points to are kept until the closure has run. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_finalized_malloc(size_t size, const struct GC_finalizer_closure *fc) GC_ATTR_NONNULL(2);

#ifdef __cplusplus
}
#endif
#endif /* GC_DISCLAIM_H */
