/* scavenge: giving idle free pages back to the OS between collections.
 *
 * Collections decommit free runs that stayed free for
 * PARGC_DECOMMIT_DELAY_MS (alloc/heap.h), but a program that stops
 * allocating also stops collecting, and what its last collection freed
 * would stay resident for as long as it idles.  So after each collection
 * a background thread (started at the first; not a mutator, never
 * allocates from the heap, never stops the world) wakes every half delay
 * while free runs are still committed, and decommits those that have
 * aged: runs free for two collection intervals while the program
 * allocates (as the collector does), runs free for the delay once a tick
 * saw no allocation at all.  It sleeps on a condition variable once
 * nothing committed is free, so an idle program with nothing to give
 * back is never woken.
 *
 * Locks: it takes the heap's pool and context page locks, as a mutator
 * does; it is never stopped, so the collector's rule (no such lock with
 * the world stopped) holds.  fork: the child starts its own thread at its
 * first collection.
 */
#ifndef PARGC_SCAVENGE_H
#define PARGC_SCAVENGE_H
#ifndef PARGC_BUILDING
#error "gc/scavenge.h is internal to pargc"
#endif

#include <stdbool.h>

/* A collection ended (world running): start the thread if needed and
 * wake it.  Not with the world stopped. */
void pargc_scavenge_kick(void);

/* Called at each tick (set by the collector, which owns its lock and
 * knows when the world may be stopped): move along the lists of threads
 * that stopped allocating after the last collection (gc/scavenge.c).
 * Returns false when it could not run now (a collection holds the
 * lock): the scavenger ticks again.  NULL: nothing. */
extern bool (*pargc_scavenge_help_hook)(void);

/* fork child: forget the parent's thread. */
void pargc_scavenge_after_fork_child(void);

#endif
