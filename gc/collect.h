/* collect: the collector's policy and the order of its phases.
 *
 * A collection (stop-parallel mark, lazy sweep):
 *   1. stop the world (threads.h);
 *   2. clear the mark bits of collectable spans; push the roots: static
 *      data, every thread's stack, registers and TLS, user roots, and the
 *      allocated objects of uncollectable kinds;
 *   3. mark in parallel on all GC threads (tracer.h);
 *   4. PARGC_VERIFY: re-mark check, sequential;
 *   5. the after-mark hooks, in order: finalization and weak links (set
 *      by the compatibility layer; run with the world stopped);
 *   6. free unmarked large objects (one bit each: cheap, done now);
 *   7. note the live bytes, reset the allocation count, advance the
 *      epoch -- each thread releases its empty spans and sweeps its
 *      other small pages lazily as it allocates (thread.h);
 *   8. restart the world; feed the sizing policy (alloc/sizing.h);
 *      statistics; give idle free pages back, and wake the scavenger
 *      that keeps doing so between collections (scavenge.h).
 *
 * Policy: collect when the bytes allocated since the last collection
 * exceed the sizing policy's interval (MemBalancer), or, with
 * GC_FREE_SPACE_DIVISOR set, Boehm's max(heap, 2 x live,
 * GC_INITIAL_HEAP_SIZE) / GC_FREE_SPACE_DIVISOR; LPS grows the heap when
 * collecting frees too little.  GC_disable, GC_DONT_GC and
 * GC_MAXIMUM_HEAP_SIZE are honoured.
 */
#ifndef PARGC_COLLECT_H
#define PARGC_COLLECT_H
#ifndef PARGC_BUILDING
#error "gc/collect.h is internal to pargc"
#endif

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "gc/threads.h"
#include "alloc/lock.h"

/* The collector's part of the library's initialisation, called once,
 * in this order, by pargc_init (api/init.c), which runs the API layer's
 * installers between the two:
 *   setup:        the allocator, the root table, the thread registry and
 *                 its fork handlers, the allocator's collect and
 *                 thread-attach hooks (alloc/hooks.h);
 *   select_mode:  stop-parallel or mostly-concurrent (PARGC_MODE,
 *                 GC_ENABLE_INCREMENTAL), once every setting is read. */
void pargc_collect_setup(void);
void pargc_collect_select_mode(void);

/* fork, all of it -- the collector's handlers and the registry's, in
 * their order -- for GC_atfork_* when pargc's pthread_atfork handlers
 * are not installed (pargc_threads_fork_handled is false). */
void pargc_collect_fork_prepare(void);
void pargc_collect_fork_parent(void);
void pargc_collect_fork_child(void);

/* Run a full collection now unless disabled; true if one ran.  The
 * library is initialised (pargc_init).
 * `stop`: Boehm's GC_stop_func, asked before the world is stopped, once
 * the roots are pushed, and periodically while marking: when it answers
 * nonzero the collection is given up (nothing is freed) and this
 * returns false. */
bool pargc_collect_full(int (*stop)(void));
/* GC_set_stop_func: the stop function of GC_gcollect and of the
 * collections allocation starts (NULL: never stop). */
extern int (*pargc_collect_stop_fn)(void);
/* GC_set_force_unmap_on_gcollect: each explicit collection gives every
 * free page back to the OS. */
extern int pargc_collect_force_unmap;
/* A stop-parallel collection now, from a thread that may be inside the
 * allocator's slow path (an allocation that found no memory and
 * GC_max_retries, or GC_collect_a_little): never given up, after any
 * concurrent cycle in progress, finalizers left to the next allocation.
 * False if collecting is disabled. */
bool pargc_collect_now(void);
/* Boehm's settings the collector reads at each decision, which the API
 * layer owns (a program may write GC_dont_expand and GC_time_limit
 * directly).  Set by api/api_misc.c (pargc_misc_install); while unset
 * each reads as Boehm's default. */
struct pargc_collect_settings {
  bool (*dont_expand)(void);       /* GC_dont_expand */
  uint64_t (*time_limit_ns)(void); /* GC_set_time_limit */
  int (*max_prior_attempts)(void); /* GC_set_max_prior_attempts */
};
extern struct pargc_collect_settings pargc_collect_settings;
/* GC_set_time_limit in nanoseconds, 0 when unlimited; and
 * GC_set_max_prior_attempts: concurrent mode's pre-cleaning
 * (gc/concurrent.c). */
static inline uint64_t pargc_collect_time_limit_ns(void)
{
  return pargc_collect_settings.time_limit_ns ? pargc_collect_settings.time_limit_ns() : 0;
}
static inline int pargc_collect_max_prior_attempts(void)
{
  return pargc_collect_settings.max_prior_attempts ? pargc_collect_settings.max_prior_attempts()
                                                   : 1;
}
/* GC_dont_expand: collect rather than grow the heap. */
static inline bool pargc_collect_dont_expand(void)
{
  return pargc_collect_settings.dont_expand && pargc_collect_settings.dont_expand();
}

/* GC_disable / GC_enable counter. */
void pargc_collect_disable(void);
void pargc_collect_enable(void);
bool pargc_collect_is_disabled(void);

extern _Atomic uint64_t pargc_gc_no;

/* Call fn(lo, hi, arg) for every root range (static, user, threads'
 * TLS), stack_fn for threads' stacks and registers (pargc_threads_each_root_range). */
void pargc_collect_each_root(pargc_range_fn fn, pargc_range_fn stack_fn, void *arg);

/* Hooks run after marking, before the sweep, world stopped (step 5). */
#define PARGC_MAX_AFTER_MARK_HOOKS 8
void pargc_collect_add_after_mark_hook(void (*fn)(void));

/* Hooks run with the world stopped after the static and user roots are
 * pushed and before the thread stacks are (step 2; a program's
 * GC_push_other_roots may set its threads' stack bases there): they may
 * push more roots (pargc_tracer_push_range, pargc_tracer_mark_pointer).
 * Finalizer client data, toggle-refs and GC_push_other_roots use this. */
#define PARGC_MAX_ROOT_HOOKS 8
void pargc_collect_add_root_hook(void (*fn)(void));

/* Hooks run at a mostly-concurrent collection's final stop, after the
 * roots: they push again what may have changed without any barrier
 * seeing it -- the marked objects of kinds whose mark procedures read
 * memory outside the heap (a client's interpreter stack, say), which
 * are otherwise rescanned only when their own card is dirty. */
#define PARGC_MAX_REMARK_HOOKS 4
void pargc_collect_add_remark_hook(void (*fn)(void));
void pargc_collect_phase_remark(void);

/* GC_set_start_callback's place: called as every collection starts
 * (pargc_collect_started), pargc_collect_lock held and the world still
 * running, as Boehm GC calls it.  Programs wait there for locks of their
 * own -- Crystal's runtime waits for its threads to leave the sections
 * where they hold its collector read lock -- which a thread stopped with
 * the world would hold for good.  One hook: the compatibility layer. */
extern void (*pargc_collect_start_hook)(void);
/* A collection (or a concurrent cycle) starts: the START event, then the
 * start hook.  Before its first stop. */
void pargc_collect_started(void);

/* Called after every collection, once the world runs again and the
 * collection lock is released: `explicit_call` is true for GC_gcollect
 * and friends, false when an allocation triggered the collection (the
 * hook must then not re-enter the allocator).  One hook: the
 * compatibility layer (finalizers, reports). */
extern void (*pargc_collect_done_hook)(bool explicit_call);

/* Boehm's GC_dont_gc variable (programs write it directly): the
 * collector's own switch, so collect.c defines it. */
extern int GC_dont_gc;
/* GC_set_disable_automatic_collection: only explicit collections run. */
extern int pargc_collect_auto_disabled;

/* Boehm's GC_set_on_collection_event: fn(event), GC_EVENT_* numbering. */
extern void (*pargc_collect_event_fn)(int event);

/* Boehm's GC_EVENT_* numbers (GC_set_on_collection_event). */
enum {
  PARGC_EV_START, PARGC_EV_MARK_START, PARGC_EV_MARK_END, PARGC_EV_RECLAIM_START,
  PARGC_EV_RECLAIM_END, PARGC_EV_END, PARGC_EV_PRE_STOP_WORLD, PARGC_EV_POST_STOP_WORLD,
  PARGC_EV_PRE_START_WORLD, PARGC_EV_POST_START_WORLD,
};
void pargc_collect_event(int e);
/* Stop / restart the world between its collection events
 * (PRE_/POST_STOP_WORLD, PRE_/POST_START_WORLD); return the time the
 * world was stopped / the restart was issued.  After the restart,
 * start_world also does the work that needs locks the program's threads
 * take: releasing the large objects phase end found unmarked (see
 * "Locks and the stopped world" in docs/architecture.md). */
uint64_t pargc_collect_stop_world(void);
uint64_t pargc_collect_start_world(void);

/* The phases of a collection.  A stop-parallel collection runs them in
 * one stop (begin, roots, trace, end); the mostly-concurrent one
 * (concurrent.h) runs begin and roots in its first stop, traces while the
 * program runs, and runs roots again, the final trace and end in its
 * final stop.  Each is called with the world stopped and
 * pargc_collect_lock held.
 *   begin: start the tracer, make the other mark bitmap current (cleared;
 *          uncollectable spans keep their bits, and their objects are
 *          pushed as roots);
 *   roots: push every root range and run the root hooks;
 *   end:   verification, after-mark hooks, finding unmarked large
 *          objects (freed by pargc_collect_start_world), max(live) to
 *          LPS, the sweep switches to the new marks, new epoch; fills the
 *          figures of `s` it knows. */
struct pargc_collection_stats;
/* World running, pargc_collect_lock held, just before a stop that
 * begins a collection: clear the next bitmap ahead, so begin need not. */
void pargc_collect_phase_preclear(void);
void pargc_collect_phase_begin(void);
void pargc_collect_phase_roots(void);
void pargc_collect_phase_end(struct pargc_collection_stats *s);

/* Serialises collections and other stop-the-world users. */
extern pargc_lock_t pargc_collect_lock;
/* Take pargc_collect_lock at a moment no concurrent cycle is between its
 * two stops (waiting for it to end otherwise). */
void pargc_collect_lock_idle(void);

#endif
