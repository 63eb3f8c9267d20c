/* concurrent: the mostly-concurrent parallel collector (PARGC_MODE=
 * concurrent, GC_ENABLE_INCREMENTAL, GC_enable_incremental).
 *
 * Boehm, Demers and Shenker's mostly-parallel collection (PLDI 1991),
 * with every marking phase run by all GC threads at once as in Endo's
 * thesis (BRIEF section 5).  One cycle, driven by a background collector
 * thread that is not a mutator:
 *
 *   1. first stop: the tracer starts, the other mark bitmap becomes
 *      current, the roots are pushed (not traced), dirty tracking starts
 *      (dirty.h) and allocation turns black (thread.h: every free list
 *      handed out from now on is marked, so nothing allocated during the
 *      cycle is freed by it);
 *   2. concurrent mark: PARGC_CONC_GC_THREADS GC threads trace while the
 *      program runs; mutators keep sweeping lazily by the previous
 *      cycle's bitmap (pagemap.h: two bitmaps);
 *   3. pre-cleaning (mprotect only), up to PARGC_PRECLEAN_ROUNDS passes:
 *      take the pages dirtied so far, protect them again, rescan their
 *      marked objects, trace -- so that little is left for the pause;
 *   4. final stop: push the roots again and every marked object on a
 *      dirty card, stop tracking, trace on all GC threads; then the
 *      common end of a collection (collect.h: verification, finalization
 *      and weak links, large objects, new epoch).
 *
 * Why nothing reachable is lost: at the final stop take any reachable
 * object o and a path to it from a root.  Suppose o is the first
 * unmarked object on the path.  Its predecessor is a root (scanned at
 * the final stop) or a marked object p.  If p was scanned after its last
 * store, the scan saw the pointer to o; otherwise p's card was written
 * after p was scanned (or after p was allocated black, never scanned),
 * so the card is dirty at the final stop and p is rescanned.  Either way
 * o gets marked -- a contradiction.
 *
 * The program is never blocked by a cycle, except when it allocates
 * more than pargc_heap_cycle_limit (one and a half intervals, paced by
 * the live data, alloc/heap.h) before the cycle ends: then it waits for
 * the end, since the heap must not grow without bound when marking
 * cannot keep up.  GC_gcollect runs a stop-parallel collection after any cycle
 * in progress.
 *
 * Small heaps are collected stopped: while the last collection found
 * less than PARGC_CONC_MIN_LIVE (2 MiB) live, the next one stops the
 * world as in stop mode (pargc_conc_cycles), since one short stop costs
 * the program less than a cycle's two stops and its marking beside it.
 *
 * Locking: the cycle holds pargc_collect_lock during each stop only, so
 * that what takes it briefly (finalizer registration, statistics) does
 * not wait for the marking; what must not run in the middle of a cycle
 * (another collection, fork, changing the GC threads) takes it with
 * pargc_collect_lock_idle (collect.h).
 */
#ifndef PARGC_GC_CONCURRENT_H
#define PARGC_GC_CONCURRENT_H
#ifndef PARGC_BUILDING
#error "gc/concurrent.h is internal to pargc"
#endif

#include <stdbool.h>
#include <stddef.h>

/* Is concurrent mode on?  (PARGC_MODE=concurrent, GC_ENABLE_INCREMENTAL,
 * or pargc_conc_enable.) */
bool pargc_conc_enabled(void);
/* Turn concurrent mode on (GC_enable_incremental); ignored when
 * GC_DISABLE_INCREMENTAL is set.  Chooses the barrier (dirty.h). */
void pargc_conc_enable(void);

/* Is the next collection a cycle?  False outside concurrent mode, and
 * in it while the last collection found less than PARGC_CONC_MIN_LIVE
 * live: collections then stop the world as in stop mode. */
bool pargc_conc_cycles(void);
/* Each collection's end, world stopped (collect.h): the live data it
 * found chooses between cycle and stop for the next one. */
void pargc_conc_note_live(size_t live);

/* The allocator's trigger in concurrent mode: start a cycle if none runs
 * (returns false: the caller goes on allocating); when allocation ran
 * far ahead of a running cycle, wait for its end (returns true). */
bool pargc_conc_trigger(void);
/* Start a cycle now if none runs (GC_start_incremental_collection). */
void pargc_conc_start(void);
/* Is a cycle running? */
bool pargc_conc_running(void);
/* Wait until the cycle asked for or running now has ended, not for any
 * asked for after it (in a blocking section, see gc/threads.h). */
void pargc_conc_wait(void);
/* Take and drop the lock that starting and waiting for a cycle take
 * briefly.  GC_suspend_thread holds it, after pargc_collect_lock, so that
 * no thread is suspended while holding it. */
void pargc_conc_lock_hold(void);
void pargc_conc_lock_release(void);
/* Is a cycle between its first and final stop?  Read under
 * pargc_collect_lock, the answer holds until the lock is released. */
bool pargc_conc_in_cycle(void);

/* After fork in the child: no collector thread, no cycle. */
void pargc_conc_after_fork_child(void);

#endif
