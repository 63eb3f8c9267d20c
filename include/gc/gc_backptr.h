/*
 * gc/gc_backptr.h -- "why is this object alive?" queries.
 *
 * These answer only in a collector built to keep back pointers (Boehm GC
 * built with KEEP_BACK_PTRS).  Debian's libgc and pargc are not: the
 * functions are declared so that such code compiles, but neither library
 * exports them, and programs using them must be built against a library
 * that does.
 */
#ifndef GC_BACKPTR_H
#define GC_BACKPTR_H

#ifndef GC_H
#include "gc.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Where the reference keeping an object alive came from. */
typedef enum {
  GC_UNREFERENCED,    /* nothing: it would be collected */
  GC_NO_SPACE,        /* no back pointer was recorded */
  GC_REFD_FROM_ROOT,  /* a root; *base_p is the root address */
  GC_REFD_FROM_REG,   /* a register or stack slot */
  GC_REFD_FROM_HEAP,  /* another object; *base_p, *offset_p locate it */
  GC_FINALIZER_REFD   /* the finalization tables */
} GC_ref_kind;

/* How dest (a debug object) is referenced; stores the referrer's base
 * and the offset of the reference in it. */
GC_API GC_ref_kind GC_CALL GC_get_back_ptr_info(void *dest, void **base_p, size_t *offset_p)
    GC_ATTR_NONNULL(1);
/* A random address in the heap / in an allocated object, for sampling. */
GC_API void *GC_CALL GC_generate_random_heap_address(void);
GC_API void *GC_CALL GC_generate_random_valid_address(void);
/* Print the chain of references to a random / to the given object. */
GC_API void GC_CALL GC_generate_random_backtrace(void);
GC_API void GC_CALL GC_print_backtrace(void *p) GC_ATTR_NONNULL(1);

#ifdef __cplusplus
}
#endif
#endif /* GC_BACKPTR_H */
