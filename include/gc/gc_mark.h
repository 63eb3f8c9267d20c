/*
 * gc/gc_mark.h -- the marker's extension interface: object descriptors,
 * custom object kinds, mark procedures, and access to mark bits.
 *
 * A "kind" is a family of objects sharing a free list and a way of being
 * scanned.  Built-in kinds are pointer-free (atomic), normal (scanned
 * conservatively), uncollectable, and typed (gc_typed.h).  A client can
 * add kinds whose objects are scanned by a descriptor it chooses, possibly
 * one that calls its own mark procedure.
 *
 * Descriptors (GC_word) end in a two-bit tag (GC_DS_*):
 *   GC_DS_LENGTH      the whole word is a byte length: scan that many
 *                     bytes from the object start (0: the object size).
 *   GC_DS_BITMAP      the other bits are a bitmap, most significant bit
 *                     first: word i of the object is a pointer iff bit
 *                     (WORDSZ - 1 - i) is set.
 *   GC_DS_PROC        call mark procedure number (descr >> 2) & 63 with
 *                     env = descr >> 8 (build it with GC_MAKE_PROC).
 *   GC_DS_PER_OBJECT  the real descriptor is stored in the object, at the
 *                     byte offset given by the high bits; with the
 *                     GC_INDIR_PER_OBJ_BIAS form, it is read through the
 *                     object's first word (a vtable-like pointer).
 * All values below are part of the ABI shared with Boehm GC 8.2.
 *
 * Mark procedures run inside the collector, possibly in several marker
 * threads at once: they must not allocate, take locks, or call anything
 * here other than GC_mark_and_push / GC_MARK_AND_PUSH.
 */
#ifndef GC_MARK_H
#define GC_MARK_H

#ifndef GC_H
#include "gc.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes reserved for a mark procedure's own stack frame (a guideline). */
#define GC_PROC_BYTES 100

/* An entry of the mark stack.  Opaque: mark procedures only pass
 * pointers to entries around (one word in Boehm GC and pargc alike). */
#if defined(GC_BUILD) || defined(PARGC_BUILDING) || defined(NOT_GCBUILD)
struct GC_ms_entry;
#else
struct GC_ms_entry {
  void *opaque;
};
#endif

/* A mark procedure: scan the object at addr, pushing what it points to
 * with GC_MARK_AND_PUSH onto the stack whose top is mark_stack_ptr and
 * whose limit is mark_stack_limit; return the new top.  env is the value
 * encoded in the descriptor. */
typedef struct GC_ms_entry *(*GC_mark_proc)(GC_word *addr, struct GC_ms_entry *mark_stack_ptr,
                                            struct GC_ms_entry *mark_stack_limit, GC_word env);

/* There are at most GC_MAX_MARK_PROCS mark procedures; the first
 * GC_RESERVED_MARK_PROCS indices are kept for the collector and for
 * gcj-style allocation (index GC_GCJ_RESERVED_MARK_PROC_INDEX). */
#define GC_LOG_MAX_MARK_PROCS 6
#define GC_MAX_MARK_PROCS (1 << GC_LOG_MAX_MARK_PROCS)
#define GC_RESERVED_MARK_PROCS 8
#define GC_GCJ_RESERVED_MARK_PROC_INDEX 0

/* Descriptor tags (see the file comment). */
#define GC_DS_TAG_BITS 2
#define GC_DS_TAGS ((1 << GC_DS_TAG_BITS) - 1)
#define GC_DS_LENGTH 0
#define GC_DS_BITMAP 1
#define GC_DS_PROC 2
#define GC_DS_PER_OBJECT 3
/* A GC_DS_PROC descriptor calling mark procedure proc_index with env. */
#define GC_MAKE_PROC(proc_index, env) \
  (((((env) << GC_LOG_MAX_MARK_PROCS) | (proc_index)) << GC_DS_TAG_BITS) | GC_DS_PROC)
/* Added to a GC_DS_PER_OBJECT offset to mean "through the first word". */
#define GC_INDIR_PER_OBJ_BIAS 0x10

/* Bounds of the addresses that may be heap pointers: anything outside
 * [least, greatest] is not, which is the cheap first test of
 * GC_MARK_AND_PUSH.  Written by the collector only. */
GC_API void *GC_least_plausible_heap_addr;
GC_API void *GC_greatest_plausible_heap_addr;

/* Mark obj if it is an unmarked heap object and push it for scanning;
 * src is where the pointer was found (for back-pointer debugging).
 * Returns the new mark stack top. */
GC_API struct GC_ms_entry *GC_CALL GC_mark_and_push(void *obj, struct GC_ms_entry *mark_stack_ptr,
                                                    struct GC_ms_entry *mark_stack_limit,
                                                    void **src);
/* GC_mark_and_push with the plausibility test inlined. */
#define GC_MARK_AND_PUSH(obj, msp, lim, src)                                 \
  ((GC_word)(obj) >= (GC_word)GC_least_plausible_heap_addr                   \
           && (GC_word)(obj) <= (GC_word)GC_greatest_plausible_heap_addr     \
       ? GC_mark_and_push(obj, msp, lim, src)                                \
       : (msp))

/* Bytes of the header in front of each debug object (GC_debug_malloc);
 * 0 would mean debugging support is compiled out. */
GC_API GC_ATTR_CONST size_t GC_CALL GC_get_debug_header_size(void);
/* The same as a constant variable, for old code. */
GC_API GC_ATTR_DEPRECATED
#if defined(GC_BUILD) || defined(PARGC_BUILDING)
    const
#endif
    size_t GC_debug_header_size;
/* The address a debug object's user sees, from its base. */
#define GC_USR_PTR_FROM_BASE(p) ((void *)((char *)(p) + GC_get_debug_header_size()))

/* A new, empty free-list array for a new kind (one list per small size
 * class).  The _inner variants expect the allocation lock held. */
GC_API void **GC_CALL GC_new_free_list(void);
GC_API void **GC_CALL GC_new_free_list_inner(void);
/* Create a kind whose objects use free_list, are scanned with descriptor
 * mark_descriptor_template (plus the object length if add_size_to_descriptor),
 * and are zeroed on allocation if clear_new_objects.  Returns the kind
 * number for GC_generic_malloc. */
GC_API unsigned GC_CALL GC_new_kind(void **free_list, GC_word mark_descriptor_template,
                                    int add_size_to_descriptor, int clear_new_objects)
    GC_ATTR_NONNULL(1);
GC_API unsigned GC_CALL GC_new_kind_inner(void **free_list, GC_word mark_descriptor_template,
                                          int add_size_to_descriptor, int clear_new_objects)
    GC_ATTR_NONNULL(1);
/* Register a mark procedure; returns its index for GC_MAKE_PROC. */
GC_API unsigned GC_CALL GC_new_proc(GC_mark_proc proc);
GC_API unsigned GC_CALL GC_new_proc_inner(GC_mark_proc proc);

/* Allocate an object of the given kind (built-in or from GC_new_kind). */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL GC_generic_malloc(size_t lb, int k);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_generic_malloc_ignore_off_page(size_t lb, int k);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_generic_malloc_uncollectable(size_t lb, int k);
/* GC_generic_malloc, but uncollectable kinds go to the uncollectable
 * allocator: what GC_realloc uses to keep an object's kind. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_generic_or_special_malloc(size_t lb, int k);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_debug_generic_or_special_malloc(size_t lb, int k, GC_EXTRA_PARAMS);
#ifdef GC_DEBUG
#define GC_GENERIC_OR_SPECIAL_MALLOC(sz, knd) GC_debug_generic_or_special_malloc(sz, knd, GC_EXTRAS)
#else
#define GC_GENERIC_OR_SPECIAL_MALLOC(sz, knd) GC_generic_or_special_malloc(sz, knd)
#endif

/* The kind of the object starting at p; its size goes to *psize if
 * psize is not NULL. */
GC_API int GC_CALL GC_get_kind_and_size(const void *p, size_t *psize) GC_ATTR_NONNULL(1);

/* Describe objects of a kind in heap dumps: fn writes at most
 * GC_TYPE_DESCR_LEN bytes (NUL included) into out_buf. */
typedef void(GC_CALLBACK *GC_describe_type_fn)(void *p, char *out_buf);
#define GC_TYPE_DESCR_LEN 40
GC_API void GC_CALL GC_register_describe_type_fn(int kind, GC_describe_type_fn knd_fn);

/* Clear some of the stack beyond the current frame (so stale pointers
 * there do not retain garbage) and return arg. */
GC_API void *GC_CALL GC_clear_stack(void *arg);

/* Called at the start of each collection, with the lock held; must not
 * allocate. */
typedef void(GC_CALLBACK *GC_start_callback_proc)(void);
GC_API void GC_CALL GC_set_start_callback(GC_start_callback_proc fn);
GC_API GC_start_callback_proc GC_CALL GC_get_start_callback(void);

/* Mark bits of a heap object (its base).  Meaningful only with the world
 * stopped or the allocation lock held. */
GC_API int GC_CALL GC_is_marked(const void *p) GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_clear_mark_bit(const void *p) GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_set_mark_bit(const void *p) GC_ATTR_NONNULL(1);

/* Push a range to be scanned conservatively, from a push-roots callback:
 * GC_push_all defers the scan, GC_push_all_eager scans now, and
 * GC_push_conditional skips clean pages in incremental mode when all is 0. */
GC_API void GC_CALL GC_push_all(void *bottom, void *top);
GC_API void GC_CALL GC_push_all_eager(void *bottom, void *top);
GC_API void GC_CALL GC_push_conditional(void *bottom, void *top, int all);
/* Push the collector's own finalization tables. */
GC_API void GC_CALL GC_push_finalizer_structures(void);
/* Called during root marking so the client can push extra roots with the
 * calls above. */
typedef void(GC_CALLBACK *GC_push_other_roots_proc)(void);
GC_API void GC_CALL GC_set_push_other_roots(GC_push_other_roots_proc fn);
GC_API GC_push_other_roots_proc GC_CALL GC_get_push_other_roots(void);

/* Call proc(obj, bytes, client_data) for every object marked by the last
 * collection; call with the allocation lock held (GC_call_with_alloc_lock). */
typedef void(GC_CALLBACK *GC_reachable_object_proc)(void *obj, size_t bytes, void *client_data);
GC_API void GC_CALL GC_enumerate_reachable_objects_inner(GC_reachable_object_proc proc,
                                                         void *client_data) GC_ATTR_NONNULL(1);
/* Nonzero if p lies in a range currently registered as a root. */
GC_API int GC_CALL GC_is_tmp_root(void *p);

/* Print the collector's trace buffer for the given collection number
 * (only in builds that keep one; pargc and Debian's libgc do not). */
GC_API void GC_CALL GC_print_trace(GC_word gc_no);
GC_API void GC_CALL GC_print_trace_inner(GC_word gc_no);

#ifdef __cplusplus
}
#endif
#endif /* GC_MARK_H */
