/* init: the library's initialisation and the one place its layers are
 * wired together -- the collector core set up, then the API layer's
 * modules installing their hooks into it, in the order they must run.
 *
 * Every entry point that needs the collector calls pargc_init first (or
 * tests pargc_init_ready on a fast path); a thread's first allocation
 * reaches it too, through the allocator's init hook, so allocating
 * before GC_init sets everything up as well.
 */
#ifndef PARGC_API_INIT_H
#define PARGC_API_INIT_H
#ifndef PARGC_BUILDING
#error "api/init.h is internal to pargc"
#endif

/* Initialise everything, once (GC_init's first part).  Idempotent and
 * safe from several threads at once: the first caller initialises, the
 * others wait for it; later calls return after one load. */
void pargc_init(void);
/* Nonzero once pargc_init has finished (GC_is_init_called). */
extern _Atomic int pargc_init_ready;

#endif
