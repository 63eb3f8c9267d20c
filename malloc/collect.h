/* collect: PARGC_MALLOC_MODE=collect -- the program's malloc on pargc's
 * collector, free taken as a hint (Boehm GC's REDIRECT_MALLOC idea).
 *
 * libpargc-malloc holds no collector: in this mode it loads libpargc
 * (the library beside it, RTLD_LOCAL, from its constructor) and calls
 * the Boehm API through function pointers, so the malloc layer stays on
 * the allocator layer and free mode carries nothing of the collector.
 *
 * What is collectable.  An allocation whose caller is the program (or
 * any library but libc, the dynamic linker and libpargc) is a normal,
 * scanned, collectable object in libpargc's heap; free ignores it and the
 * collector reclaims it once nothing reachable points to it.  An
 * allocation made by libc or the dynamic linker (their text holds the
 * return address) stays in free mode's heap, explicit, since they keep
 * pointers where no collector looks (the thread control block, link
 * maps, dynamic TLS); so do libpargc's own, which it expects never to be
 * collected under it.  Free mode's whole heap is scanned as a root, so
 * what those objects point to is kept.  When in doubt an object is kept:
 * the roots are also the static data of every loaded object and every
 * registered thread's stack and registers.
 *
 * Threads: libpargc registers a thread through its pthread_create, which
 * this library exports and forwards (pthread_create & co. below); a thread made
 * any other way is not scanned.  pthread_sigmask and sigprocmask are
 * forwarded too, so that no thread blocks the collector's suspend signal.
 * Memory the program maps itself is not scanned either: a pointer kept
 * only there does not keep its object.
 *
 * Invariants: pargc_malloc_collect_on is set once, by the constructor,
 * before the program's main runs.  From then on no thread's
 * pargc_tctx_current is set outside malloc.c's side allocations, so the
 * fast paths never serve the program: every malloc takes the slow path,
 * which asks who is calling.
 */
#ifndef PARGC_MALLOC_COLLECT_H
#define PARGC_MALLOC_COLLECT_H
#ifndef PARGC_BUILDING
#error "malloc/collect.h is internal to pargc"
#endif

#include <stdbool.h>
#include <stddef.h>

extern bool pargc_malloc_collect_on;

/* malloc.c's: set while the calling thread runs allocator or collector
 * code that may call malloc again (served by the bootstrap arena), and
 * that arena's allocation. */
extern __thread int pargc_malloc_busy __attribute__((tls_model("initial-exec")));
void *pargc_malloc_boot(size_t n, size_t align);

/* Load libpargc and switch (the constructor, mode collect).  false, after
 * a warning, when it cannot: free mode goes on. */
bool pargc_malloc_collect_start(void);
/* Who allocates, from the allocation's return address: 0 the program
 * (a collectable object), 1 libc or the dynamic linker, 2 libpargc (both
 * served by free mode: explicit, scanned as roots). */
int pargc_malloc_collect_class(const void *caller);
/* A collectable object of n bytes (aligned to `align` when above 16),
 * zeroed.  NULL with errno = ENOMEM on failure. */
void *pargc_malloc_collect_alloc(size_t n, size_t align);
/* Is p in the collector's heap?  *usable: bytes from p to its object's
 * end, less the byte past the end kept for interior pointers. */
bool pargc_malloc_collect_owns(const void *p, size_t *usable);
/* free(p), p in the collector's heap: left to the collector. */
void pargc_malloc_collect_free(void *p);

#endif
