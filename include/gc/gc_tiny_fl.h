/*
 * gc/gc_tiny_fl.h -- the granule geometry behind gc_inline.h's free lists.
 *
 * Objects are allocated in granules of GC_GRANULE_BYTES (two words).  A
 * thread's inline free lists (GC_MALLOC_WORDS and friends) are an array of
 * GC_TINY_FREELISTS lists, indexed by size in granules; sizes from that
 * many granules up go through the ordinary allocator.  These numbers are
 * part of the ABI of gc_inline.h: pargc's small size classes include every
 * granule multiple below GC_TINY_FREELISTS * GC_GRANULE_BYTES.
 */
#ifndef GC_TINY_FL_H
#define GC_TINY_FL_H

#ifndef GC_GRANULE_BYTES
#if defined(__LP64__) || defined(_LP64)
#define GC_GRANULE_BYTES 16
#else
#define GC_GRANULE_BYTES 8
#endif
/* Two words per granule on every supported target. */
#define GC_GRANULE_WORDS 2
#endif

/* Whole granules in n words, rounded down. */
#if GC_GRANULE_WORDS == 2
#define GC_WORDS_TO_GRANULES(n) ((n) >> 1)
#else
#define GC_WORDS_TO_GRANULES(n) ((n) * sizeof(void *) / GC_GRANULE_BYTES)
#endif

/* Number of inline free lists; list i holds objects of i granules
 * (list 0 serves zero-byte requests with one granule). */
#ifndef GC_TINY_FREELISTS
#if GC_GRANULE_BYTES == 16
#define GC_TINY_FREELISTS 25
#else
#define GC_TINY_FREELISTS 33
#endif
#endif

/* Bytes of the objects on free list i. */
#define GC_RAW_BYTES_FROM_INDEX(i) ((i) * GC_GRANULE_BYTES)

#endif /* GC_TINY_FL_H */
