/*
 * gc/gc_gcj.h -- gcj-style allocation: objects whose first word points to
 * a type record ("vtable") that holds the object's mark descriptor.
 *
 * The descriptor is read from the word at offset sizeof(void *) of the
 * vtable (the first vtable word is free for the client, e.g. a class
 * pointer).  It uses the GC_DS_* encodings of gc_mark.h.  This is how the
 * GNU Java runtime laid out objects; other language runtimes with
 * per-class layouts use it too.
 */
#ifndef GC_GCJ_H
#define GC_GCJ_H

#ifndef GC_H
#include "gc.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Set up gcj allocation.  mp_index is the mark procedure slot to use
 * (GC_GCJ_RESERVED_MARK_PROC_INDEX is meant for it) and mp the procedure
 * used for objects whose descriptor is a GC_DS_PROC; call once, before
 * the first GC_gcj_malloc. */
GC_API void GC_CALL GC_init_gcj_malloc(int mp_index, void * /* GC_mark_proc */ mp);

/* Allocate lb bytes whose first word is set to ptr_to_struct_containing_descr
 * (the vtable); the rest is zeroed. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_gcj_malloc(size_t lb, void *ptr_to_struct_containing_descr);
/* The debug variant, with header and trailer (see GC_debug_malloc). */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_debug_gcj_malloc(size_t lb, void *ptr_to_struct_containing_descr, GC_EXTRA_PARAMS);
/* For large objects only pointed to near their start. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_gcj_malloc_ignore_off_page(size_t lb, void *ptr_to_struct_containing_descr);

/* The object kinds used for gcj objects (valid after GC_init_gcj_malloc). */
GC_API int GC_gcj_kind;
GC_API int GC_gcj_debug_kind;

#ifdef GC_DEBUG
#define GC_GCJ_MALLOC(s, d) GC_debug_gcj_malloc(s, d, GC_EXTRAS)
#define GC_GCJ_MALLOC_IGNORE_OFF_PAGE(s, d) GC_debug_gcj_malloc(s, d, GC_EXTRAS)
#else
#define GC_GCJ_MALLOC(s, d) GC_gcj_malloc(s, d)
#define GC_GCJ_MALLOC_IGNORE_OFF_PAGE(s, d) GC_gcj_malloc_ignore_off_page(s, d)
#endif

#ifdef __cplusplus
}
#endif
#endif /* GC_GCJ_H */
