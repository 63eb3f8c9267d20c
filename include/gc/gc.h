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
/* The Boehm GC version whose interface this header provides
 * (GC_VERSION_MAJOR, _MINOR, _MICRO), and the GC_API / GC_ATTR_* macros. */
#include "gc_version.h"
#include "gc_config_macros.h"

/* A machine word, signed and unsigned, as Boehm GC defines them. */
typedef unsigned long GC_word;
typedef long GC_signed_word;
/* The old spelling of "void *" in Boehm GC's interface. */
typedef void *GC_PTR;

/* The Boehm GC release, packed as (major << 16) | (minor << 8) | micro. */
GC_API unsigned GC_CALL GC_get_version(void);

/* ---- Initialisation --------------------------------------------------- */

/* Initialise the collector.  Optional: the first allocation does it too,
 * but calling it from the main thread before any other thread starts is
 * what Boehm GC recommends, and GC_INIT() does exactly that. */
GC_API void GC_CALL GC_init(void);
/* Nonzero once GC_init has run. */
GC_API int GC_CALL GC_is_init_called(void);
/* Undo GC_init: release the heap (only meaningful just before exit). */
GC_API void GC_CALL GC_deinit(void);

/* GC_INIT() also applies the compile-time settings Boehm GC reads from
 * macros the program may define before including gc.h: GC_DONT_EXPAND,
 * GC_FORCE_UNMAP_ON_GCOLLECT, GC_DONT_GC, GC_MAX_RETRIES,
 * GC_ALLOCD_BYTES_PER_FINALIZER, GC_FREE_SPACE_DIVISOR, GC_FULL_FREQ,
 * GC_TIME_LIMIT, GC_MARKERS, GC_SIG_SUSPEND, GC_SIG_THR_RESTART,
 * GC_MAXIMUM_HEAP_SIZE, GC_IGNORE_WARN and GC_INITIAL_HEAP_SIZE.
 * Each PARGC_INIT_* step below is empty unless its macro is defined. */
#ifdef GC_DONT_EXPAND
#define PARGC_INIT_DONT_EXPAND GC_set_dont_expand(1)
#else
#define PARGC_INIT_DONT_EXPAND (void)0
#endif
#ifdef GC_FORCE_UNMAP_ON_GCOLLECT
#define PARGC_INIT_FORCE_UNMAP GC_set_force_unmap_on_gcollect(1)
#else
#define PARGC_INIT_FORCE_UNMAP (void)0
#endif
#if defined(GC_DONT_GC)
#define PARGC_INIT_DONT_GC (void)(GC_dont_gc = 1)
#elif defined(GC_MAX_RETRIES)
#define PARGC_INIT_DONT_GC GC_set_max_retries(GC_MAX_RETRIES)
#else
#define PARGC_INIT_DONT_GC (void)0
#endif
#ifdef GC_ALLOCD_BYTES_PER_FINALIZER
#define PARGC_INIT_BYTES_PER_FIN GC_set_allocd_bytes_per_finalizer(GC_ALLOCD_BYTES_PER_FINALIZER)
#else
#define PARGC_INIT_BYTES_PER_FIN (void)0
#endif
#ifdef GC_FREE_SPACE_DIVISOR
#define PARGC_INIT_FSD GC_set_free_space_divisor(GC_FREE_SPACE_DIVISOR)
#else
#define PARGC_INIT_FSD (void)0
#endif
#ifdef GC_FULL_FREQ
#define PARGC_INIT_FULL_FREQ GC_set_full_freq(GC_FULL_FREQ)
#else
#define PARGC_INIT_FULL_FREQ (void)0
#endif
#ifdef GC_TIME_LIMIT
#define PARGC_INIT_TIME_LIMIT GC_set_time_limit(GC_TIME_LIMIT)
#else
#define PARGC_INIT_TIME_LIMIT (void)0
#endif
#if defined(GC_MARKERS) && defined(GC_THREADS)
#define PARGC_INIT_MARKERS GC_set_markers_count(GC_MARKERS)
#else
#define PARGC_INIT_MARKERS (void)0
#endif
#if defined(GC_SIG_SUSPEND) && defined(GC_THREADS)
#define PARGC_INIT_SIG_SUSPEND GC_set_suspend_signal(GC_SIG_SUSPEND)
#else
#define PARGC_INIT_SIG_SUSPEND (void)0
#endif
#if defined(GC_SIG_THR_RESTART) && defined(GC_THREADS)
#define PARGC_INIT_SIG_RESTART GC_set_thr_restart_signal(GC_SIG_THR_RESTART)
#else
#define PARGC_INIT_SIG_RESTART (void)0
#endif
#ifdef GC_MAXIMUM_HEAP_SIZE
#define PARGC_INIT_MAX_HEAP GC_set_max_heap_size(GC_MAXIMUM_HEAP_SIZE)
#else
#define PARGC_INIT_MAX_HEAP (void)0
#endif
#ifdef GC_IGNORE_WARN
#define PARGC_INIT_IGNORE_WARN GC_set_warn_proc(GC_ignore_warn_proc)
#else
#define PARGC_INIT_IGNORE_WARN (void)0
#endif
#ifdef GC_INITIAL_HEAP_SIZE
#define PARGC_INIT_INITIAL_HEAP                                              \
  do {                                                                       \
    size_t pargc_hs_ = GC_get_heap_size();                                   \
    if (pargc_hs_ < (size_t)(GC_INITIAL_HEAP_SIZE))                          \
      (void)GC_expand_hp((size_t)(GC_INITIAL_HEAP_SIZE) - pargc_hs_);        \
  } while (0)
#else
#define PARGC_INIT_INITIAL_HEAP (void)0
#endif
#define GC_INIT()                                                            \
  do {                                                                       \
    PARGC_INIT_DONT_EXPAND; PARGC_INIT_FORCE_UNMAP; PARGC_INIT_DONT_GC;      \
    PARGC_INIT_BYTES_PER_FIN; PARGC_INIT_FSD; PARGC_INIT_FULL_FREQ;          \
    PARGC_INIT_TIME_LIMIT; PARGC_INIT_MARKERS; PARGC_INIT_SIG_SUSPEND;       \
    PARGC_INIT_SIG_RESTART; PARGC_INIT_MAX_HEAP;                             \
    GC_init();                                                               \
    PARGC_INIT_IGNORE_WARN; PARGC_INIT_INITIAL_HEAP;                         \
  } while (0)

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

/* A collectable copy of the string s (NULL if s is NULL), and of at most
 * n bytes of it, always NUL-terminated.  The copies are pointer-free. */
GC_API GC_ATTR_MALLOC char *GC_CALL GC_strdup(const char *s);
GC_API GC_ATTR_MALLOC char *GC_CALL GC_strndup(const char *s, size_t n) GC_ATTR_NONNULL(1);
/* `size` bytes of scanned, collectable memory whose address is a multiple
 * of `align` (a power of two).  GC_base of the result may lie below it. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(2) void *GC_CALL GC_memalign(size_t align, size_t size);
/* posix_memalign for collectable memory: stores the object in *memptr and
 * returns 0, EINVAL if align is not a power-of-two multiple of
 * sizeof(void *), or ENOMEM. */
GC_API int GC_CALL GC_posix_memalign(void **memptr, size_t align, size_t size) GC_ATTR_NONNULL(1);
#ifdef GC_REQUIRE_WCSDUP
/* A collectable copy of a wide string (only when GC_REQUIRE_WCSDUP). */
GC_API GC_ATTR_MALLOC wchar_t *GC_CALL GC_wcsdup(const wchar_t *s) GC_ATTR_NONNULL(1);
#endif

/* ---- Stubborn objects and the write barrier ------------------------------ */

/* Boehm GC once had "stubborn" objects that had to be unlocked before
 * being changed.  Today GC_malloc_stubborn is GC_malloc and
 * GC_change_stubborn does nothing. */
GC_API GC_ATTR_DEPRECATED void *GC_CALL GC_malloc_stubborn(size_t size);
GC_API GC_ATTR_DEPRECATED void GC_CALL GC_change_stubborn(const void *obj);
/* Tell the collector that the object containing p was written to.  Only
 * needed in incremental mode when manual dirty bits were chosen
 * (GC_set_manual_vdb_allowed); harmless otherwise. */
GC_API void GC_CALL GC_end_stubborn_change(const void *p) GC_ATTR_NONNULL(1);
/* Store q at *p and record that *p changed, for manual dirty tracking. */
GC_API void GC_CALL GC_ptr_store_and_dirty(void *p, const void *q);
/* The same, checking (in debug builds) that p and q are heap objects. */
GC_API void GC_CALL GC_debug_ptr_store_and_dirty(void *p, const void *q);
#define GC_MALLOC_STUBBORN(sz) GC_MALLOC(sz)
#define GC_NEW_STUBBORN(t) GC_NEW(t)
#define GC_CHANGE_STUBBORN(p) GC_change_stubborn(p)

/* ---- Debug allocation ------------------------------------------------- */

/* Debug allocation (GC_debug_*) puts a header before and a trailer after
 * each object recording the file and line that allocated it; GC_FREE and
 * the collector check the trailer and report objects whose guard words
 * were overwritten ("smashed"), freed twice, or freed by the wrong
 * function.  Programs get it by defining GC_DEBUG before including gc.h,
 * which maps every GC_MALLOC-style macro to its GC_debug_* variant.
 * Objects from GC_debug_malloc must be freed with GC_debug_free (or
 * GC_FREE), and their pointers must not be handed to the non-debug calls
 * other than GC_base.  GC_EXTRAS is what the macros pass for the source
 * position; GC_EXTRA_PARAMS is the matching parameter list. */
#ifdef GC_ADD_CALLER
#define GC_EXTRAS GC_RETURN_ADDR, __FILE__, __LINE__
#define GC_EXTRA_PARAMS GC_word ra, const char *s, int i
#else
#define GC_EXTRAS __FILE__, __LINE__
#define GC_EXTRA_PARAMS const char *s, int i
#endif
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL GC_debug_malloc(size_t size, GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL GC_debug_malloc_atomic(size_t size, GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL GC_debug_malloc_uncollectable(size_t size, GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL GC_debug_malloc_atomic_uncollectable(size_t size, GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL GC_debug_malloc_ignore_off_page(size_t size, GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL GC_debug_malloc_atomic_ignore_off_page(size_t size, GC_EXTRA_PARAMS);
GC_API GC_ATTR_DEPRECATED void *GC_CALL GC_debug_malloc_stubborn(size_t size, GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC char *GC_CALL GC_debug_strdup(const char *str, GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC char *GC_CALL GC_debug_strndup(const char *str, size_t n, GC_EXTRA_PARAMS) GC_ATTR_NONNULL(1);
#ifdef GC_REQUIRE_WCSDUP
GC_API GC_ATTR_MALLOC wchar_t *GC_CALL GC_debug_wcsdup(const wchar_t *str, GC_EXTRA_PARAMS) GC_ATTR_NONNULL(1);
#endif
/* Check the guards of a debug object, report it if smashed, and free it. */
GC_API void GC_CALL GC_debug_free(void *obj);
/* GC_realloc for debug objects; the copy records the new position. */
GC_API void *GC_CALL GC_debug_realloc(void *old, size_t size, GC_EXTRA_PARAMS) GC_ATTR_ALLOC_SIZE(2);
GC_API GC_ATTR_DEPRECATED void GC_CALL GC_debug_change_stubborn(const void *obj);
GC_API void GC_CALL GC_debug_end_stubborn_change(const void *obj) GC_ATTR_NONNULL(1);
/* Debug allocation with the caller's return address in place of a file
 * and line: fit to replace malloc/realloc wholesale (GC_DEBUG_REPLACEMENT). */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL GC_debug_malloc_replacement(size_t size);
GC_API GC_ATTR_ALLOC_SIZE(2) void *GC_CALL GC_debug_realloc_replacement(void *old, size_t size);

/* The allocation macros.  Use these rather than the functions so that
 * defining GC_DEBUG switches a whole program to debug allocation. */
#ifdef GC_DEBUG_REPLACEMENT
#define GC_MALLOC(sz) GC_debug_malloc_replacement(sz)
#define GC_REALLOC(old, sz) GC_debug_realloc_replacement(old, sz)
#elif defined(GC_DEBUG)
#define GC_MALLOC(sz) GC_debug_malloc(sz, GC_EXTRAS)
#define GC_REALLOC(old, sz) GC_debug_realloc(old, sz, GC_EXTRAS)
#else
#define GC_MALLOC(sz) GC_malloc(sz)
#define GC_REALLOC(old, sz) GC_realloc(old, sz)
#endif
#ifdef GC_DEBUG
#define GC_MALLOC_ATOMIC(sz) GC_debug_malloc_atomic(sz, GC_EXTRAS)
#define GC_STRDUP(s) GC_debug_strdup(s, GC_EXTRAS)
#define GC_STRNDUP(s, sz) GC_debug_strndup(s, sz, GC_EXTRAS)
#define GC_MALLOC_UNCOLLECTABLE(sz) GC_debug_malloc_uncollectable(sz, GC_EXTRAS)
#define GC_MALLOC_ATOMIC_UNCOLLECTABLE(sz) GC_debug_malloc_atomic_uncollectable(sz, GC_EXTRAS)
#define GC_MALLOC_IGNORE_OFF_PAGE(sz) GC_debug_malloc_ignore_off_page(sz, GC_EXTRAS)
#define GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(sz) GC_debug_malloc_atomic_ignore_off_page(sz, GC_EXTRAS)
#define GC_FREE(p) GC_debug_free(p)
#define GC_REGISTER_FINALIZER(p, f, d, of, od) GC_debug_register_finalizer(p, f, d, of, od)
#define GC_REGISTER_FINALIZER_IGNORE_SELF(p, f, d, of, od) GC_debug_register_finalizer_ignore_self(p, f, d, of, od)
#define GC_REGISTER_FINALIZER_NO_ORDER(p, f, d, of, od) GC_debug_register_finalizer_no_order(p, f, d, of, od)
#define GC_REGISTER_FINALIZER_UNREACHABLE(p, f, d, of, od) GC_debug_register_finalizer_unreachable(p, f, d, of, od)
#define GC_END_STUBBORN_CHANGE(p) GC_debug_end_stubborn_change(p)
#define GC_PTR_STORE_AND_DIRTY(p, q) GC_debug_ptr_store_and_dirty(p, q)
/* Debug objects start after a header, so links name the real base. */
#define GC_GENERAL_REGISTER_DISAPPEARING_LINK(link, obj) \
  GC_general_register_disappearing_link(link, GC_base((void *)(obj)))
#define GC_REGISTER_LONG_LINK(link, obj) GC_register_long_link(link, GC_base((void *)(obj)))
#define GC_REGISTER_DISPLACEMENT(n) GC_debug_register_displacement(n)
#else
#define GC_MALLOC_ATOMIC(sz) GC_malloc_atomic(sz)
#define GC_STRDUP(s) GC_strdup(s)
#define GC_STRNDUP(s, sz) GC_strndup(s, sz)
#define GC_MALLOC_UNCOLLECTABLE(sz) GC_malloc_uncollectable(sz)
#define GC_MALLOC_ATOMIC_UNCOLLECTABLE(sz) GC_malloc_atomic_uncollectable(sz)
#define GC_MALLOC_IGNORE_OFF_PAGE(sz) GC_malloc_ignore_off_page(sz)
#define GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(sz) GC_malloc_atomic_ignore_off_page(sz)
#define GC_FREE(p) GC_free(p)
#define GC_REGISTER_FINALIZER(p, f, d, of, od) GC_register_finalizer(p, f, d, of, od)
#define GC_REGISTER_FINALIZER_IGNORE_SELF(p, f, d, of, od) GC_register_finalizer_ignore_self(p, f, d, of, od)
#define GC_REGISTER_FINALIZER_NO_ORDER(p, f, d, of, od) GC_register_finalizer_no_order(p, f, d, of, od)
#define GC_REGISTER_FINALIZER_UNREACHABLE(p, f, d, of, od) GC_register_finalizer_unreachable(p, f, d, of, od)
#define GC_END_STUBBORN_CHANGE(p) GC_end_stubborn_change(p)
#define GC_PTR_STORE_AND_DIRTY(p, q) GC_ptr_store_and_dirty(p, q)
#define GC_GENERAL_REGISTER_DISAPPEARING_LINK(link, obj) GC_general_register_disappearing_link(link, obj)
#define GC_REGISTER_LONG_LINK(link, obj) GC_register_long_link(link, obj)
#define GC_REGISTER_DISPLACEMENT(n) GC_register_displacement(n)
#endif
#ifdef GC_REQUIRE_WCSDUP
#ifdef GC_DEBUG
#define GC_WCSDUP(s) GC_debug_wcsdup(s, GC_EXTRAS)
#else
#define GC_WCSDUP(s) GC_wcsdup(s)
#endif
#endif
#define GC_NEW(t) ((t *)GC_MALLOC(sizeof(t)))
#define GC_NEW_ATOMIC(t) ((t *)GC_MALLOC_ATOMIC(sizeof(t)))
#define GC_NEW_UNCOLLECTABLE(t) ((t *)GC_MALLOC_UNCOLLECTABLE(sizeof(t)))

/* Allocate a list of objects of `size` bytes linked through their first
 * word (GC_NEXT), cheaper per object than separate GC_malloc calls.  The
 * objects are zeroed apart from the link word. */
GC_API GC_ATTR_MALLOC void *GC_CALL GC_malloc_many(size_t size);
#define GC_NEXT(p) (*(void **)(p))

/* ---- Object queries --------------------------------------------------- */

/* The start of the heap object containing p, or NULL if p does not point
 * into an allocated heap object. */
GC_API void *GC_CALL GC_base(void *p);
/* Nonzero if p points into the GC heap (allocated or not). */
GC_API int GC_CALL GC_is_heap_ptr(const void *p);
/* The usable size of the object starting at p (at least what was asked). */
GC_API size_t GC_CALL GC_size(const void *p);

/* Interior pointers.  pargc recognises a pointer to any byte of an object
 * (and one past its end for objects that have room), so the calls below
 * that Boehm GC uses to allow particular displacements only record them. */
/* Accept pointers `offset` bytes into objects as pointers to the objects. */
GC_API void GC_CALL GC_register_displacement(size_t offset);
/* The same, for offsets into debug objects (adds the header size). */
GC_API void GC_CALL GC_debug_register_displacement(size_t offset);
/* Boehm GC's switch for interior pointers; pargc always recognises them
 * and reports 1 whatever was set (the variable keeps what was stored). */
GC_API GC_ATTR_DEPRECATED int GC_all_interior_pointers;
GC_API void GC_CALL GC_set_all_interior_pointers(int on);
GC_API int GC_CALL GC_get_all_interior_pointers(void);

/* Pointer checks for debugging; each returns its argument.  Without
 * GC_DEBUG they do nothing.  GC_same_obj(p, q) checks that p and q point
 * into the same object; GC_is_visible(p) that p is reachable by the
 * collector where it lies; GC_is_valid_displacement(p) that p points to
 * an acceptable offset of a heap object.  Failures call the matching
 * *_print_proc (default: print and abort). */
GC_API void *GC_CALL GC_same_obj(void *p, void *q);
GC_API void *GC_CALL GC_is_visible(void *p);
GC_API void *GC_CALL GC_is_valid_displacement(void *p);
GC_API void(GC_CALLBACK *GC_same_obj_print_proc)(void *p, void *q);
GC_API void(GC_CALLBACK *GC_is_valid_displacement_print_proc)(void *p);
GC_API void(GC_CALLBACK *GC_is_visible_print_proc)(void *p);
/* *p += how_much (a byte count), checked with GC_same_obj; return the new
 * (pre) or old (post) value. */
GC_API void *GC_CALL GC_pre_incr(void **p, ptrdiff_t how_much) GC_ATTR_NONNULL(1);
GC_API void *GC_CALL GC_post_incr(void **p, ptrdiff_t how_much) GC_ATTR_NONNULL(1);
/* Checked pointer arithmetic under GC_DEBUG, plain arithmetic otherwise. */
#if defined(GC_DEBUG) && defined(__GNUC__)
#define GC_PTR_ADD3(x, n, type_of_result) ((type_of_result)GC_same_obj((x) + (n), (x)))
#define GC_PRE_INCR3(x, n, type_of_result) \
  ((type_of_result)GC_pre_incr((void **)(&(x)), (n) * sizeof(*x)))
#define GC_POST_INCR3(x, n, type_of_result) \
  ((type_of_result)GC_post_incr((void **)(&(x)), (n) * sizeof(*x)))
#define GC_PTR_ADD(x, n) GC_PTR_ADD3(x, n, __typeof__(x))
#define GC_PRE_INCR(x, n) GC_PRE_INCR3(x, n, __typeof__(x))
#define GC_POST_INCR(x) GC_POST_INCR3(x, 1, __typeof__(x))
#define GC_POST_DECR(x) GC_POST_INCR3(x, -1, __typeof__(x))
#else
#define GC_PTR_ADD(x, n) ((x) + (n))
#define GC_PRE_INCR(x, n) ((x) += (n))
#define GC_POST_INCR(x) ((x)++)
#define GC_POST_DECR(x) ((x)--)
#endif
/* Store pointer q at p, checking both under GC_DEBUG. */
#ifdef GC_DEBUG
#define GC_PTR_STORE(p, q) \
  (*(void **)GC_is_visible((void *)(p)) = GC_is_valid_displacement((void *)(q)))
#else
#define GC_PTR_STORE(p, q) (*(void **)(p) = (void *)(q))
#endif

/* ---- Collection control ----------------------------------------------- */

/* Run a full collection now (all GC threads mark in parallel). */
GC_API void GC_CALL GC_gcollect(void);
/* Collect, then return free memory to the operating system. */
GC_API void GC_CALL GC_gcollect_and_unmap(void);
/* Collect unless `stop` returns nonzero; returns 1 if it completed. */
typedef int(GC_CALLBACK *GC_stop_func)(void);
GC_API int GC_CALL GC_try_to_collect(GC_stop_func stop);
/* The stop function that automatic collections consult (default: never
 * stop). */
GC_API void GC_CALL GC_set_stop_func(GC_stop_func stop) GC_ATTR_NONNULL(1);
GC_API GC_stop_func GC_CALL GC_get_stop_func(void);
/* Disable/enable collection; calls nest (a counter). */
GC_API void GC_CALL GC_disable(void);
GC_API int GC_CALL GC_is_disabled(void);
GC_API void GC_CALL GC_enable(void);
/* Nonzero: never collect on allocation (explicit GC_gcollect still does).
 * Unlike GC_disable this is a flag, not a counter. */
GC_API void GC_CALL GC_set_disable_automatic_collection(int off);
GC_API int GC_CALL GC_get_disable_automatic_collection(void);
/* Number of collections completed so far. */
GC_API GC_word GC_CALL GC_get_gc_no(void);
/* The same counter as a variable (read-only for clients; prefer the call). */
GC_API GC_ATTR_DEPRECATED GC_word GC_gc_no;
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
GC_API size_t GC_CALL GC_get_expl_freed_bytes_since_gc(void); /* by GC_free */
GC_API size_t GC_CALL GC_get_obtained_from_os_bytes(void); /* mapped ever */
/* Bytes of the heap in use by allocated objects (heap size less free and
 * unmapped bytes). */
GC_API size_t GC_CALL GC_get_memory_use(void);
/* Several of the figures at once, any pointer may be NULL: heap size, free
 * bytes, unmapped bytes, bytes allocated since the last collection, and
 * the total allocated. */
GC_API void GC_CALL GC_get_heap_usage_safe(GC_word *pheap_size, GC_word *pfree_bytes,
                                           GC_word *punmapped_bytes,
                                           GC_word *pbytes_since_gc,
                                           GC_word *ptotal_bytes);

/* Collector statistics, filled by GC_get_prof_stats.  The layout is part
 * of the ABI: fields are only ever added at the end, and callers pass the
 * size they know (sizeof), so old binaries keep working. */
struct GC_prof_stats_s {
  GC_word heapsize_full;             /* heap size, including unmapped */
  GC_word free_bytes_full;           /* free bytes, including unmapped */
  GC_word unmapped_bytes;            /* returned to the OS */
  GC_word bytes_allocd_since_gc;     /* allocated since the last GC */
  GC_word allocd_bytes_before_gc;    /* allocated up to the last GC */
  GC_word non_gc_bytes;              /* uncollectable bytes */
  GC_word gc_no;                     /* collections so far */
  GC_word markers_m1;                /* marker threads beyond the first */
  GC_word bytes_reclaimed_since_gc;  /* freed by the last sweep */
  GC_word reclaimed_bytes_before_gc; /* freed by sweeps before it */
  GC_word expl_freed_bytes_since_gc; /* freed by GC_free since the last GC */
  GC_word obtained_from_os_bytes;    /* mapped from the OS, ever */
};
/* Fill up to stats_sz bytes of *stats (fields not known to the library
 * are set to all ones); returns the number of bytes written. */
GC_API size_t GC_CALL GC_get_prof_stats(struct GC_prof_stats_s *stats, size_t stats_sz);
/* The same without taking the allocation lock (caller holds it). */
GC_API size_t GC_CALL GC_get_prof_stats_unsafe(struct GC_prof_stats_s *stats, size_t stats_sz);
/* The object size, in bytes, that a request of i bytes is rounded to
 * (i up to the largest small size; 0 otherwise). */
GC_API size_t GC_CALL GC_get_size_map_at(int i);
/* Start measuring collection time; read the total in milliseconds. */
GC_API void GC_CALL GC_start_performance_measurement(void);
GC_API unsigned long GC_CALL GC_get_full_gc_total_time(void);

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
/* A warn proc that prints nothing. */
GC_API void GC_CALLBACK GC_ignore_warn_proc(char *msg, GC_word arg);
/* File descriptor that GC_PRINT_STATS output and logs go to. */
GC_API void GC_CALL GC_set_log_fd(int fd);
/* Called with a message before the collector aborts on a fatal error;
 * if it returns, the process aborts. */
typedef void(GC_CALLBACK *GC_abort_func)(const char *msg);
GC_API void GC_CALL GC_set_abort_func(GC_abort_func fn) GC_ATTR_NONNULL(1);
GC_API GC_abort_func GC_CALL GC_get_abort_func(void);
/* Report that memory ran out and abort: for code that cannot get NULL. */
GC_API void GC_CALL GC_abort_on_oom(void);
/* The out-of-memory handler as a variable (prefer GC_set_oom_fn). */
GC_API GC_ATTR_DEPRECATED GC_oom_func GC_oom_fn;
/* Called with the new heap size after the heap grows. */
typedef void(GC_CALLBACK *GC_on_heap_resize_proc)(GC_word new_size);
GC_API GC_ATTR_DEPRECATED GC_on_heap_resize_proc GC_on_heap_resize;
GC_API void GC_CALL GC_set_on_heap_resize(GC_on_heap_resize_proc fn);
GC_API GC_on_heap_resize_proc GC_CALL GC_get_on_heap_resize(void);

/* Collection events, in the order a collection produces them.  The
 * values are part of the ABI. */
typedef enum {
  GC_EVENT_START,              /* a collection begins */
  GC_EVENT_MARK_START,
  GC_EVENT_MARK_END,
  GC_EVENT_RECLAIM_START,
  GC_EVENT_RECLAIM_END,
  GC_EVENT_END,                /* the collection is over */
  GC_EVENT_PRE_STOP_WORLD,     /* about to stop the other threads */
  GC_EVENT_POST_STOP_WORLD,    /* they are stopped */
  GC_EVENT_PRE_START_WORLD,    /* about to restart them */
  GC_EVENT_POST_START_WORLD,   /* they run again */
  GC_EVENT_THREAD_SUSPENDED,   /* one thread stopped (thread events) */
  GC_EVENT_THREAD_UNSUSPENDED  /* one thread restarted */
} GC_EventType;
/* Called (with the allocation lock held, so it must not allocate) at each
 * collection event. */
typedef void(GC_CALLBACK *GC_on_collection_event_proc)(GC_EventType event);
GC_API void GC_CALL GC_set_on_collection_event(GC_on_collection_event_proc fn);
GC_API GC_on_collection_event_proc GC_CALL GC_get_on_collection_event(void);
/* Called for each thread stopped or restarted, with its id. */
typedef void(GC_CALLBACK *GC_on_thread_event_proc)(GC_EventType event, void *thread_id);
GC_API void GC_CALL GC_set_on_thread_event(GC_on_thread_event_proc fn);
GC_API GC_on_thread_event_proc GC_CALL GC_get_on_thread_event(void);

/* ---- Roots ------------------------------------------------------------ */

/* Scan [low, high_plus_1) as a root range at every collection. */
GC_API void GC_CALL GC_add_roots(void *low, void *high_plus_1);
/* Stop scanning a range given to GC_add_roots (or any part of one). */
GC_API void GC_CALL GC_remove_roots(void *low, void *high_plus_1);
GC_API void GC_CALL GC_clear_roots(void);
/* Never scan [low, high) even if it lies inside static data. */
GC_API void GC_CALL GC_exclude_static_roots(void *low, void *high);
GC_API void GC_CALL GC_clear_exclusion_table(void);
/* Called for each loaded object's data segment (name, start, size); a
 * zero result keeps that segment out of the roots. */
typedef int(GC_CALLBACK *GC_has_static_roots_func)(const char *dlpi_name, void *section_start,
                                                   size_t section_size);
GC_API void GC_CALL GC_register_has_static_roots_callback(GC_has_static_roots_func fn);
/* Nonzero: do not scan the data of dynamically loaded libraries. */
GC_API GC_ATTR_DEPRECATED int GC_no_dls;
GC_API void GC_CALL GC_set_no_dls(int on);
GC_API int GC_CALL GC_get_no_dls(void);
/* dlopen that the collector knows of (so it does not scan a library half
 * loaded); GC_THREADS programs get it through the redirects. */
GC_API void *GC_dlopen(const char *path, int mode);

/* ---- Settings --------------------------------------------------------- */

/* Each setting is a getter/setter pair; most also exist as a variable for
 * old code (deprecated: writes to the variable after GC_init may be
 * missed).  The environment (docs/environment.md) sets them at start. */

/* Nonzero: do not collect at all (GC_DONT_GC in the environment). */
GC_API
#ifndef GC_DONT_GC
    GC_ATTR_DEPRECATED
#endif
    int GC_dont_gc;
/* Nonzero: never grow the heap beyond its initial size unless forced. */
GC_API GC_ATTR_DEPRECATED int GC_dont_expand;
GC_API void GC_CALL GC_set_dont_expand(int on);
GC_API int GC_CALL GC_get_dont_expand(void);
/* Nonzero: allocate from the whole heap before collecting (GC_USE_ENTIRE_HEAP). */
GC_API GC_ATTR_DEPRECATED int GC_use_entire_heap;
/* Every full_freq-th collection is a full one in generational mode. */
GC_API GC_ATTR_DEPRECATED int GC_full_freq;
GC_API void GC_CALL GC_set_full_freq(int n);
GC_API int GC_CALL GC_get_full_freq(void);
/* Bytes the program keeps in uncollectable memory, counted as live when
 * the heap-growth policy is applied. */
GC_API GC_ATTR_DEPRECATED GC_word GC_non_gc_bytes;
GC_API void GC_CALL GC_set_non_gc_bytes(GC_word n);
GC_API GC_word GC_CALL GC_get_non_gc_bytes(void);
/* Collect when the bytes allocated since the last collection exceed
 * heap size / divisor (GC_FREE_SPACE_DIVISOR; default 3). */
GC_API GC_ATTR_DEPRECATED GC_word GC_free_space_divisor;
GC_API void GC_CALL GC_set_free_space_divisor(GC_word divisor);
GC_API GC_word GC_CALL GC_get_free_space_divisor(void);
/* Full collections attempted before an allocation gives up. */
GC_API GC_ATTR_DEPRECATED GC_word GC_max_retries;
GC_API void GC_CALL GC_set_max_retries(GC_word n);
GC_API GC_word GC_CALL GC_get_max_retries(void);
/* The cold end of the main thread's stack (set by GC_init). */
GC_API GC_ATTR_DEPRECATED char *GC_stackbottom;
/* Nonzero: grow the heap before the first collection rather than collect. */
GC_API GC_ATTR_DEPRECATED int GC_dont_precollect;
GC_API void GC_CALL GC_set_dont_precollect(int on);
GC_API int GC_CALL GC_get_dont_precollect(void);
/* Pause target of an incremental collection step, in milliseconds;
 * GC_TIME_UNLIMITED means no limit. */
GC_API GC_ATTR_DEPRECATED unsigned long GC_time_limit;
#define GC_TIME_UNLIMITED 999999
GC_API void GC_CALL GC_set_time_limit(unsigned long ms);
GC_API unsigned long GC_CALL GC_get_time_limit(void);
/* The same limit with nanosecond resolution.  Passed by value: the layout
 * (two unsigned longs) is part of the ABI. */
struct GC_timeval_s {
  unsigned long tv_ms;   /* whole milliseconds */
  unsigned long tv_nsec; /* extra nanoseconds, below 1000000 */
};
GC_API void GC_CALL GC_set_time_limit_tv(struct GC_timeval_s tv);
GC_API struct GC_timeval_s GC_CALL GC_get_time_limit_tv(void);
/* Run finalizers after this many bytes were allocated (0: default). */
GC_API void GC_CALL GC_set_allocd_bytes_per_finalizer(GC_word bytes);
GC_API GC_word GC_CALL GC_get_allocd_bytes_per_finalizer(void);
/* Nonzero: map heap memory executable (for code generated into it). */
GC_API void GC_CALL GC_set_pages_executable(int on);
GC_API int GC_CALL GC_get_pages_executable(void);
/* Allocate at least this many bytes between two automatic collections. */
GC_API void GC_CALL GC_set_min_bytes_allocd(size_t bytes);
GC_API size_t GC_CALL GC_get_min_bytes_allocd(void);
/* Incremental mode: how much marking each allocation step does. */
GC_API void GC_CALL GC_set_rate(int rate);
GC_API int GC_CALL GC_get_rate(void);
/* Incremental mode: attempts before a collection is finished at once. */
GC_API void GC_CALL GC_set_max_prior_attempts(int n);
GC_API int GC_CALL GC_get_max_prior_attempts(void);
/* Nonzero: GC_gcollect returns all free memory to the OS. */
GC_API void GC_CALL GC_set_force_unmap_on_gcollect(int on);
GC_API int GC_CALL GC_get_force_unmap_on_gcollect(void);
/* Leak detection: nonzero turns the collector into a leak detector.
 * Unreachable objects are reported (with their allocation site under
 * GC_DEBUG) instead of being reclaimed; GC_FIND_LEAK in the environment
 * sets it.  Set it before GC_init. */
GC_API GC_ATTR_DEPRECATED int GC_find_leak;
GC_API void GC_CALL GC_set_find_leak(int on);
GC_API int GC_CALL GC_get_find_leak(void);

/* ---- Finalization ----------------------------------------------------- */

/* A finalizer: called with the object (its base address) and the client
 * data given at registration, some time after the object became
 * unreachable.  The object stays valid during the call and is reclaimed
 * by a later collection unless the finalizer made it reachable again. */
typedef void(GC_CALLBACK *GC_finalization_proc)(void *obj, void *client_data);

/* Register fn(obj, cd) to run when obj becomes unreachable; fn == NULL
 * removes the registration.  The previous finalizer and its data go to
 * *ofn and *ocd when those are not NULL.  obj must be the base of a heap
 * object (GC_base(obj) == obj).
 *
 * Ordering: if A points to B and both are finalizable, A's finalizer runs
 * first and B's only in a later cycle, after A is gone.  Cycles of
 * finalizable objects are therefore never finalized (and leak); break
 * them with one of the variants below.
 * - _ignore_self: pointers from obj to itself do not count (cycles
 *   through obj alone are fine).
 * - _no_order: ignore all ordering; fn may see objects already finalized.
 * - _unreachable: run only when obj is unreachable even from other
 *   finalizable objects (Java-style).
 * Finalizers run in the thread that allocates or calls
 * GC_invoke_finalizers, never inside the collector's critical section. */
GC_API void GC_CALL GC_register_finalizer(void *obj, GC_finalization_proc fn, void *cd,
                                          GC_finalization_proc *ofn, void **ocd) GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_register_finalizer_ignore_self(void *obj, GC_finalization_proc fn, void *cd,
                                                      GC_finalization_proc *ofn, void **ocd)
    GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_register_finalizer_no_order(void *obj, GC_finalization_proc fn, void *cd,
                                                   GC_finalization_proc *ofn, void **ocd)
    GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_register_finalizer_unreachable(void *obj, GC_finalization_proc fn, void *cd,
                                                      GC_finalization_proc *ofn, void **ocd)
    GC_ATTR_NONNULL(1);
/* The same four for objects from debug allocation (obj is what
 * GC_debug_malloc returned). */
GC_API void GC_CALL GC_debug_register_finalizer(void *obj, GC_finalization_proc fn, void *cd,
                                                GC_finalization_proc *ofn, void **ocd)
    GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_debug_register_finalizer_ignore_self(void *obj, GC_finalization_proc fn,
                                                            void *cd, GC_finalization_proc *ofn,
                                                            void **ocd) GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_debug_register_finalizer_no_order(void *obj, GC_finalization_proc fn,
                                                         void *cd, GC_finalization_proc *ofn,
                                                         void **ocd) GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_debug_register_finalizer_unreachable(void *obj, GC_finalization_proc fn,
                                                            void *cd, GC_finalization_proc *ofn,
                                                            void **ocd) GC_ATTR_NONNULL(1);

/* Nonzero if finalizers are waiting to run. */
GC_API int GC_CALL GC_should_invoke_finalizers(void);
/* Run the waiting finalizers in this thread; returns how many ran. */
GC_API int GC_CALL GC_invoke_finalizers(void);
/* Nonzero: finalizers run only from GC_invoke_finalizers (the notifier
 * below tells when some are waiting), never implicitly on allocation. */
GC_API GC_ATTR_DEPRECATED int GC_finalize_on_demand;
GC_API void GC_CALL GC_set_finalize_on_demand(int on);
GC_API int GC_CALL GC_get_finalize_on_demand(void);
/* Called after a collection that queued finalizers, when
 * GC_finalize_on_demand is set. */
typedef void(GC_CALLBACK *GC_finalizer_notifier_proc)(void);
GC_API GC_ATTR_DEPRECATED GC_finalizer_notifier_proc GC_finalizer_notifier;
GC_API void GC_CALL GC_set_finalizer_notifier(GC_finalizer_notifier_proc fn);
GC_API GC_finalizer_notifier_proc GC_CALL GC_get_finalizer_notifier(void);
/* Nonzero (the default): objects reachable only from finalizable objects
 * registered with _unreachable are marked as Java requires. */
GC_API GC_ATTR_DEPRECATED int GC_java_finalization;
GC_API void GC_CALL GC_set_java_finalization(int on);
GC_API int GC_CALL GC_get_java_finalization(void);
/* Called with each object about to be queued for finalization. */
typedef void(GC_CALLBACK *GC_await_finalize_proc)(void *obj);
GC_API void GC_CALL GC_set_await_finalize_proc(GC_await_finalize_proc fn);
GC_API GC_await_finalize_proc GC_CALL GC_get_await_finalize_proc(void);

/* Keep ptr alive up to this point of the program (the compiler might
 * otherwise drop the last reference early and let a finalizer run). */
#if defined(__GNUC__)
#define GC_reachable_here(ptr) __asm__ __volatile__(" " : : "X"(ptr) : "memory")
#else
#define GC_reachable_here(ptr) GC_noop1((GC_word)(ptr))
#endif
/* Does nothing with its argument, but the compiler cannot know that. */
GC_API void GC_CALL GC_noop1(GC_word x);

/* ---- Weak references -------------------------------------------------- */

/* Returned by the registration calls below, next to GC_SUCCESS,
 * GC_DUPLICATE and GC_NOT_FOUND. */
#define GC_NO_MEMORY 2

/* Disappearing links: *link is set to NULL when obj becomes unreachable,
 * before its finalizer (if any) runs ("short" weak reference).  link must
 * not itself be in an object that is collected first, and must be
 * unregistered before the memory holding it is freed explicitly.
 * Returns GC_SUCCESS, GC_DUPLICATE (link already registered; its object
 * is updated) or GC_NO_MEMORY.  Store hidden pointers (GC_HIDE_POINTER)
 * in *link if the link itself must not keep obj alive from a scanned
 * place; the collector clears the word in either case. */
GC_API int GC_CALL GC_general_register_disappearing_link(void **link, const void *obj)
    GC_ATTR_NONNULL(1) GC_ATTR_NONNULL(2);
/* The same with obj = GC_base(link): link lies inside a heap object and
 * is cleared when that object itself becomes unreachable (old interface;
 * aborts if link is not in the heap). */
GC_API int GC_CALL GC_register_disappearing_link(void **link) GC_ATTR_NONNULL(1);
/* Move a registration to another link address (GC_NOT_FOUND if link was
 * not registered, GC_DUPLICATE if new_link already is). */
GC_API int GC_CALL GC_move_disappearing_link(void **link, void **new_link) GC_ATTR_NONNULL(2);
/* Forget a link; 1 if it was registered, 0 if not. */
GC_API int GC_CALL GC_unregister_disappearing_link(void **link);
/* Long links: cleared only when obj is unreachable even from finalizable
 * objects, i.e. after finalization decided its fate ("long" weak
 * reference, as Java's phantom-ish references).  Same return values. */
GC_API int GC_CALL GC_register_long_link(void **link, const void *obj)
    GC_ATTR_NONNULL(1) GC_ATTR_NONNULL(2);
GC_API int GC_CALL GC_move_long_link(void **link, void **new_link) GC_ATTR_NONNULL(2);
GC_API int GC_CALL GC_unregister_long_link(void **link);

/* Toggle references (for bridging to reference-counted runtimes): the
 * callback decides per collection whether each registered object is held
 * strongly, weakly, or dropped from the list. */
typedef enum {
  GC_TOGGLE_REF_DROP,   /* forget the object */
  GC_TOGGLE_REF_STRONG, /* keep it alive this cycle */
  GC_TOGGLE_REF_WEAK    /* let it die if nothing else holds it */
} GC_ToggleRefStatus;
typedef GC_ToggleRefStatus(GC_CALLBACK *GC_toggleref_func)(void *obj);
GC_API void GC_CALL GC_set_toggleref_func(GC_toggleref_func fn);
GC_API GC_toggleref_func GC_CALL GC_get_toggleref_func(void);
/* Add obj (strong if is_strong) to the toggle list; GC_SUCCESS or
 * GC_NO_MEMORY. */
GC_API int GC_CALL GC_toggleref_add(void *obj, int is_strong) GC_ATTR_NONNULL(1);

/* Hidden pointers: a word the collector does not read as a pointer, e.g.
 * to store an address in a disappearing link's slot or in a hash table
 * without keeping the object alive. */
typedef GC_word GC_hidden_pointer;
#define GC_HIDE_POINTER(p) (~(GC_hidden_pointer)(p))
#define GC_REVEAL_POINTER(p) ((void *)GC_HIDE_POINTER(p))
#if defined(I_HIDE_POINTERS) || defined(GC_I_HIDE_POINTERS)
#define HIDE_POINTER(p) GC_HIDE_POINTER(p)
#define REVEAL_POINTER(p) GC_REVEAL_POINTER(p)
#endif

/* ---- Threads and stacks ----------------------------------------------- */

/* Result codes of the thread calls (and of the link calls above). */
#define GC_SUCCESS 0
#define GC_DUPLICATE 1
#define GC_NO_THREADS 2
#define GC_UNIMPLEMENTED 3
#define GC_NOT_FOUND 4

/* pargc registers every thread that allocates, whether created through
 * the GC_pthread_* redirects or not, so the calls below are needed only
 * for threads that do not allocate yet hold the only pointers to heap
 * objects, or for code written for Boehm GC that calls them anyway (they
 * are accepted and do the right thing). */

/* The cold end of a stack (the highest address on x86-64). */
struct GC_stack_base {
  void *mem_base;
};
/* Nonzero: the collector runs marker threads in parallel (always in
 * pargc once it is initialised). */
GC_API GC_ATTR_DEPRECATED int GC_parallel;
GC_API int GC_CALL GC_get_parallel(void);
/* Number of marker threads to start (0: the default).  Call before
 * GC_init; GC_MARKERS in the environment does the same. */
GC_API void GC_CALL GC_set_markers_count(unsigned n);
/* Start the marker threads now rather than lazily. */
GC_API void GC_CALL GC_start_mark_threads(void);
/* Take and release the allocation lock (for code that must see a
 * consistent heap; keep the section short and do not allocate). */
GC_API void GC_CALL GC_alloc_lock(void);
GC_API void GC_CALL GC_alloc_unlock(void);
/* Run fn(client_data) holding the allocation lock; returns its result. */
typedef void *(GC_CALLBACK *GC_fn_type)(void *client_data);
GC_API void *GC_CALL GC_call_with_alloc_lock(GC_fn_type fn, void *client_data) GC_ATTR_NONNULL(1);
/* Call fn with the bounds of the calling thread's stack. */
typedef void *(GC_CALLBACK *GC_stack_base_func)(struct GC_stack_base *sb, void *arg);
GC_API void *GC_CALL GC_call_with_stack_base(GC_stack_base_func fn, void *arg) GC_ATTR_NONNULL(1);
/* Find the calling thread's stack base; GC_SUCCESS or GC_UNIMPLEMENTED. */
GC_API int GC_CALL GC_get_stack_base(struct GC_stack_base *sb) GC_ATTR_NONNULL(1);
/* Allow GC_register_my_thread from threads the collector did not see
 * created (a no-op in pargc, which always allows it). */
GC_API void GC_CALL GC_allow_register_threads(void);
/* Register the calling thread with its stack base: GC_SUCCESS, or
 * GC_DUPLICATE if already registered.  Pair with GC_unregister_my_thread
 * before the thread exits. */
GC_API int GC_CALL GC_register_my_thread(const struct GC_stack_base *sb) GC_ATTR_NONNULL(1);
/* Nonzero if the calling thread is registered. */
GC_API int GC_CALL GC_thread_is_registered(void);
/* Unregister the calling thread; its stack is no longer scanned. */
GC_API int GC_CALL GC_unregister_my_thread(void);
/* Tell the collector about an alternate signal stack of this thread and
 * its normal stack, so a thread stopped on either is scanned right. */
GC_API void GC_CALL GC_register_altstack(void *normstack, GC_word normstack_size,
                                         void *altstack, GC_word altstack_size);
/* Run fn(client_data) as a "blocked" thread: its stack above this frame
 * is not scanned and the thread need not stop for collections, so fn
 * may block for long (I/O) but must not touch the GC heap. */
GC_API void *GC_CALL GC_do_blocking(GC_fn_type fn, void *client_data) GC_ATTR_NONNULL(1);
/* Inside GC_do_blocking: run fn(client_data) as an active thread again. */
GC_API void *GC_CALL GC_call_with_gc_active(GC_fn_type fn, void *client_data) GC_ATTR_NONNULL(1);
/* The stack base recorded for the calling thread; stores it in *sb and
 * returns a thread handle for GC_set_stackbottom. */
GC_API void *GC_CALL GC_get_my_stackbottom(struct GC_stack_base *sb) GC_ATTR_NONNULL(1);
/* Change the recorded stack base of a thread (gc_thread_handle from
 * GC_get_my_stackbottom; NULL for the calling thread), for coroutines
 * that switch stacks. */
GC_API void GC_CALL GC_set_stackbottom(void *gc_thread_handle, const struct GC_stack_base *sb)
    GC_ATTR_NONNULL(2);
/* Signals used to stop and restart threads for a collection (set them
 * before GC_init; -1 chooses the default). */
GC_API void GC_CALL GC_set_suspend_signal(int sig);
GC_API void GC_CALL GC_set_thr_restart_signal(int sig);
GC_API int GC_CALL GC_get_suspend_signal(void);
GC_API int GC_CALL GC_get_thr_restart_signal(void);
/* Stop and restart all registered threads, for external tools; no
 * allocation from this thread in between. */
GC_API void GC_CALL GC_stop_world_external(void);
GC_API void GC_CALL GC_start_world_external(void);
/* A corrector of the stack pointer the collector scans each thread's
 * stack from (Boehm GC 8.2.4 and later), for programs that run coroutines
 * on a thread's stack: called at each collection, with the world stopped
 * and the collector's lock held, with the address of the thread's stack
 * pointer (the low end of the range to scan; it may change it) and the
 * thread's pthread_t.  NULL: none (the default). */
typedef void(GC_CALLBACK *GC_sp_corrector_proc)(void ** /* sp_ptr */, void * /* pthread_id */);
GC_API void GC_CALL GC_set_sp_corrector(GC_sp_corrector_proc);
GC_API GC_sp_corrector_proc GC_CALL GC_get_sp_corrector(void);
/* fork() support.  Before GC_INIT: with handle_fork nonzero (pargc's
 * default: 1) the collector installs pthread_atfork handlers, and -1 means
 * "if possible" (the program calls the three hooks itself should that
 * fail); 0 leaves it to the program, which then calls them around each
 * fork().  The hooks do nothing while the handlers are installed. */
GC_API void GC_CALL GC_set_handle_fork(int on);
GC_API void GC_CALL GC_atfork_prepare(void);
GC_API void GC_CALL GC_atfork_parent(void);
GC_API void GC_CALL GC_atfork_child(void);

/* ---- Incremental and generational collection --------------------------- */

/* Ask for incremental (and generational) collection, with short pauses.
 * pargc accepts the call; see docs/api.md for what it does. */
GC_API void GC_CALL GC_enable_incremental(void);
/* Nonzero once incremental mode is on. */
GC_API int GC_CALL GC_is_incremental_mode(void);
/* Allow manual dirty bits (GC_end_stubborn_change, GC_ptr_store_and_dirty)
 * in place of page protection; set before GC_enable_incremental. */
GC_API void GC_CALL GC_set_manual_vdb_allowed(int on);
GC_API int GC_CALL GC_get_manual_vdb_allowed(void);
/* What memory incremental mode write-protects: a mix of the bits below.
 * Code that writes into the heap from system calls must know. */
#define GC_PROTECTS_NONE 0
#define GC_PROTECTS_POINTER_HEAP 1
#define GC_PROTECTS_PTRFREE_HEAP 2
#define GC_PROTECTS_STATIC_DATA 4
#define GC_PROTECTS_STACK 8
GC_API int GC_CALL GC_incremental_protection_needs(void);
/* Begin an incremental collection now (finish it with GC_collect_a_little). */
GC_API void GC_CALL GC_start_incremental_collection(void);
/* Do a little collection work; nonzero while a collection is in progress. */
GC_API int GC_CALL GC_collect_a_little(void);

/* ---- Diagnostics ------------------------------------------------------ */

/* Print a description of the heap, its regions, or the finalization
 * tables to the log; GC_dump_named titles the output. */
GC_API void GC_CALL GC_dump(void);
GC_API void GC_CALL GC_dump_named(const char *name);
GC_API void GC_CALL GC_dump_regions(void);
GC_API void GC_CALL GC_dump_finalization(void);

/* With GC_THREADS, redirect pthread_create and friends to the GC_pthread_*
 * wrappers (see gc_pthread_redirects.h). */
#ifdef GC_PTHREADS
#ifdef __cplusplus
}
#endif
#include "gc_pthread_redirects.h"
#ifdef __cplusplus
extern "C" {
#endif
#endif

#ifdef __cplusplus
}
#endif
#endif /* PARGC_GC_H */
