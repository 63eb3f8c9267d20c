/*
 * gc/gc_inline.h -- allocation from a free list the caller owns, inlined.
 *
 * A client keeps an array of GC_TINY_FREELISTS free-list heads (one per
 * granule count, see gc_tiny_fl.h), typically per thread, zero-initialised.
 * GC_MALLOC_WORDS(result, n, tiny_fl) pops an object from the list for n
 * words' granule count, refilling it with GC_generic_malloc_many when empty;
 * GC_CONS builds a two-word cell.  The fast path is a load, a compare and a
 * store.  The lists must not be shared between threads without a lock.
 *
 * A list head that is not a pointer holds a small counter: the first few
 * allocations of each size go through GC_malloc_kind (counting up to
 * num_direct) so that rarely used sizes do not grab a whole list.  The
 * encoding (counter values up to num_direct + GC_TINY_FREELISTS + 1) is
 * the one Boehm GC 8.2 uses, so lists may be filled by either library.
 *
 * pargc scans every word of these objects.  Boehm GC, with interior
 * pointers recognised (its default), does not scan the LAST word of an
 * object from these macros: it expects the client to have added a byte
 * for one-past-the-end pointers.  Code meant for both should keep
 * pointers out of the last word (or ask for one word more).
 */
#ifndef GC_INLINE_H
#define GC_INLINE_H

#include "gc.h"
#include "gc_tiny_fl.h"

#if GC_GNUC_PREREQ(3, 0)
#define GC_EXPECT(expr, outcome) __builtin_expect(expr, outcome)
#else
#define GC_EXPECT(expr, outcome) (expr)
#endif

#ifndef GC_ASSERT
#ifdef NDEBUG
#define GC_ASSERT(expr)
#else
#include <assert.h>
#define GC_ASSERT(expr) assert(expr)
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

#ifndef GC_PREFETCH_FOR_WRITE
#if GC_GNUC_PREREQ(3, 0) && !defined(GC_NO_PREFETCH_FOR_WRITE)
#define GC_PREFETCH_FOR_WRITE(x) __builtin_prefetch((x), 1)
#else
#define GC_PREFETCH_FOR_WRITE(x) (void)0
#endif
#endif

/* The two kinds the inline allocators serve (also GC_malloc_kind's). */
#define GC_I_PTRFREE 0
#define GC_I_NORMAL 1

/* Fill *result with a list of objects of lb bytes and kind k, linked
 * through their first word; *result is NULL if none could be had. */
GC_API void GC_CALL GC_generic_malloc_many(size_t lb, int k, void **result);
/* Allocate lb bytes of kind k (GC_I_PTRFREE, GC_I_NORMAL or a kind from
 * GC_new_kind) through the calling thread's own free lists. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL GC_malloc_kind(size_t lb, int k);
/* The same through the shared free lists (no thread-local cache). */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL GC_malloc_kind_global(size_t lb, int k);

/* Store the new list head.  As in Boehm GC's header, the store is
 * atomic for a GC_THREADS client that has included libatomic_ops (whose
 * AO_store it then uses); pargc itself does not need it. */
#if defined(GC_THREADS) && defined(AO_HAVE_store)
#define GC_FAST_M_AO_STORE(my_fl, next) AO_store((volatile AO_t *)(my_fl), (AO_t)(next))
#else
#define GC_FAST_M_AO_STORE(my_fl, next) (void)(*(my_fl) = (next))
#endif

/* Allocate `granules` granules of `kind` from tiny_fl into result.
 * default_expr allocates the slow way; init runs on a fresh object.  See
 * the file comment for the counter encoding of non-pointer heads. */
#define GC_FAST_MALLOC_GRANS(result, granules, tiny_fl, num_direct, kind, default_expr, init) \
  do {                                                                       \
    if (GC_EXPECT((granules) >= GC_TINY_FREELISTS, 0)) {                     \
      result = (default_expr);                                               \
    } else {                                                                 \
      void **pargc_fl_ = (tiny_fl) + (granules);                             \
      void *pargc_head_ = *pargc_fl_;                                        \
      void *pargc_next_;                                                     \
      for (;;) {                                                             \
        if (GC_EXPECT((GC_word)pargc_head_                                   \
                          > (num_direct) + GC_TINY_FREELISTS + 1, 1)) {      \
          /* A real object: pop it. */                                       \
          pargc_next_ = *(void **)pargc_head_;                               \
          result = pargc_head_;                                              \
          GC_FAST_M_AO_STORE(pargc_fl_, pargc_next_);                        \
          init;                                                              \
          GC_PREFETCH_FOR_WRITE(pargc_next_);                                \
          if ((kind) != GC_I_PTRFREE) {                                      \
            GC_end_stubborn_change(pargc_fl_);                               \
            GC_reachable_here(pargc_next_);                                  \
          }                                                                  \
          GC_ASSERT(GC_size(result) >= (granules) * GC_GRANULE_BYTES);       \
          break;                                                             \
        }                                                                    \
        if ((GC_signed_word)pargc_head_ - (GC_signed_word)(num_direct) <= 0 \
            && pargc_head_ != 0) {                                           \
          /* Still counting direct allocations of this size. */              \
          GC_FAST_M_AO_STORE(pargc_fl_, (char *)pargc_head_ + (granules) + 1); \
          result = (default_expr);                                           \
          break;                                                             \
        }                                                                    \
        /* Empty (or done counting): refill the list and retry. */           \
        GC_generic_malloc_many((granules) == 0 ? GC_GRANULE_BYTES            \
                                               : GC_RAW_BYTES_FROM_INDEX(granules), \
                               kind, pargc_fl_);                             \
        pargc_head_ = *pargc_fl_;                                            \
        if (pargc_head_ == 0) {                                              \
          result = (*GC_get_oom_fn())((granules) * GC_GRANULE_BYTES);        \
          break;                                                             \
        }                                                                    \
      }                                                                      \
    }                                                                        \
  } while (0)

/* Granules needed for n words, rounded up. */
#define GC_WORDS_TO_WHOLE_GRANULES(n) GC_WORDS_TO_GRANULES((n) + GC_GRANULE_WORDS - 1)

/* Allocate n words of kind into result from tiny_fl, running init. */
#define GC_MALLOC_WORDS_KIND(result, n, tiny_fl, kind, init)                 \
  do {                                                                       \
    size_t pargc_grans_ = GC_WORDS_TO_WHOLE_GRANULES(n);                     \
    GC_FAST_MALLOC_GRANS(result, pargc_grans_, tiny_fl, 0, kind,             \
                         GC_malloc_kind(pargc_grans_ * GC_GRANULE_BYTES, kind), init); \
  } while (0)

/* n words of scanned memory (the link word is cleared; the collector
 * keeps the rest of a free object zeroed). */
#define GC_MALLOC_WORDS(result, n, tiny_fl) \
  GC_MALLOC_WORDS_KIND(result, n, tiny_fl, GC_I_NORMAL, *(void **)(result) = 0)
/* n words of pointer-free memory (contents undefined). */
#define GC_MALLOC_ATOMIC_WORDS(result, n, tiny_fl) \
  GC_MALLOC_WORDS_KIND(result, n, tiny_fl, GC_I_PTRFREE, (void)0)

/* A two-word cell holding first and second (a Lisp cons). */
#define GC_CONS(result, first, second, tiny_fl)                              \
  do {                                                                       \
    void *pargc_l_ = (void *)(first);                                        \
    void *pargc_r_ = (void *)(second);                                       \
    GC_MALLOC_WORDS_KIND(result, 2, tiny_fl, GC_I_NORMAL, (void)0);          \
    if ((result) != 0) {                                                     \
      *(void **)(result) = pargc_l_;                                         \
      GC_PTR_STORE_AND_DIRTY((void **)(result) + 1, pargc_r_);               \
      GC_reachable_here(pargc_l_);                                           \
    }                                                                        \
  } while (0)

/* Print the global free list of the given kind and granule count. */
GC_API void GC_CALL GC_print_free_list(int kind, size_t sz_in_granules);

#ifdef __cplusplus
}
#endif
#endif /* GC_INLINE_H */
