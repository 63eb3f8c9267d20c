/* tracer: parallel conservative marking -- the contract the collector
 * (and the mostly-concurrent mode) drives.
 *
 *   pargc_tracer_begin()          reset per-thread state, snapshot heap bounds
 *   pargc_tracer_push_range(l, h) add a range to scan (roots, objects)
 *   pargc_tracer_trace()          mark everything reachable from what was
 *                                 pushed, on all GC threads; returns when
 *                                 no work is left anywhere
 *   pargc_tracer_finish(&stats)   per-thread figures of this trace
 *
 * Every word of a range is a candidate pointer; the page map resolves it
 * (interior pointers included) to an object, whose mark bit is set with
 * one atomic OR (a plain store when one thread marks alone; plain stores
 * backed by per-thread bitmaps when several mark a stopped world; see
 * pargc_tracer_set_exclusive_marks).  A newly marked object of a scanned
 * kind is pushed as a range.  Ranges larger than PARGC_MARK_PIECE are
 * scanned a piece at a time, the rest pushed back for later or for
 * thieves, so one huge array does not serialise the mark.  Each GC
 * thread marks from a private stack and shares through its own
 * Chase-Lev deque (deque.h): the oldest half of the stack moves to the
 * deque when the stack is full or another GC thread is idle; idle
 * threads steal the oldest entry of a random victim's deque; a full
 * deque spills into a shared overflow list (never drops work).
 * Termination: a count of active threads -- a thread decrements it when
 * it finds no work (stack, deque and overflow list empty) and
 * re-increments it before it tries to steal;
 * when the count reads zero no thread holds work and none can create
 * any, so all stop.  No lock is taken on this path.
 */
#ifndef PARGC_TRACER_H
#define PARGC_TRACER_H
#ifndef PARGC_BUILDING
#error "gc/tracer.h is internal to pargc"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PARGC_MAX_GC_THREADS 256

struct pargc_trace_thread_stats {
  uint64_t marked_bytes, marked_objects;
  uint64_t steals, overflows;
  uint64_t busy_ns;       /* in the trace, marking or looking for work */
  uint64_t work_ns;       /* marking: busy_ns less the looking (kept
                             for PARGC_GC_THREADS=auto only) */
};

struct pargc_trace_stats {
  unsigned threads;
  uint64_t marked_bytes, marked_objects, steals, overflows;
  struct pargc_trace_thread_stats per_thread[PARGC_MAX_GC_THREADS];
};

/* Number of GC threads: PARGC_GC_THREADS, else GC_MARKERS, else
 * GC_NPROCS, else the online CPUs (at most PARGC_MAX_GC_THREADS).
 * PARGC_GC_THREADS=auto takes the number the other rules give as the
 * most, and lets set_expected_live choose each collection's. */
unsigned pargc_tracer_threads(void);
/* CPU time the helper GC threads (all but the thread that calls the
 * trace) have spent tracing, ever: a concurrent cycle's cost is the
 * difference across it plus its own thread's time. */
uint64_t pargc_tracer_helpers_cpu_ns(void);
void pargc_tracer_set_threads(unsigned n);

/* Start the GC threads and their deques if not yet done.  Must run
 * BEFORE the world is stopped (thread creation takes locks that stopped
 * threads may hold). */
void pargc_tracer_prepare(void);
/* The same for a stopped collection that expects `live_bytes` live (as
 * pargc_tracer_set_expected_live): below 1 MiB, where the trace runs on
 * the calling thread alone, no helper is started.  A small program then
 * never has the helpers -- on a large machine, tens of threads with
 * their stacks -- and a later collection with more live data starts
 * them. */
void pargc_tracer_prepare_for(size_t live_bytes);
void pargc_tracer_begin(void);
/* Live bytes the collector expects (the previous collection's): below
 * 1 MiB the trace runs on the calling thread alone.  With
 * PARGC_GC_THREADS=auto, above it, the performance model's online form
 * (gc/model.h) chooses from what the last trace showed: its time and
 * how evenly its threads shared the work. */
void pargc_tracer_set_expected_live(size_t live_bytes);
/* GC threads taking part in the following traces (at most the
 * configured number; 0 goes back to what set_expected_live chose). */
void pargc_tracer_set_active_threads(unsigned n);
/* Between traces of one collection: the heap may have grown since
 * begin (a mostly-concurrent mark runs with the world started); extend
 * the range of candidate pointers to the pages handed out now.  Marks,
 * statistics and the black list are kept. */
void pargc_tracer_refresh_bounds(void);
void pargc_tracer_push_range(void *lo, void *hi);
/* A range of a thread's stack or saved registers: as push_range, except
 * that with interior pointers off (GC_all_interior_pointers = 0) a word
 * pointing into an object's middle still keeps it, as in Boehm GC --
 * compiled code holds such pointers all the time (a loop's cursor into an
 * array, one past its end).  Scanned at once in that case. */
void pargc_tracer_push_stack_range(void *lo, void *hi);
/* Eager roots: while on, push_range scans the range at once (marking and
 * pushing the objects it points to) instead of queueing it.  The first
 * stop of a concurrent collection pushes the roots this way, because
 * stacks change (or vanish) once the world runs again. */
void pargc_tracer_set_eager(bool on);
/* The mostly-concurrent mode traces while the program runs: the
 * descriptor-scanned kinds then leave their mark procedures uncalled
 * (api/kinds.c) until the world is stopped again.  False by default and
 * for every stopped-world trace. */
void pargc_tracer_set_world_running(bool running);
bool pargc_tracer_world_running(void);
/* Queue a marked object of a descriptor-scanned kind to be scanned
 * again by its descriptor (the concurrent collector's dirty rescan). */
void pargc_tracer_push_special(uintptr_t obj);
/* The caller promises that, until pargc_tracer_finish, no thread but
 * the GC threads of this trace sets mark bits (the world is stopped).
 * With one GC thread the mark bits are then set with a plain load and
 * store instead of an atomic OR; with several, with plain stores too,
 * each GC thread keeping its bits in
 * a bitmap of its own as well, ORed into the shared one when the trace
 * ends, before pargc_tracer_trace returns (tracer.c, "Racy marking").
 * pargc_tracer_begin resets it to false:
 * a trace that runs beside mutators that mark (the mostly-concurrent
 * mode) just does not call this, and stays atomic. */
void pargc_tracer_set_exclusive_marks(bool exclusive);
void pargc_tracer_trace(void);
/* As pargc_tracer_trace, asking `stop` (when not NULL) on the calling
 * thread once before and then periodically while it marks (Boehm's
 * GC_stop_func); when it answers nonzero every GC thread drops its work
 * and the trace ends early.  True if the trace completed.  After an
 * abandoned trace the marks are partial: the caller calls
 * pargc_tracer_abandon and must not use them. */
bool pargc_tracer_trace_until(int (*stop)(void));
/* Empty every mark stack, deque and the overflow list (no trace may
 * run): roots pushed for a collection that is then given up, or the
 * work an abandoned trace left. */
void pargc_tracer_abandon(void);
void pargc_tracer_finish(struct pargc_trace_stats *out);

/* Mark p's object if p points into one (GC_mark_and_push and friends);
 * the object is scanned by the running trace.  Callable during a trace
 * from a GC thread, or between begin and trace from the collector. */
void pargc_tracer_mark_pointer(uintptr_t p);
/* As pargc_tracer_mark_pointer, for a word of a stack or registers (see
 * pargc_tracer_push_stack_range). */
void pargc_tracer_mark_stack_pointer(uintptr_t p);

/* Descriptor-scanned kinds (kind >= PARGC_KIND_FIRST_CLIENT): the tracer
 * calls this hook (set by api/kinds.c) with the object's address, on the
 * GC thread that took it; the hook reports pointers with
 * pargc_tracer_mark_word and ranges to scan conservatively with
 * pargc_tracer_push_object_range (both act on the calling GC thread). */
extern void (*pargc_tracer_scan_special)(uintptr_t obj);
void pargc_tracer_mark_word(uintptr_t p);
void pargc_tracer_push_object_range(uintptr_t lo, uintptr_t hi);
/* The heap range of the running trace; false outside a trace. */
bool pargc_tracer_heap_bounds(uintptr_t *lo, uintptr_t *hi);

/* Verification (PARGC_VERIFY): scan the roots again and every marked
 * object, sequentially; report each pointer to an unmarked collectable
 * object.  Returns the number of misses. */
typedef void (*pargc_tracer_range_fn)(void *lo, void *hi, void *arg);
size_t pargc_tracer_verify(void (*each_root)(pargc_tracer_range_fn fn, pargc_tracer_range_fn stack_fn,
                                            void *arg));
/* Is the verifier running?  Root hooks called again by it push what they
 * pushed for the mark and skip their side effects (callbacks into the
 * program, state updates). */
bool pargc_tracer_verifying(void);

/* After fork: the GC threads are gone in the child. */
void pargc_tracer_after_fork_child(void);

/* Interior pointers.  The collector sets pargc_tracer_interior_pointers
 * (Boehm's GC_all_interior_pointers, read at each trace's begin); while
 * it answers 0, a word keeps an object alive only if it points at the
 * object's start or at an offset registered here (GC_register_displacement;
 * offsets of 64 KiB and more are never valid). */
extern int (*pargc_tracer_interior_pointers)(void);
void pargc_tracer_register_displacement(size_t offset);
bool pargc_tracer_valid_displacement(size_t offset);
/* Are only starts and registered displacements recognised now? */
bool pargc_tracer_base_only(void);

/* Pages that false pointers hit are black-listed in the page map
 * (pagemap.h); multi-page runs avoid them. */

#endif
