/*
 * gc/gc.h -- pargc's implementation of the Boehm GC public API.
 *
 * pargc is a parallel conservative mark-sweep collector.  This header
 * declares the Boehm GC 8.2 interface with the same names, types and
 * calling conventions, so that a program written for Boehm GC compiles
 * against it unchanged, and a program compiled against Boehm GC's own
 * headers links against libpargc unchanged.
 *
 * Memory from GC_MALLOC is zeroed and reclaimed automatically once no
 * pointer to it (or into it) remains in the roots: static data, thread
 * stacks and registers, and other reachable heap objects.
 *
 * See pargc.h for what Boehm GC lacks (k, GC threads, statistics).
 */
#ifndef PARGC_GC_H
#define PARGC_GC_H
/* Boehm's include guard, so that code testing for it behaves. */
#ifndef GC_H
#define GC_H
#endif

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PARGC_GC_VERSION_MAJOR 8
#define PARGC_GC_VERSION_MINOR 2
/* The Boehm GC version whose interface this header provides. */
#ifndef GC_VERSION_MAJOR
#define GC_VERSION_MAJOR 8
#define GC_VERSION_MINOR 2
#define GC_VERSION_MICRO 2
#endif

#if defined(__GNUC__)
#define GC_API extern __attribute__((visibility("default")))
#define GC_ATTR_MALLOC __attribute__((__malloc__))
#define GC_ATTR_ALLOC_SIZE(n) __attribute__((__alloc_size__(n)))
#define GC_ATTR_NONNULL(n) __attribute__((__nonnull__(n)))
#define GC_ATTR_DEPRECATED __attribute__((__deprecated__))
#else
#define GC_API extern
#define GC_ATTR_MALLOC
#define GC_ATTR_ALLOC_SIZE(n)
#define GC_ATTR_NONNULL(n)
#define GC_ATTR_DEPRECATED
#endif
#define GC_CALL
#define GC_CALLBACK

/* A machine word, signed and unsigned, as Boehm GC defines them. */
typedef unsigned long GC_word;
typedef long GC_signed_word;

/* ---- Initialisation --------------------------------------------------- */

/* Initialise the collector.  Optional: the first allocation does it too,
 * but calling it from the main thread before any other thread starts is
 * what Boehm GC recommends, and GC_INIT() does exactly that. */
GC_API void GC_CALL GC_init(void);
/* Nonzero once GC_init has run. */
GC_API int GC_CALL GC_is_init_called(void);
#define GC_INIT() GC_init()

/* ---- Allocation ------------------------------------------------------- */

/* Allocate `size` bytes of zeroed, collectable, scanned memory.  Returns
 * NULL (after calling the out-of-memory handler, see GC_set_oom_fn) only
 * when the heap cannot grow. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL GC_malloc(size_t size);
/* Collectable memory that is never scanned for pointers (strings, numeric
 * arrays).  Its contents are NOT zeroed. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL GC_malloc_atomic(size_t size);
/* Memory that is scanned but never collected; release it with GC_free. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL GC_malloc_uncollectable(size_t size);
/* Uncollectable and pointer-free. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL GC_malloc_atomic_uncollectable(size_t size);
/* Large objects to which only pointers near the start are kept: pargc
 * recognises interior pointers everywhere, so these equal GC_malloc and
 * GC_malloc_atomic. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL GC_malloc_ignore_off_page(size_t size);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL GC_malloc_atomic_ignore_off_page(size_t size);
/* Resize: GC_realloc(NULL, n) is GC_malloc(n); GC_realloc(p, 0) frees p
 * and returns NULL.  The object keeps its kind. */
GC_API void *GC_CALL GC_realloc(void *old, size_t size) GC_ATTR_ALLOC_SIZE(2);
/* Free an object explicitly (optional; the collector would find it).
 * GC_free(NULL) does nothing.  A pointer that is not the start of a heap
 * object, or an object already free, is reported and ignored. */
GC_API void GC_CALL GC_free(void *obj);

#define GC_MALLOC(sz) GC_malloc(sz)
#define GC_MALLOC_ATOMIC(sz) GC_malloc_atomic(sz)
#define GC_MALLOC_UNCOLLECTABLE(sz) GC_malloc_uncollectable(sz)
#define GC_MALLOC_ATOMIC_UNCOLLECTABLE(sz) GC_malloc_atomic_uncollectable(sz)
#define GC_MALLOC_IGNORE_OFF_PAGE(sz) GC_malloc_ignore_off_page(sz)
#define GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(sz) GC_malloc_atomic_ignore_off_page(sz)
#define GC_REALLOC(old, sz) GC_realloc(old, sz)
#define GC_FREE(p) GC_free(p)
#define GC_NEW(t) ((t *)GC_MALLOC(sizeof(t)))
#define GC_NEW_ATOMIC(t) ((t *)GC_MALLOC_ATOMIC(sizeof(t)))
#define GC_NEW_UNCOLLECTABLE(t) ((t *)GC_MALLOC_UNCOLLECTABLE(sizeof(t)))

/* ---- Object queries --------------------------------------------------- */

/* The start of the heap object containing p, or NULL if p does not point
 * into an allocated heap object. */
GC_API void *GC_CALL GC_base(void *p);
/* Nonzero if p points into the GC heap (allocated or not). */
GC_API int GC_CALL GC_is_heap_ptr(const void *p);
/* The usable size of the object starting at p (at least what was asked). */
GC_API size_t GC_CALL GC_size(const void *p);

/* ---- Collection control ----------------------------------------------- */

/* Run a full collection now (all GC threads mark in parallel). */
GC_API void GC_CALL GC_gcollect(void);
/* Collect unless `stop` returns nonzero; returns 1 if it completed. */
typedef int(GC_CALLBACK *GC_stop_func)(void);
GC_API int GC_CALL GC_try_to_collect(GC_stop_func stop);
/* Disable/enable collection; calls nest (a counter). */
GC_API void GC_CALL GC_disable(void);
GC_API int GC_CALL GC_is_disabled(void);
GC_API void GC_CALL GC_enable(void);
/* Number of collections completed so far. */
GC_API GC_word GC_CALL GC_get_gc_no(void);
/* Grow the heap by at least `bytes` now; returns 1 on success. */
GC_API int GC_CALL GC_expand_hp(size_t bytes);
/* Limit the heap; allocation beyond calls the out-of-memory handler. */
GC_API void GC_CALL GC_set_max_heap_size(GC_word bytes);

/* ---- Heap figures ----------------------------------------------------- */

GC_API size_t GC_CALL GC_get_heap_size(void);       /* bytes in the heap */
GC_API size_t GC_CALL GC_get_free_bytes(void);      /* free in the heap */
GC_API size_t GC_CALL GC_get_unmapped_bytes(void);  /* returned to the OS */
GC_API size_t GC_CALL GC_get_bytes_since_gc(void);  /* allocated since */
GC_API size_t GC_CALL GC_get_total_bytes(void);     /* allocated ever */

/* ---- Hooks ------------------------------------------------------------ */

/* Called with the requested size when the heap cannot satisfy a request;
 * what it returns is returned to the caller (default: NULL). */
typedef void *(GC_CALLBACK *GC_oom_func)(size_t bytes);
GC_API void GC_CALL GC_set_oom_fn(GC_oom_func fn);
GC_API GC_oom_func GC_CALL GC_get_oom_fn(void);
/* Where warnings go: a printf format with one word argument. */
typedef void(GC_CALLBACK *GC_warn_proc)(char *msg, GC_word arg);
GC_API void GC_CALL GC_set_warn_proc(GC_warn_proc fn);
GC_API GC_warn_proc GC_CALL GC_get_warn_proc(void);

/* ---- Roots ------------------------------------------------------------ */

/* Scan [low, high_plus_1) as a root range at every collection. */
GC_API void GC_CALL GC_add_roots(void *low, void *high_plus_1);
/* Stop scanning a range given to GC_add_roots (or any part of one). */
GC_API void GC_CALL GC_remove_roots(void *low, void *high_plus_1);
GC_API void GC_CALL GC_clear_roots(void);

#ifdef __cplusplus
}
#endif
#endif /* PARGC_GC_H */
