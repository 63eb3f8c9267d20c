/*
 * gc/gc_typed.h -- typed allocation: objects whose pointer words are
 * described by a bitmap, so the collector scans only those words.
 *
 * Build a bitmap with one bit per word of the object (GC_set_bit), turn
 * it into a descriptor with GC_make_descriptor once, and allocate with
 * GC_MALLOC_EXPLICITLY_TYPED.  Words whose bit is clear are never taken
 * for pointers: an integer that happens to look like an address there
 * retains nothing.  Under GC_DEBUG the macros fall back to GC_MALLOC
 * (conservative scanning), as in Boehm GC.
 */
#ifndef GC_TYPED_H
#define GC_TYPED_H

#ifndef GC_H
#include "gc.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* A bitmap: bit i (counting from bit 0 of word 0) describes word i. */
typedef GC_word *GC_bitmap;
/* Bits per word. */
#define GC_WORDSZ (8 * sizeof(GC_word))
#define GC_get_bit(bm, index) (((bm)[(index) / GC_WORDSZ] >> ((index) % GC_WORDSZ)) & 1)
#define GC_set_bit(bm, index) ((bm)[(index) / GC_WORDSZ] |= (GC_word)1 << ((index) % GC_WORDSZ))
/* Word index of field f of struct t, words in t, and GC_words needed for
 * a bitmap of t. */
#define GC_WORD_OFFSET(t, f) (offsetof(t, f) / sizeof(GC_word))
#define GC_WORD_LEN(t) (sizeof(t) / sizeof(GC_word))
#define GC_BITMAP_SIZE(t) ((GC_WORD_LEN(t) + GC_WORDSZ - 1) / GC_WORDSZ)

/* A type descriptor, from GC_make_descriptor (opaque; never zero for a
 * type with pointers). */
typedef GC_word GC_descr;

/* A descriptor for objects whose first len words are described by bm
 * (words beyond len hold no pointers).  The bitmap may be freed after the
 * call.  May allocate; call it once per type, not per object. */
GC_API GC_descr GC_CALL GC_make_descriptor(const GC_word *bm, size_t len);

/* Allocate size_in_bytes of zeroed memory scanned according to d.  The
 * descriptor covers the start of the object; the object may be longer. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_malloc_explicitly_typed(size_t size_in_bytes, GC_descr d);
/* The same for large objects only pointed to near their start. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_malloc_explicitly_typed_ignore_off_page(size_t size_in_bytes, GC_descr d);
/* An array of nelements elements of size_in_bytes, each described by d. */
GC_API GC_ATTR_MALLOC GC_ATTR_CALLOC_SIZE(1, 2) void *GC_CALL
    GC_calloc_explicitly_typed(size_t nelements, size_t element_size_in_bytes, GC_descr d);

#ifdef GC_DEBUG
#define GC_MALLOC_EXPLICITLY_TYPED(bytes, d) ((void)(d), GC_MALLOC(bytes))
#define GC_CALLOC_EXPLICITLY_TYPED(n, bytes, d) ((void)(d), GC_MALLOC((n) * (bytes)))
#else
#define GC_MALLOC_EXPLICITLY_TYPED(bytes, d) GC_malloc_explicitly_typed(bytes, d)
#define GC_CALLOC_EXPLICITLY_TYPED(n, bytes, d) GC_calloc_explicitly_typed(n, bytes, d)
#endif

#ifdef __cplusplus
}
#endif
#endif /* GC_TYPED_H */
