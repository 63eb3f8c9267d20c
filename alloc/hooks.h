/* hooks: the allocator -> collector contract, whole.
 *
 * alloc/ knows nothing of gc/: where an allocation needs the collector
 * (to initialise it, to register a thread, to collect, to report running
 * out of memory) it calls through one of the function pointers below.
 * The allocator defines them (NULL until set) and calls them; the
 * collector (gc/) sets them, each in one place, named beside it.  A NULL
 * hook is always allowed and means "no collector": the allocator then
 * allocates and grows the heap on its own.  Ten hooks and one flag;
 * nothing else of gc/ is called from alloc/.
 *
 * The state each one runs in is part of the contract.  None runs with
 * the world stopped or with an allocator lock held (pages_lock, a node
 * pool's lock, tctx_lock), so each may take the collector's locks and,
 * unless said otherwise, stop the world.  "The calling thread" is a
 * mutator inside an allocation slow path (alloc/thread.c) or a heap
 * operation (alloc/heap.c) unless said otherwise.
 *
 * The other direction is plain calls (gc/ uses alloc/'s headers), plus
 * Boehm GC's policy variables, which the heap reads through the pointers
 * of pargc_heap_settings (alloc/heap.h), set by api/api_misc.c.
 */
#ifndef PARGC_HOOKS_H
#define PARGC_HOOKS_H
#ifndef PARGC_BUILDING
#error "alloc/hooks.h is internal to pargc"
#endif

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- Initialisation and threads (called from alloc/thread.c) --- */

/* The collector's own initialisation, run once before the allocator's
 * (pargc_tctx_get, on a thread's first allocation while the allocator is
 * not ready), so that allocating before GC_init sets the collector up
 * too.  May run on several threads at once: it serialises itself and
 * returns at once when done.  Set by api/init.c (pargc_init) from a
 * constructor, before main. */
extern void (*pargc_alloc_init_hook)(void);

/* A thread allocates for the first time (its allocation context was just
 * made, pargc_tctx_get): register it as a mutator if nothing did yet.
 * Runs on that thread, allocator ready, no lock held.  Set by
 * gc/collect.c (pargc_collect_setup). */
extern void (*pargc_thread_attach_hook)(void);

/* --- Collecting (called from alloc/thread.c and alloc/heap.c) --- */

/* Run a collection if policy allows (not disabled, not GC_DONT_GC) and
 * none ended since the caller read pargc_epoch as `seen`.  Read it BEFORE
 * deciding that a collection is due: two threads that decide at once
 * then collect once, not twice (the second collection would run on an
 * empty interval and trace all the live data again).  True if the heap may have room now (a
 * collection ran, here or in another thread).  In concurrent mode it
 * starts a cycle instead, and may wait for the running one to end.
 * Takes the collector lock and stops the world.  Called when a thread's
 * pages are used up and the allocation count reached the trigger
 * (refill, large objects) and from pargc_heap_take_run before the heap
 * grows; never from inside the collector (take_run's collect_ok).  Set
 * by gc/collect.c (pargc_collect_setup). */
extern bool (*pargc_heap_collect_hook)(uint64_t seen);

/* Set by a collector that collects beside the program (concurrent mode):
 * called, without waiting for anything, each time a thread brings the
 * allocation count up to date and it has reached
 * pargc_heap_trigger_threshold, so that a cycle starts on the count
 * alone, while the program still has swept space to allocate from during
 * it.  (The collect hook runs only when a thread's own pages are used
 * up, which is right for a collection that stops the world but would
 * start a concurrent cycle too late: every byte allocated during it
 * would then come from new pages.)  Must not block: it only wakes the
 * collector thread.  Set by gc/concurrent.c (pargc_conc_enable). */
extern void (*pargc_heap_kick_hook)(void);

/* Should the heap collect before it grows?  (GC_dont_expand, or many
 * finalizers registered since the last collection: Boehm's
 * GC_collect_or_expand.)  While it answers true, fresh pages are taken
 * only up to the heap at the last collection plus heap / divisor (at
 * least GC_INITIAL_HEAP_SIZE), and a thread that finds no free run
 * collects once anything was allocated since the last collection; after
 * that collection the heap may grow.  A question only: reads settings
 * without a lock, changes nothing.  Called from pargc_heap_take_run.
 * Set by api/api_misc.c (pargc_misc_install). */
extern bool (*pargc_heap_collect_first_hook)(void);

/* The heap's size changed (GC_set_on_heap_resize): called with the new
 * committed size in bytes after pages are taken from the OS or given
 * back to it, on the thread that did so (a mutator, the collecting
 * thread after the restart, or the scavenger thread); never with the
 * world stopped or a heap lock held, but possibly inside an allocation's
 * slow path (the program's callback must not allocate, as in Boehm GC).
 * Set by api/api_misc.c
 * (pargc_misc_install). */
extern void (*pargc_heap_resize_hook)(size_t heap_bytes);

/* --- Running out of memory (called from alloc/thread.c) --- */

/* Boehm's GC_max_retries: an allocation found no memory; called with
 * attempt = 0, 1, ... until it returns false, each true answer after a
 * collection (it collects, so it stops the world), the allocation being
 * retried after each; an allocation failing inside a retry only returns
 * NULL to it.  Then the out-of-memory hook decides.  Set by
 * api/api_misc.c (pargc_misc_install). */
extern bool (*pargc_alloc_retry_hook)(unsigned attempt);

/* The allocation of `bytes` failed for good: what it returns is the
 * allocation's result (Boehm's GC_oom_fn: by default NULL).  Calls the
 * program's handler, which may do anything a mutator may.  Set by
 * api/api.c (GC_init, GC_set_oom_fn). */
extern void *(*pargc_alloc_oom_hook)(size_t bytes);

/* --- Stops put off (called from alloc/pagemap.c) --- */

/* The collector's stop signal (or GC_suspend_thread's) reached the
 * calling thread inside a mark section (alloc/pagemap.h), whose handler
 * only noted it: take it now.  Called as the outermost section ends, on
 * that thread, perhaps inside an allocation slow path with the thread's
 * lists held (never an allocator lock); it stops or parks the thread as
 * the signal would have.  Set by gc/stop.c (its signal set-up). */
extern void (*pargc_mark_section_stop_hook)(void);

/* --- Work left for a mutator (called from alloc/thread.c) --- */

/* Set (to 1) by the collector when pargc_alloc_pending_hook should run at
 * the start of the next allocation slow path, where no allocator state
 * is half-updated; the hook clears it.  Read there without ordering: a
 * hint. */
extern _Atomic int pargc_alloc_pending;
/* The work itself (running finalizers that a collection an allocation
 * triggered left queued).  Runs on the allocating thread, before its
 * context is looked up; may allocate and collect.  Set by api/finalize.c
 * (pargc_finalize_install). */
extern void (*pargc_alloc_pending_hook)(void);

#endif
