/* thread: per-thread allocation contexts and the allocation fast path.
 *
 * Each thread that allocates has a context (struct pargc_tctx) reached
 * through one initial-exec TLS pointer.  Per (kind, size class) it owns:
 *   free   - the free objects of its current page, as a singly linked list
 *            whose links are stored XOR-encoded (pargc_link_key) so that a
 *            conservative scan never mistakes a link for a pointer;
 *   cur    - the page those objects belong to;
 *   avail  - swept pages with free objects (pg->free, pg->remote);
 *   full   - pages with no free object at last look (in free mode of
 *            libpargc-malloc, armed so that a remote free tells the
 *            owner: pargc_tctx_notify_full);
 *   unswept- pages waiting for the lazy sweep after a collection.
 * and a free-page list (runs of pages) that other threads may steal from
 * under `pages_lock`.  No lock is taken on the fast path.
 *
 * Who touches a context's page lists: its owner while in a slow path
 * (refill, explicit free, sweep), and otherwise another thread that
 * claims the context (pargc_tctx_park's state machine, `lists`):
 *   - blocked and exited threads: while a thread is in a blocking section
 *     (GC_do_blocking, pthread_join, waiting for a concurrent cycle) its
 *     context is parked, and a thread that runs out of pages of a class
 *     adopts that context's partly free pages of the class (avail and
 *     unswept) instead of taking new ones.  Without it a thread that
 *     built a data structure and then waited for workers to replace it
 *     kept every page the replaced parts had freed.
 *   - lagging threads: a thread about to grow the heap first moves every
 *     context that has not noticed the last collection (descheduled, or
 *     busy outside the allocator) to the new epoch, which gives the spans
 *     that collection emptied back as free runs others may steal
 *     (pargc_tctx_help_lagging).  Without it two threads on a loaded
 *     machine grew the heap 5x: one allocated while the other, off the
 *     CPU, held the pages the last collection had freed.
 *
 * Collections and contexts: the collector never writes a context (the
 * owner may be stopped half-way through a fast path).  Instead each
 * context notices a new collection epoch on its next slow path and moves
 * its avail and full pages to unswept (pargc_tctx_adjust_epoch).  The
 * current page is never swept while current: its free objects are in
 * `free`, which the collector does not see.
 *
 * Object invariants: a free object of a scanned kind is all zero except
 * its first word (the encoded link); explicit free and sweep zero
 * objects, so the fast path only clears the link.
 */
#ifndef PARGC_THREAD_H
#define PARGC_THREAD_H
#ifndef PARGC_BUILDING
#error "alloc/thread.h is internal to pargc"
#endif

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "alloc/heap.h"
#include "alloc/page.h"
#include "alloc/pagelist.h"
#include "alloc/report.h"
#include "alloc/sizeclass.h"

#define PARGC_MAX_CTX 4096

/* Page list ids (pargc_page.list). */
enum {
  PARGC_LIST_NONE = 0,
  PARGC_LIST_AVAIL,
  PARGC_LIST_FULL,
  PARGC_LIST_UNSWEPT,
  PARGC_LIST_FREE_RUNS, /* a context's free-page list */
  PARGC_LIST_POOL,      /* a node pool */
  PARGC_LIST_CUR,       /* not on a list: some context's current page */
  PARGC_LIST_DEAD,      /* an unmarked large run the collector releases
                           once the world runs again (gc/collect.c) */
};

struct pargc_class_state {
  struct pargc_page *cur;
  struct pargc_page_list avail, full, unswept;
  uint64_t adopt_epoch; /* the epoch of the last look at parked contexts */
};

struct pargc_tctx_stats {
  uint64_t fresh_pages, own_pages, grown_pages;
  uint64_t stolen_local_pages, stolen_remote_pages;
  uint64_t stolen_from_node[PARGC_MAX_NODES];
  uint64_t pages_swept, remote_frees, large_allocs;
  uint64_t adopted_pages; /* partly free pages taken from parked contexts */
};

struct pargc_tctx {
  /* Hot: the free lists, first so the fast path's offsets are small. */
  void **free[PARGC_MAX_KINDS][PARGC_NCLASSES];
  uint64_t epoch;        /* collection epoch the lists were adjusted to */
  size_t bytes_pending;  /* allocated, not yet added to pargc_heap */
  uint32_t id;
  int node;
  /* Bytes freed explicitly by the owner, ever (object sizes, as GC_size);
   * only the owner writes it, others read it (pargc_tctx_freed_bytes).
   * Next to `id`, which the free fast path reads anyway. */
  uint64_t freed_bytes;
  bool live;             /* a thread uses it (false: parked for reuse) */
  struct pargc_tctx *reuse_next;
  /* Who may touch the page lists (cls, free lists excepted):
   *   IDLE    - the owner is outside the allocator's slow paths; another
   *             thread may claim the context to move it to a new epoch;
   *   BUSY    - the owner is in a slow path (lists_depth > 0): only it;
   *   PARKED  - the owner is in a blocking section: another thread may
   *             claim the context to adopt pages or move its epoch;
   *   CLAIMED - another thread, holding the registry of contexts, works
   *             on the lists and puts back the state it found.
   * The owner moves IDLE -> BUSY and IDLE or BUSY <-> PARKED by CAS,
   * waiting out a claim (claims are short: a few list heads, or one
   * pass over the context's unswept pages); BUSY -> IDLE by a store. */
  _Atomic int lists;
  unsigned lists_depth; /* the owner's nested slow paths */
  /* Objects of this context's full pages that other threads freed,
   * encoded links: the first remote free into a page on the full list
   * comes here instead of onto the page's `remote` list, so that the
   * owner's next refill learns which full pages have free objects again
   * (pargc_tctx_notify_full).  A lock-free stack: any thread pushes, the
   * owner takes it whole. */
  _Atomic(void *) delayed;
  pargc_lock_t pages_lock; /* guards free_runs (thieves take it) */
  struct pargc_page_list free_runs;
  bool free_runs_unjoined; /* runs came back since the list was last
                              joined (alloc/heap.c) */
  struct pargc_tctx_stats stats;
  struct pargc_class_state cls[PARGC_MAX_KINDS][PARGC_NCLASSES];
};

/* Remote frees into full pages.  With no collection to come (the free
 * mode of libpargc-malloc), a full page that other threads free into is
 * found only if the owner looks at it, and looking at every full page at
 * every refill is too slow: a consumer thread freeing what a producer
 * allocated left most of the producer's full pages holding free objects
 * while the producer took fresh ones (mimalloc-bench's xmalloc-test
 * grew to 3x its live data).  So when this is set, a page that goes on
 * its owner's full list gets the PARGC_REMOTE_NOTIFY bit in its `remote`
 * word; the remote free that finds the bit clears it and pushes its
 * object onto the owner context's `delayed` list instead, and the
 * owner's next refill frees those objects locally, which moves their
 * pages from the full list to avail.  One object per page and fill goes
 * that way; the others go onto the page's remote list as before.
 * Off for the collector, whose sweeps find such pages at every
 * collection (and whose epochs would have to order the delayed list
 * against the sweep); set once, before any thread allocates. */
extern bool pargc_tctx_notify_full;
#define PARGC_REMOTE_NOTIFY ((uintptr_t)1) /* objects are 16-aligned */

/* The objects other threads freed into pg, taken off its remote list
 * (which also disarms PARGC_REMOTE_NOTIFY): every reader of the list
 * takes it this way, so none walks the bit as a link. */
static inline void **pargc_page_take_remote(struct pargc_page *pg)
{
  void *l = atomic_exchange_explicit(&pg->remote, NULL, memory_order_acquire);
  return (void **)((uintptr_t)l & ~PARGC_REMOTE_NOTIFY);
}

/* XOR key for free-list links; bit 63 set, so an encoded link is never a
 * user-space address. */
extern uintptr_t pargc_link_key;
extern __thread struct pargc_tctx *pargc_tctx_current
    __attribute__((tls_model("initial-exec")));
/* Current collection epoch (incremented by each collection). */
extern _Atomic uint64_t pargc_epoch;

/* Contexts by id, for thieves and statistics; ids < pargc_tctx_count. */
extern struct pargc_tctx *pargc_tctx_all[PARGC_MAX_CTX];
extern _Atomic uint32_t pargc_tctx_count;

/* Allocate black.  Set by the collector, with the world stopped, while a
 * mostly-concurrent mark runs (gc/concurrent.h).  Every free list handed
 * to the fast path is then marked in the current bitmap first, and its
 * span's cards are marked dirty, so that objects allocated during the
 * mark are never freed by it, and stores into them are rescanned.
 * Ordering: a list is installed first and the flag read after; a thread
 * stopped in between had its list seen by pargc_tctx_blacken_all. */
extern _Atomic int pargc_alloc_black;
/* World stopped, as a concurrent mark starts: blacken every context's
 * current free lists. */
void pargc_tctx_blacken_all(void);

/* One-time set-up of the allocator (options, topology, page map). */
void pargc_alloc_init(void);
extern _Atomic int pargc_alloc_ready;

/* The calling thread's context, created on first use. */
struct pargc_tctx *pargc_tctx_get(void);
/* Park the calling thread's context for reuse (thread exit). */
void pargc_tctx_release(void);

void *pargc_alloc_slow(size_t size, unsigned kind) PARGC_NOINLINE;
/* GC_generic_malloc_many: objects of `size` (small) handed out together
 * from the thread's free list of their class, refilled once if empty: at
 * most `max`, linked through their first word with plain pointers, the
 * last link NULL, other words as the allocator leaves them (zero for
 * scanned kinds).  One object (pargc_alloc_slow) for large sizes; NULL
 * when out of memory. */
void *pargc_alloc_batch(size_t size, unsigned kind, size_t max);
void *pargc_alloc_large(struct pargc_tctx *ctx, size_t size, unsigned kind);

/* Allocation fast path: pop the thread's free list for (kind, class).
 * Cost: a TLS load, the class computation (~6 instructions), two loads,
 * two stores; one unlikely branch to the noinline slow path.  Only the
 * normal and atomic kinds come here; the others need bookkeeping. */
static inline void *pargc_alloc(size_t size, unsigned kind)
{
  struct pargc_tctx *ctx = pargc_tctx_current;
  pargc_assert(kind < PARGC_MAX_KINDS);
  if (PARGC_LIKELY(ctx != NULL && size <= PARGC_SMALL_MAX)) {
    unsigned c = pargc_sizeclass_of(size);
    void **p = ctx->free[kind][c];
    if (PARGC_LIKELY(p != NULL)) {
      ctx->free[kind][c] = (void **)((uintptr_t)*p ^ pargc_link_key);
      *p = NULL;
      return p;
    }
  }
  return pargc_alloc_slow(size, kind);
}

/* Explicit free (GC_free): O(1).  Returns false (after a diagnostic)
 * when p is not the start of an allocated object.  pargc_free is the
 * inline fast path below; this is everything else (large objects,
 * uncollectable kinds, other threads' pages, bad and double frees, pages
 * that move from the full list to avail, spans of one object). */
bool pargc_free_slow(void *p) PARGC_NOINLINE;

/* Explicit free fast path: an object at the start of a one-page span (or
 * in the first page of a longer one) of a collectable kind, owned by the
 * calling thread, on a page that is current or not on the full list and
 * holds more than one object (a span of one is released: thread.c).
 * Cost: a TLS load, the descriptor (one line, also read by the marker),
 * the object-start and double-free checks (two multiplications), the
 * zeroing (memset, which beats inline stores for one size and matches
 * them for mixed sizes), two stores, and the freed-bytes count (an add
 * to the context line the ownership check has read); no locked
 * instruction.  Anything else goes to pargc_free_slow, which checks
 * everything again. */
static inline bool pargc_free(void *p)
{
  struct pargc_tctx *ctx = pargc_tctx_current;
  uintptr_t off = (uintptr_t)p - pargc_region.base;
  if (PARGC_UNLIKELY(ctx == NULL ||
                     off >= (atomic_load_explicit(&pargc_region.top, memory_order_relaxed)
                             << PARGC_PAGE_SHIFT)))
    return pargc_free_slow(p);
  struct pargc_page *pg = &pargc_region.pages[off >> PARGC_PAGE_SHIFT];
  /* A SMALL page of ours stays SMALL and ours while we run: only the
   * owner releases its spans, or a thread that claimed the context
   * (pargc_tctx_help_lagging), and that one only spans in which the last
   * collection marked nothing -- objects the program cannot free. */
  if (PARGC_UNLIKELY(atomic_load_explicit(&pg->state, memory_order_relaxed) != PARGC_PAGE_SMALL ||
                     pg->owner != ctx->id || pg->list == PARGC_LIST_FULL || pg->nobjs == 1))
    return pargc_free_slow(p);
  unsigned kind = pg->kind;
  uintptr_t base = (uintptr_t)p - (off & (PARGC_PAGE_SIZE - 1));
  uint32_t i = pargc_sizeclass_index(off & (PARGC_PAGE_SIZE - 1), pg->recip);
  /* Not an object start, or already free (an encoded link to NULL or to
   * an object of this span in its first word): the slow path reports. */
  uintptr_t w = (uintptr_t)*(void **)p ^ pargc_link_key;
  if (PARGC_UNLIKELY((uintptr_t)p != base + (uintptr_t)i * pg->size || i >= pg->nobjs ||
                     w == 0 || (w - base) < (uintptr_t)pg->nobjs * pg->size ||
                     pargc_kind_uncollectable[kind]))
    return pargc_free_slow(p);
  void **obj = p;
  if (pargc_kind_scanned[kind])
    memset(obj, 0, pg->size); /* so the allocation fast path only clears the link */
  __atomic_store_n(&ctx->freed_bytes, ctx->freed_bytes + pg->size, __ATOMIC_RELAXED);
  /* Onto the context's list if this is the current page of its class (the
   * descriptor says so: no need to load the class state), else onto the
   * page's own list.  Chosen by a conditional move, not a branch: with
   * random frees the branch goes either way (a third of the frees in the
   * mixed workload are into other pages) and mispredicts.  A mask, as
   * the compiler turns a conditional expression back into a branch. */
  uintptr_t cur = -(uintptr_t)(pg->list == PARGC_LIST_CUR);
  void ***head = (void ***)(((uintptr_t)&ctx->free[kind][pg->sclass] & cur) |
                            ((uintptr_t)&pg->free & ~cur));
  *obj = (void *)((uintptr_t)*head ^ pargc_link_key);
  *head = obj;
  return true;
}

/* Is object slot i of span pg free (on some free list, or never linked:
 * past `built`, page.h) rather than allocated?  Free slots carry an
 * encoded link in their first word; an
 * allocated object whose first word happens to equal a valid encoded link
 * of its own span would be misread as free (the key has bit 63 set, so
 * this needs a deliberately crafted value).  Used with the world stopped
 * to find unmarked allocated objects (leak reports, disclaim). */
bool pargc_slot_is_free(struct pargc_page *pg, uint32_t i);
/* Make the unmarked allocated object at obj look free, so that later
 * collections do not report it again before the lazy sweep reclaims it
 * (the sweep rebuilds free lists from the mark bits and ignores this). */
void pargc_slot_retire(struct pargc_page *pg, void *obj);

enum { PARGC_CTX_IDLE, PARGC_CTX_BUSY, PARGC_CTX_PARKED, PARGC_CTX_CLAIMED };
/* The calling thread enters / leaves a blocking section (gc/stop.c):
 * its context's partly free pages may be adopted meanwhile.  Nothing
 * without a context; both wait while another thread holds a claim. */
void pargc_tctx_park(void);
void pargc_tctx_unpark(void);
/* Move every other context that has not yet noticed the last collection
 * to the new epoch, so that the spans it emptied become free runs (see
 * "lagging threads" above); at most once per epoch for `self`.  True if
 * any context was moved.  Called before growing the heap. */
bool pargc_tctx_help_lagging(struct pargc_tctx *self);

/* A new context not attached to any thread (thread start; tests). */
struct pargc_tctx *pargc_tctx_new(void);

/* Sweep every page of ctx now instead of lazily, releasing empty spans
 * (owner only, or a parked context under the registry of contexts).
 * GC_gcollect does this for its caller so that memory can go back to
 * the OS after a burst; pargc_tctx_sweep_parked does it for the
 * contexts of exited threads. */
void pargc_tctx_sweep_all(struct pargc_tctx *ctx);
void pargc_tctx_sweep_parked(void);
/* After a collection: the empty spans of exited threads' contexts go to
 * the node pools (the rest stays unswept).  Not with the world stopped. */
void pargc_tctx_release_parked(void);

/* Move pages of a finished epoch to the unswept lists, releasing the
 * spans the collection found empty (owner only, or a parked context
 * under the registry of contexts). */
void pargc_tctx_adjust_epoch(struct pargc_tctx *ctx);

/* Take / release every allocator lock (the contexts' registry, each
 * context's pages_lock, the node pools), in the lock order; the caller
 * may hold pargc_collect_lock, not the thread registry lock. */
void pargc_alloc_lock_all(void);
void pargc_alloc_unlock_all(void);
/* fork: take every allocator lock / release / reinitialise in the child
 * (called by the collector's pthread_atfork handlers, in its lock order). */
void pargc_alloc_fork_prepare(void);
void pargc_alloc_fork_parent(void);
void pargc_alloc_fork_child(void);

/* GC_print_free_list: call fn on each object of the calling thread's
 * free list for (kind, the class of `size` bytes), in list order;
 * returns their number (0 without a context or for a large size). */
size_t pargc_tctx_free_list_each(unsigned kind, size_t size, void (*fn)(void *obj, void *arg),
                                 void *arg);
/* Allocation statistics summed over contexts. */
void pargc_tctx_sum_stats(struct pargc_tctx_stats *out);
/* Bytes freed explicitly (GC_free) since the program started: every
 * context's freed_bytes plus the frees of threads without one.
 * Monotonic; taken with the world stopped, exact at that moment. */
uint64_t pargc_tctx_freed_bytes(void);

#endif
