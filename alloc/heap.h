/* heap: where pages come from -- LPS (locality-aware page sharing).
 *
 * Free pages are kept as runs (a FREE head and `pages` pages) in two
 * kinds of pool: each thread context's own free-page list, and one shared
 * pool per NUMA node (runs released by the collector and by threads that
 * exited).  A thread that needs a run of n pages tries, in order
 * (Endo's LPS, BRIEF section 2):
 *   1. its own free-page list, then its node's pool (runs no running
 *      thread owns);
 *   2. fresh pages from the reserved range -- first touched by this
 *      thread, so node-local -- if the heap would stay under
 *      k x max(l) (max(l): live + the sizing policy's interval, decaying
 *      by an eighth per collection; with GC_FREE_SPACE_DIVISOR set, the
 *      largest live x (1 + 2/d) seen; at least GC_INITIAL_HEAP_SIZE;
 *      k clamped to 1..threads);
 *   3. runs stolen from other threads' lists and the node pools, same
 *      node first;
 *   4. the collector (through pargc_heap_collect_hook, alloc/hooks.h), then growth
 *      (fresh pages beyond k x max(live)), then failure (NULL, the
 *      caller runs the out-of-memory path).
 * Small k behaves like Page-Shared (memory-efficient), large k like
 * All-Local (local pages, more memory).
 *
 * Within a list a request takes the shortest run that fits, from its
 * first part free of black-listed pages; runs are split to fit, and a
 * list whose runs all fall short is joined (neighbours by address) and
 * searched again before the next source is tried (heap.c).
 *
 * Consumption is measured in committed pages: handed out by the bump
 * pointer and not decommitted.  Free runs that stayed free for
 * PARGC_DECOMMIT_DELAY_MS are given back to the OS (madvise) and read as
 * zero when reused.
 *
 * Locking: a context's free-page list is under its `pages_lock`, a node
 * pool under its own lock (order: pages_lock, then a pool's lock).
 * Mutators hold them where a collection may stop them, so the functions
 * that take them -- take_run, release_run, decommit -- are never called
 * with the world stopped (asserted, alloc/report.h); the collector
 * releases large objects after the restart.
 */
#ifndef PARGC_HEAP_H
#define PARGC_HEAP_H
#ifndef PARGC_BUILDING
#error "alloc/heap.h is internal to pargc"
#endif

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/lock.h"
#include "alloc/pagelist.h"
#include "alloc/topology.h"

struct pargc_tctx;

/* Where a run came from (statistics and the LPS unit test). */
enum pargc_run_source {
  PARGC_RUN_OWN,
  PARGC_RUN_FRESH,
  PARGC_RUN_STOLEN_LOCAL,  /* from another thread / pool on the same node */
  PARGC_RUN_STOLEN_REMOTE, /* from another node */
  PARGC_RUN_GROWN,         /* fresh, beyond k x max(live) */
};

struct pargc_heap {
  int64_t k;                   /* PARGC_K, as given */
  _Atomic size_t committed;    /* pages handed out and not decommitted */
  _Atomic size_t max_live;     /* bytes: max(l), the heap the live data needs
                                  (pargc_heap_note_collection), >= initial heap */
  _Atomic size_t last_live;    /* bytes marked by the last collection */
  _Atomic size_t bytes_since_gc;
  _Atomic int concurrent;       /* the next collection marks beside the
                                   program (gc/concurrent.h chooses) */
  _Atomic size_t cycle_alloc;  /* concurrent mode: allocated during the last
                                  cycle (black: it survives the cycle); the
                                  trigger fires that much early, and it is
                                  not free space (pargc_heap_note_live) */
  _Atomic size_t bytes_total;  /* allocated ever */
  _Atomic size_t reclaimed_total; /* bytes sweeps found free, ever: free
                                     objects of swept spans, empty spans,
                                     dead large objects (GC_get_prof_stats) */
  size_t max_heap;             /* bytes; 0: the reservation */
  _Atomic size_t decommitted_bytes_total;
  _Atomic size_t free_pages;   /* pages sitting in free runs (all pools) */
  _Atomic uint64_t last_decommit_ns;
  struct {
    pargc_lock_t lock;
    struct pargc_page_list runs;
    bool unjoined; /* runs came back since the pool was last joined */
  } pool[PARGC_MAX_NODES];
};

extern struct pargc_heap pargc_heap;

/* The heap's size as Boehm GC reports it (GC_get_heap_size, the
 * statistics, the resize callback): the committed pages (handed out and
 * not decommitted), as a count and in bytes.  A snapshot: other
 * threads take and decommit runs meanwhile. */
static inline size_t pargc_heap_committed_pages(void)
{
  return atomic_load(&pargc_heap.committed);
}

static inline size_t pargc_heap_committed_bytes(void)
{
  return pargc_heap_committed_pages() * PARGC_PAGE_SIZE;
}

void pargc_heap_init(void);

/* Boehm GC's settings that steer this policy.  Programs set them with the
 * GC_set_* calls or by writing Boehm's variables directly
 * (`GC_free_space_divisor = 4;`), so the policy reads them at each
 * decision, through these pointers: the collector points them at Boehm's
 * variables (api/api_misc.c).  A NULL pointer reads as the default. */
struct pargc_heap_settings {
  const volatile size_t *free_space_divisor; /* GC_free_space_divisor (NULL:
                                                GC_FREE_SPACE_DIVISOR's value) */
  const volatile size_t *min_bytes_allocd;   /* floor of the interval (1) */
  const volatile size_t *non_gc_bytes;       /* GC_non_gc_bytes (0) */
  const volatile int *use_entire_heap;       /* GC_use_entire_heap (0) */
};
extern struct pargc_heap_settings pargc_heap_settings;
/* The free-space divisor in force (at least 1). */
size_t pargc_heap_divisor(void);

/* Effective k: PARGC_K clamped to 1..(registered threads). */
size_t pargc_heap_effective_k(void);

/* Get a run of exactly n pages for the calling context, following LPS.
 * The run's head is returned in state FREE with `zeroed` telling whether
 * its contents are known zero; NULL when the heap is exhausted.
 * `collect_ok`: may the collector be asked (false inside the collector). */
struct pargc_page *pargc_heap_take_run(struct pargc_tctx *ctx, size_t n,
                                       bool collect_ok, enum pargc_run_source *src);

/* Give a run (any state) back: to ctx's list, or to its node's pool when
 * ctx is NULL.  Tail descriptors are reset; the head becomes FREE. */
void pargc_heap_release_run(struct pargc_tctx *ctx, struct pargc_page *head);

/* Hand ctx's free runs to the node pools (a thread that exits). */
void pargc_heap_release_runs(struct pargc_tctx *ctx);

/* Decommit free runs idle for longer than PARGC_DECOMMIT_DELAY_MS (or all
 * free runs when `all`).  Returns bytes given back. */
size_t pargc_heap_decommit(bool all);
/* The same; `idle`: the program allocated nothing for a while, so runs
 * free for PARGC_DECOMMIT_DELAY_MS go even if collections are further
 * apart than that (otherwise a run must also have stayed free for two
 * collection intervals). */
size_t pargc_heap_decommit_idle(bool all, bool idle);
/* Pages in free runs that the last decommit pass kept committed because
 * they were freed too recently (0: nothing left to give back). */
size_t pargc_heap_committed_free(void);

/* Mark the head and tails of a run as a span/run of n pages. */
void pargc_heap_format_run(struct pargc_page *head, size_t n);

/* Boehm's trigger: collect once this many bytes were handed out since
 * the last collection: max(heap, 2 x live, GC_INITIAL_HEAP_SIZE) / divisor. */
size_t pargc_heap_collect_threshold(void);

/* The allocation trigger.  Stop-parallel: the threshold.  Concurrent
 * (`concurrent` set): the minimum interval less cycle_alloc (at most
 * three quarters of it), so that a cycle, during which the program goes
 * on allocating, ends about when the interval is used up instead of
 * letting the heap grow by a cycle's allocation each time. */
size_t pargc_heap_trigger_threshold(void);
/* Concurrent mode: once this many bytes were allocated since the last
 * cycle ended, a thread that needs a new span waits for the running
 * cycle to end instead of growing the heap further.  Under the sizing
 * policy, 1.25 intervals less the last cycle's (black, surviving)
 * allocation, at least a quarter interval; with the divisor, 1.5
 * intervals. */
size_t pargc_heap_cycle_limit(void);

/* Called by the collector after marking with the live bytes it found
 * and the bytes of roots it scanned (for the sizing policy's cap).
 * With GC_FREE_SPACE_DIVISOR set, max(l) becomes the largest
 * live x (1 + 2/d) seen. */
void pargc_heap_note_live(size_t live_bytes, size_t root_bytes);

/* Called by the collector once the world runs again: the collection
 * cost `gc_cpu` ns of CPU time and ended at process CPU time `cpu_end`
 * (pargc_os_process_cpu_ns), and `allocated` bytes were allocated since
 * the previous one ended.  The program's own time is the process's CPU
 * time in between less gc_cpu: a stop-parallel collection's gc_cpu is
 * the process's CPU time while the world was stopped, a concurrent
 * cycle's is what its collector and GC threads used while the program
 * ran beside them.  `pause_ns` is how long the program's threads were
 * stopped (both stops of a concurrent cycle).  Updates the sizing policy (sizing.h) and, unless the
 * divisor rules, max(l) = live + the interval (+ what a concurrent cycle
 * allocated). */
void pargc_heap_note_collection(size_t allocated, uint64_t gc_cpu, uint64_t cpu_end,
                                uint64_t pause_ns);

/* Does Boehm GC's fixed divisor size the heap (GC_FREE_SPACE_DIVISOR,
 * GC_set_free_space_divisor, or GC_free_space_divisor written to), rather
 * than the sizing policy? */
bool pargc_heap_uses_divisor(void);

/* The sizing policy's current interval E (0 before the first
 * collection); statistics and tests. */
size_t pargc_heap_interval(void);

/* GC_expand_hp: as if the last collection had left `bytes` more free in
 * a heap that much larger -- LPS may take that much more from the OS,
 * and the next collection waits until the heap could have grown that
 * far: the interval becomes at least the committed heap plus `bytes`,
 * less the live data.  False,
 * changing nothing, if the heap would outgrow the reservation or
 * GC_set_max_heap_size's limit. */
bool pargc_heap_expand(size_t bytes);

#endif
