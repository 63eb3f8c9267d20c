/* thread: allocation contexts, the slow path (LPS refill and lazy
 * sweep), large objects and explicit free; see thread.h. */
#include "config.h"
#include "alloc/thread.h"
#include "alloc/hooks.h"
#include "alloc/options.h"
#include "alloc/os.h"
#include "alloc/page.h"
#include "alloc/topology.h"

#include <sched.h>
#include <string.h>

uintptr_t pargc_link_key;
__thread struct pargc_tctx *pargc_tctx_current __attribute__((tls_model("initial-exec")));
_Atomic uint64_t pargc_epoch = 1;
struct pargc_tctx *pargc_tctx_all[PARGC_MAX_CTX];
_Atomic uint32_t pargc_tctx_count;
_Atomic int pargc_alloc_ready;
bool pargc_tctx_notify_full;

static pargc_lock_t tctx_lock = PARGC_LOCK_INIT;
static struct pargc_tctx *tctx_reuse; /* parked contexts, under tctx_lock */
static pthread_key_t tctx_key;

/* The hooks into the collector that this file calls; what each is for,
 * when it runs and who sets it: alloc/hooks.h. */
void (*pargc_alloc_init_hook)(void);
void (*pargc_thread_attach_hook)(void);
void *(*pargc_alloc_oom_hook)(size_t bytes);
bool (*pargc_alloc_retry_hook)(unsigned attempt);
_Atomic int pargc_alloc_pending;
void (*pargc_alloc_pending_hook)(void);

static void tctx_exit(void *arg)
{
  (void)arg;
  pargc_tctx_release();
}

void pargc_alloc_init(void)
{
  static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
  if (atomic_load_explicit(&pargc_alloc_ready, memory_order_acquire))
    return;
  pthread_mutex_lock(&init_lock);
  if (!atomic_load(&pargc_alloc_ready)) {
    pargc_options_init(NULL);
    pargc_sizeclass_init();
    pargc_topology_init(pargc_opt.topology);
    size_t reserve = (size_t)pargc_opt.heap_reserve;
    if (pargc_opt.max_heap && (size_t)pargc_opt.max_heap + (64u << 20) < reserve)
      reserve = (size_t)pargc_opt.max_heap + (64u << 20);
    if (!pargc_pagemap_init(reserve))
      pargc_fatal("cannot reserve the heap");
    pargc_heap_init();
    /* Random key with bit 63 set: encoded links are never addresses.
     * Its low four bits are clear, so that a link keeps the low bits of
     * an object's address (zero: objects are granule-aligned).  Boehm GC's
     * free-list links are plain pointers, and clients read the first word
     * of what a mark procedure is handed for a tag that tells a free
     * object: Guile 2.2's smob procedure took a link whose low bits
     * happened to read as its smob tag for a corrupt smob, and aborted
     * (LilyPond, 2-5% of its runs in concurrent mode). */
    uintptr_t seed = (uintptr_t)pargc_os_now_ns() * 0x9E3779B97F4A7C15ull;
    pargc_link_key =
        ((seed ^ (seed >> 29)) | ((uintptr_t)1 << 63)) & ~(uintptr_t)(PARGC_GRANULE - 1);
    pthread_key_create(&tctx_key, tctx_exit);
    atomic_store_explicit(&pargc_alloc_ready, 1, memory_order_release);
  }
  pthread_mutex_unlock(&init_lock);
}

struct pargc_tctx *pargc_tctx_new(void)
{
  pargc_lock(&tctx_lock);
  struct pargc_tctx *ctx = tctx_reuse;
  if (ctx) {
    tctx_reuse = ctx->reuse_next;
  } else {
    uint32_t id = atomic_load(&pargc_tctx_count);
    if (id >= PARGC_MAX_CTX) {
      pargc_unlock(&tctx_lock);
      pargc_fatal("more than %d threads allocate at once", PARGC_MAX_CTX);
    }
    ctx = pargc_os_alloc_meta(sizeof *ctx);
    if (!ctx)
      pargc_fatal("out of memory for a thread context");
    ctx->id = id;
    /* Ids are dense and index pargc_tctx_all; the owner field of a page
     * descriptor (16 bits) holds one. */
    pargc_assert(id < PARGC_MAX_CTX && id <= UINT16_MAX);
    ctx->epoch = atomic_load(&pargc_epoch);
    pargc_lock_init(&ctx->pages_lock);
    pargc_tctx_all[id] = ctx;
    atomic_store(&pargc_tctx_count, id + 1);
  }
  pargc_assert(!ctx->live); /* a parked context has no thread */
  __atomic_store_n(&ctx->live, true, __ATOMIC_RELAXED); /* peeked at unlocked */
  ctx->reuse_next = NULL;
  atomic_store_explicit(&ctx->lists, PARGC_CTX_IDLE, memory_order_relaxed);
  ctx->lists_depth = 0;
  /* Thieves read node without a lock (take_stolen). */
  __atomic_store_n(&ctx->node, pargc_topology_current_node(), __ATOMIC_RELAXED);
  pargc_unlock(&tctx_lock);
  return ctx;
}

struct pargc_tctx *pargc_tctx_get(void)
{
  struct pargc_tctx *ctx = pargc_tctx_current;
  if (PARGC_LIKELY(ctx != NULL))
    return ctx;
  if (!atomic_load_explicit(&pargc_alloc_ready, memory_order_acquire)) {
    if (pargc_alloc_init_hook)
      pargc_alloc_init_hook();
    pargc_alloc_init();
  }
  ctx = pargc_tctx_new();
  pargc_tctx_current = ctx;
  pthread_setspecific(tctx_key, ctx);
  if (pargc_thread_attach_hook)
    pargc_thread_attach_hook();
  return ctx;
}

void pargc_tctx_release(void)
{
  struct pargc_tctx *ctx = pargc_tctx_current;
  if (!ctx)
    return;
  pargc_tctx_current = NULL;
  pargc_assert(ctx->live);
  /* Flush the byte count; hand free runs to the node pool so other
   * threads get them without stealing.  Pages with objects stay with
   * the context, which the next new thread adopts whole. */
  atomic_fetch_add(&pargc_heap.bytes_since_gc, ctx->bytes_pending);
  atomic_fetch_add(&pargc_heap.bytes_total, ctx->bytes_pending);
  ctx->bytes_pending = 0;
  pargc_heap_release_runs(ctx);
  pargc_lock(&tctx_lock);
  __atomic_store_n(&ctx->live, false, __ATOMIC_RELAXED);
  ctx->reuse_next = tctx_reuse;
  tctx_reuse = ctx;
  pargc_unlock(&tctx_lock);
}

/* ---- Epochs and lazy sweep ------------------------------------------- */

/* Give the spans of `list` (a class's unswept pages) that the last
 * collection found empty back as free runs at once, instead of when the
 * lazy sweep reaches their class.  Boehm GC frees empty blocks at the
 * collection too: a program whose size classes shift (CKY's charts,
 * BH's trees) otherwise takes fresh pages for the new classes while
 * empty pages of the old ones wait, unswept, for allocations of their own
 * class, and its heap grows well past its live peak.  The check
 * reads one bitmap word per 64 objects; a parked context's free runs go
 * to its node's pool. */
static void release_empty(struct pargc_tctx *ctx, struct pargc_page_list *list)
{
  struct pargc_page *pg = list->head;
  while (pg) {
    struct pargc_page *next = pg->next;
    /* An unswept page: a span of ctx's, which nothing else releases. */
    pargc_assert(pg->list == PARGC_LIST_UNSWEPT && pg->owner == ctx->id);
    if (pargc_page_is_empty(pg)) {
      pargc_list_remove(list, pg);
      pg->free = NULL;
      ctx->stats.pages_swept++;
      atomic_fetch_add_explicit(&pargc_heap.reclaimed_total, (size_t)pg->nobjs * pg->size,
                                memory_order_relaxed);
      pargc_heap_release_run(ctx->live ? ctx : NULL, pg);
    }
    pg = next;
  }
}

static bool release_if_empty(struct pargc_tctx *ctx, struct pargc_page *pg, void **freeing);

void pargc_tctx_adjust_epoch(struct pargc_tctx *ctx)
{
  uint64_t epoch = atomic_load_explicit(&pargc_epoch, memory_order_acquire);
  /* Epochs only grow, and a context's is one it read from pargc_epoch:
   * never ahead of the global one. */
  pargc_assert(ctx->epoch <= epoch);
  if (ctx->epoch == epoch)
    return;
  /* Read unclaimed by pargc_tctx_help_lagging. */
  __atomic_store_n(&ctx->epoch, epoch, __ATOMIC_RELAXED);
  /* Every page but the current ones was last allocated from before the
   * collection that just ended: its marks are valid, so it may be swept. */
  unsigned nkinds = pargc_kind_count(); /* kinds in use, not PARGC_MAX_KINDS */
  bool owner = ctx == pargc_tctx_current;
  for (unsigned k = 0; k < nkinds; k++) {
    for (unsigned c = 0; c < PARGC_NCLASSES; c++) {
      struct pargc_class_state *cs = &ctx->cls[k][c];
      /* A class the program stopped using kept its current span, and
       * the span its memory, until the class was used again: one span of
       * up to 1 MiB for each class a program moved through (a buffer
       * copied into a slightly larger one at each step).  Given back
       * here, at most once a collection, so that a class in steady use
       * does not give its span back and take it again at every free;
       * spans of up to 16 objects (classes from 4 KiB), whose free lists
       * are short to walk.  Owner only: that list is its fast path's. */
      if (owner && cs->cur && cs->cur->nobjs <= 16)
        release_if_empty(ctx, cs->cur, NULL);
      /* Spans still unswept from an earlier epoch count too: a thread
       * helped along before the program dropped its data, and asleep
       * since, holds the dropped spans there. */
      if (!cs->avail.head && !cs->full.head && !cs->unswept.head)
        continue;
      pargc_list_splice(&cs->unswept, &cs->avail, PARGC_LIST_UNSWEPT);
      pargc_list_splice(&cs->unswept, &cs->full, PARGC_LIST_UNSWEPT);
      release_empty(ctx, &cs->unswept);
      if (PARGC_ASSERT_FULL)
        pargc_list_validate(&cs->unswept);
    }
  }
}

static void count_alloc(struct pargc_tctx *ctx, size_t bytes)
{
  ctx->bytes_pending += bytes;
  if (ctx->bytes_pending >= 256 * 1024) {
    size_t since = atomic_fetch_add_explicit(&pargc_heap.bytes_since_gc, ctx->bytes_pending,
                                             memory_order_relaxed) + ctx->bytes_pending;
    atomic_fetch_add_explicit(&pargc_heap.bytes_total, ctx->bytes_pending, memory_order_relaxed);
    ctx->bytes_pending = 0;
    void (*kick)(void) = pargc_heap_kick_hook;
    if (kick && since >= pargc_heap_trigger_threshold())
      kick();
  }
}

static void **decode(void *w)
{
  return (void **)((uintptr_t)w ^ pargc_link_key);
}

/* ---- Allocate black (mostly-concurrent marking) ------------------------ */

_Atomic int pargc_alloc_black;

/* Mark the free objects of span pg that are about to be handed out: the
 * entries of `list`, or, when list is NULL (a fresh span, every object on
 * the list), all of them a word of bits at a time without walking it.
 * Uncollectable kinds are never freed by a collection, and their bits
 * mean "allocated": not marked.  Spans of scanned kinds are dirtied, so
 * that stores into the new objects are rescanned. */
static void blacken_marks(struct pargc_page *pg, void **list)
{
  uintptr_t base = pargc_page_addr(pg);
  if (!pargc_kind_uncollectable[pg->kind]) {
    _Atomic uint64_t *marks = (_Atomic uint64_t *)pargc_page_marks(pg);
    if (list) {
      for (void **p = list; p; p = decode(*p))
        pargc_mark_set((uint64_t *)marks, pargc_sizeclass_index((uintptr_t)p - base, pg->recip));
    } else {
      uint32_t n = pg->nobjs;
      for (uint32_t w = 0; w < n / 64; w++)
        atomic_fetch_or_explicit(&marks[w], ~(uint64_t)0, memory_order_relaxed);
      if (n % 64)
        atomic_fetch_or_explicit(&marks[n / 64], ((uint64_t)1 << (n % 64)) - 1,
                                 memory_order_relaxed);
    }
  }
  if (pargc_kind_scanned[pg->kind])
    pargc_dirty_set_range(base, base + (uintptr_t)pg->pages * PARGC_PAGE_SIZE);
}

/* blacken_marks in a mark section (alloc/pagemap.h), and only while the
 * mark is still on: a stop between the caller's look at the flag and the
 * section may have ended it. */
static PARGC_NOINLINE void blacken(struct pargc_page *pg, void **list)
{
  pargc_mark_section_enter();
  if (atomic_load_explicit(&pargc_alloc_black, memory_order_acquire))
    blacken_marks(pg, list);
  pargc_mark_section_leave();
}

/* Hand `list` (objects of pg; `whole`: all of them) to the fast path of
 * (k, c); then, if a concurrent mark runs, blacken it (the order
 * matters: see thread.h). */
static inline void install_list(struct pargc_tctx *ctx, unsigned k, unsigned c,
                                struct pargc_page *pg, void **list, bool whole)
{
  /* A non-empty list of objects of pg, a span of (k, c) that is ctx's. */
  pargc_assert(list != NULL && pg->kind == k && pg->sclass == c && pg->owner == ctx->id);
  ctx->free[k][c] = list;
  if (PARGC_UNLIKELY(atomic_load_explicit(&pargc_alloc_black, memory_order_acquire)))
    blacken(pg, whole ? NULL : list);
}

void pargc_tctx_blacken_all(void)
{
  /* No context's fast path may run meanwhile (pargc_alloc_black). */
  pargc_assert(pargc_world_stopped_by_me);
  pargc_assert(atomic_load_explicit(&pargc_alloc_black, memory_order_relaxed));
  uint32_t n = atomic_load(&pargc_tctx_count);
  unsigned nkinds = pargc_kind_count();
  for (uint32_t i = 0; i < n; i++) {
    struct pargc_tctx *ctx = pargc_tctx_all[i];
    if (!ctx)
      continue;
    for (unsigned k = 0; k < nkinds; k++) {
      for (unsigned c = 0; c < PARGC_NCLASSES; c++) {
        /* A context's list holds the objects of one span only. */
        void **list = ctx->free[k][c];
        struct pargc_page *pg;
        if (list && pargc_pagemap_object((uintptr_t)list, &pg) >= 0)
          blacken(pg, list);
      }
    }
  }
}

/* Make `pg` the current page of (k, c), its free objects `list`. */
static void make_current(struct pargc_tctx *ctx, struct pargc_class_state *cs,
                         unsigned k, unsigned c, struct pargc_page *pg,
                         void **list, size_t n)
{
  /* The class has no current page, and pg was taken off every list:
   * a SMALL span of ctx's. */
  pargc_assert(cs->cur == NULL && pg->list == PARGC_LIST_NONE);
  pargc_assert(atomic_load_explicit(&pg->state, memory_order_relaxed) == PARGC_PAGE_SMALL);
  pargc_assert(n <= pg->nobjs);
  cs->cur = pg;
  pg->list = PARGC_LIST_CUR;
  install_list(ctx, k, c, pg, list, n == pg->nobjs);
  count_alloc(ctx, n * pg->size);
}

/* Concatenate two encoded lists (a first).  Walks a, so only when b is
 * not empty: remote frees are rare, and walking a page's whole free list
 * at every refill misses the cache on every entry. */
static void **list_concat(void **a, void **b)
{
  if (!a)
    return b;
  if (!b)
    return a;
  void **t = a;
  for (void **n; (n = decode(*t)); t = n)
    ;
  *t = (void *)((uintptr_t)b ^ pargc_link_key);
  return a;
}

/* The owner takes pg off its full list: remote frees go onto its remote
 * list again (see pargc_tctx_notify_full). */
static void remote_disarm(struct pargc_page *pg)
{
  void *old = atomic_load_explicit(&pg->remote, memory_order_relaxed);
  while (((uintptr_t)old & PARGC_REMOTE_NOTIFY) &&
         !atomic_compare_exchange_weak_explicit(
             &pg->remote, &old, (void *)((uintptr_t)old & ~PARGC_REMOTE_NOTIFY),
             memory_order_relaxed, memory_order_relaxed))
    ;
}

/* Put pg, in hand and found without free objects, on its class's full
 * list; with pargc_tctx_notify_full, armed so that the next remote free
 * tells the owner.  False, pg still in hand, when objects came onto its
 * remote list meanwhile: the caller takes them. */
static bool to_full(struct pargc_class_state *cs, struct pargc_page *pg)
{
  if (pargc_tctx_notify_full) {
    void *expect = NULL;
    if (!atomic_compare_exchange_strong_explicit(&pg->remote, &expect,
                                                 (void *)PARGC_REMOTE_NOTIFY,
                                                 memory_order_acq_rel, memory_order_acquire))
      return false;
  }
  pargc_list_push_tail(&cs->full, pg, PARGC_LIST_FULL);
  return true;
}

/* Sweep one page of ctx's unswept lists; an empty span goes back to the
 * thread's free runs (returns false), otherwise *r holds its free list. */
static bool sweep_one(struct pargc_tctx *ctx, struct pargc_page *pg, struct pargc_sweep_result *r)
{
  /* Taken off the unswept list by ctx, its owner. */
  pargc_assert(pg->list == PARGC_LIST_NONE && pg->owner == ctx->id);
  pargc_page_sweep(pg, r);
  pargc_assert(r->nfree <= pg->nobjs && r->nlive <= pg->nobjs);
  ctx->stats.pages_swept++;
  atomic_fetch_add_explicit(&pargc_heap.reclaimed_total,
                            (r->nlive ? r->nfree : pg->nobjs) * (size_t)pg->size,
                            memory_order_relaxed);
  if (r->nlive == 0) {
    pargc_heap_release_run(ctx, pg);
    return false;
  }
  return true;
}

/* ---- Pages of blocked and exited threads ------------------------------- */

/* The owner's hold on its lists for a slow path; nested holds count. */
static void lists_enter(struct pargc_tctx *ctx)
{
  if (ctx->lists_depth++)
    return;
  int want = PARGC_CTX_IDLE;
  while (!atomic_compare_exchange_weak_explicit(&ctx->lists, &want, PARGC_CTX_BUSY,
                                                memory_order_acquire, memory_order_relaxed)) {
    pargc_assert(want == PARGC_CTX_CLAIMED || want == PARGC_CTX_IDLE);
    want = PARGC_CTX_IDLE;
    sched_yield(); /* a claim is short */
  }
}

static void lists_leave(struct pargc_tctx *ctx)
{
  pargc_assert(ctx->lists_depth > 0);
  if (--ctx->lists_depth == 0)
    atomic_store_explicit(&ctx->lists, PARGC_CTX_IDLE, memory_order_release);
}

/* The owner moves its context from `from` to `to`, waiting out claims. */
static void lists_move(struct pargc_tctx *ctx, int from, int to)
{
  int want = from;
  while (!atomic_compare_exchange_weak_explicit(&ctx->lists, &want, to, memory_order_acq_rel,
                                                memory_order_relaxed)) {
    pargc_assert(want == PARGC_CTX_CLAIMED || want == from);
    want = from;
    sched_yield();
  }
}

void pargc_tctx_park(void)
{
  struct pargc_tctx *ctx = pargc_tctx_current;
  if (ctx)
    lists_move(ctx, ctx->lists_depth ? PARGC_CTX_BUSY : PARGC_CTX_IDLE, PARGC_CTX_PARKED);
}

void pargc_tctx_unpark(void)
{
  struct pargc_tctx *ctx = pargc_tctx_current;
  if (ctx)
    lists_move(ctx, PARGC_CTX_PARKED, ctx->lists_depth ? PARGC_CTX_BUSY : PARGC_CTX_IDLE);
}

/* Claim v's lists if its state is one of `ok` (a bit per state); the
 * state found, to put back with unclaim, or -1.  Under tctx_lock. */
static int claim(struct pargc_tctx *v, unsigned ok)
{
  pargc_assert_held(&tctx_lock);
  int s = atomic_load_explicit(&v->lists, memory_order_relaxed);
  if (!(ok & (1u << s)))
    return -1;
  if (!atomic_compare_exchange_strong_explicit(&v->lists, &s, PARGC_CTX_CLAIMED,
                                               memory_order_acquire, memory_order_relaxed))
    return -1;
  return s;
}

static void unclaim(struct pargc_tctx *v, int s)
{
  atomic_store_explicit(&v->lists, s, memory_order_release);
}

/* sweep_one for the owner inside refill: a sweep of a page in hand (on
 * no list) zeroes its dead objects, the longest part of a refill, so the
 * owner lets go of its lists meanwhile and another thread may move them
 * to a new epoch. */
static bool sweep_in_hand(struct pargc_tctx *ctx, struct pargc_page *pg,
                          struct pargc_sweep_result *r)
{
  lists_leave(ctx);
  bool kept = sweep_one(ctx, pg, r);
  lists_enter(ctx);
  return kept;
}

/* Move the pages of `from` (a class list of a parked context) onto
 * ctx's list `to`, making ctx their owner.  Returns how many. */
static size_t adopt_list(struct pargc_tctx *ctx, struct pargc_page_list *from,
                         struct pargc_page_list *to, uint8_t id)
{
  size_t n = 0;
  struct pargc_page *pg;
  while ((pg = pargc_list_pop(from))) {
    pg->owner = (uint16_t)ctx->id;
    pargc_list_push_tail(to, pg, id);
    n += pg->pages;
  }
  return n;
}

/* Take the partly free pages of class (k, c) that parked contexts hold:
 * those of threads in a blocking section (claimed for the while) and of
 * exited threads (which only the registry lock guards).  Their current
 * pages stay: those free objects sit in the parked thread's free list.
 * True if any page was taken. */
static void take_delayed(struct pargc_tctx *ctx);

static bool adopt(struct pargc_tctx *ctx, unsigned k, unsigned c)
{
  uint32_t n = atomic_load(&pargc_tctx_count);
  size_t taken = 0;
  for (uint32_t i = 0; i < n; i++) {
    struct pargc_tctx *v = pargc_tctx_all[i];
    if (!v || v == ctx)
      continue;
    /* Unlocked look first: most contexts are running. */
    if (__atomic_load_n(&v->live, __ATOMIC_RELAXED) &&
        atomic_load_explicit(&v->lists, memory_order_relaxed) != PARGC_CTX_PARKED)
      continue;
    pargc_lock(&tctx_lock); /* also keeps fork out of a claim */
    int was = v->live ? claim(v, 1u << PARGC_CTX_PARKED) : -1;
    bool claimed = was >= 0;
    if (claimed || !v->live) {
      pargc_tctx_adjust_epoch(v);
      take_delayed(v);
      struct pargc_class_state *vs = &v->cls[k][c], *cs = &ctx->cls[k][c];
      taken += adopt_list(ctx, &vs->avail, &cs->avail, PARGC_LIST_AVAIL);
      taken += adopt_list(ctx, &vs->unswept, &cs->unswept, PARGC_LIST_UNSWEPT);
    }
    if (claimed)
      unclaim(v, was);
    pargc_unlock(&tctx_lock);
  }
  ctx->stats.adopted_pages += taken;
  return taken > 0;
}

bool pargc_tctx_help_lagging(struct pargc_tctx *self)
{
  uint64_t epoch = atomic_load_explicit(&pargc_epoch, memory_order_acquire);
  uint32_t n = atomic_load(&pargc_tctx_count);
  bool moved = false;
  for (uint32_t i = 0; i < n; i++) {
    struct pargc_tctx *v = pargc_tctx_all[i];
    /* Unlocked look first: most contexts keep up. */
    if (!v || v == self || __atomic_load_n(&v->epoch, __ATOMIC_RELAXED) == epoch)
      continue;
    /* A live context is claimed; an exited one is guarded by tctx_lock
     * alone, as in pargc_tctx_release_parked. */
    pargc_lock(&tctx_lock);
    int was = v->live ? claim(v, 1u << PARGC_CTX_IDLE | 1u << PARGC_CTX_PARKED) : -1;
    if (was >= 0 || !v->live) {
      moved |= v->epoch != atomic_load(&pargc_epoch);
      pargc_tctx_adjust_epoch(v);
    }
    if (was >= 0)
      unclaim(v, was);
    pargc_unlock(&tctx_lock);
  }
  return moved;
}

/* The owner frees obj, of its span pg: onto its free list if pg is the
 * class's current page, else onto the page's list, moving the page from
 * full to avail. */
/* Free obj, of span pg of ctx's, into its page's list: ctx's fast-path
 * list when pg is the current page of its class, else pg's own list (a
 * full page moving to avail).  ctx's lists are held by the caller: its
 * owner, or a thread that claimed them. */
static void free_held(struct pargc_tctx *ctx, struct pargc_page *pg, void **obj)
{
  unsigned kind = pg->kind;
  if (pg->list == PARGC_LIST_CUR) {
    *obj = (void *)((uintptr_t)ctx->free[kind][pg->sclass] ^ pargc_link_key);
    ctx->free[kind][pg->sclass] = obj;
    return;
  }
  *obj = (void *)((uintptr_t)pg->free ^ pargc_link_key);
  pg->free = obj;
  if (pg->list == PARGC_LIST_FULL) {
    struct pargc_class_state *cs = &ctx->cls[kind][pg->sclass];
    pargc_list_remove(&cs->full, pg);
    remote_disarm(pg);
    pargc_list_push_tail(&cs->avail, pg, PARGC_LIST_AVAIL);
  }
}

/* Give span pg of ctx's back as a free run if every object of it is free
 * once `freeing` (an object of it being freed explicitly, or NULL) is:
 * the others all on the list of its free objects (ctx's list for the
 * class when pg is the current span; none when it is on the full list),
 * none on its remote list, none never linked.  The owner's lists held.
 * Called for a class's current span at a new epoch (adjust_epoch), and
 * for a span of one object (classes from 224 KiB up, some from 56 KiB)
 * when that object is freed: it goes back at once, as a large run does,
 * instead of serving only its class until the next collection.  A
 * program whose buffers creep up in size, each copied into a slightly
 * larger one and freed (Asymptote extending a path), moves from class to
 * class and left a freed span in each: 3 times Boehm GC's heap, which
 * returns any freed object over 2 KiB to its block lists.  A span on
 * another list waits for its sweep.  False when pg stays. */
static bool release_if_empty(struct pargc_tctx *ctx, struct pargc_page *pg, void **freeing)
{
  unsigned k = pg->kind, c = pg->sclass;
  if (pg->built || pargc_kind_uncollectable[k] ||
      (pg->list != PARGC_LIST_CUR && pg->list != PARGC_LIST_FULL))
    return false;
  size_t n = freeing != NULL;
  for (void **p = pg->list == PARGC_LIST_CUR ? ctx->free[k][c] : NULL; p && n <= pg->nobjs;
       p = decode(*p))
    n++;
  if (n != pg->nobjs)
    return false;
  if (pg->list == PARGC_LIST_FULL)
    remote_disarm(pg);
  if (atomic_load_explicit(&pg->remote, memory_order_acquire))
    return false;
  struct pargc_class_state *cs = &ctx->cls[k][c];
  if (pg->list == PARGC_LIST_CUR) {
    ctx->free[k][c] = NULL;
    cs->cur = NULL;
  } else {
    pargc_list_remove(&cs->full, pg);
  }
  pg->list = PARGC_LIST_NONE;
  pg->free = NULL;
  pargc_heap_release_run(ctx, pg);
  /* `freeing` stays reachable until the run is FREE (see the large case
   * in pargc_free_slow). */
  __asm__ volatile("" : : "r"(freeing) : "memory");
  return true;
}

static void free_own(struct pargc_tctx *ctx, struct pargc_page *pg, void **obj)
{
  /* The descriptor (already in cache) says whether this is the current
   * page of its class: then no list is touched but the thread's own.  (A
   * claim never moves a current page.) */
  bool cur = pg->list == PARGC_LIST_CUR;
  if (!cur)
    lists_enter(ctx);
  free_held(ctx, pg, obj);
  if (!cur)
    lists_leave(ctx);
}

/* Free locally the objects other threads freed into ctx's full pages
 * (pargc_tctx_notify_full): their pages go from full to avail.  ctx's
 * lists held: by its owner, or by a thread about to adopt its pages,
 * which must take these first -- an adopted page changes owner, and an
 * object of it left here would later be freed into another context's
 * page as if it were this one's. */
static void take_delayed(struct pargc_tctx *ctx)
{
  if (!atomic_load_explicit(&ctx->delayed, memory_order_relaxed))
    return;
  void **l = atomic_exchange_explicit(&ctx->delayed, NULL, memory_order_acquire);
  while (l) {
    void **next = decode(*l);
    struct pargc_page *pg = NULL;
    int32_t i = pargc_pagemap_object((uintptr_t)l, &pg);
    /* An allocated object (until now) of a span of ctx's: not released. */
    pargc_assert(i >= 0 && pg->owner == ctx->id);
    (void)i;
    free_held(ctx, pg, l);
    l = next;
  }
}

/* Find free objects for (k, c); false when the heap is exhausted.  The
 * owner holds its lists (lists_enter). */
static bool refill_lists(struct pargc_tctx *ctx, unsigned k, unsigned c)
{
  pargc_assert(k < pargc_kind_count() && c < PARGC_NCLASSES);
  pargc_assert(ctx->free[k][c] == NULL); /* only an empty list is refilled */
  bool collected = false;
  for (;;) {
    pargc_tctx_adjust_epoch(ctx);
    take_delayed(ctx);
    struct pargc_class_state *cs = &ctx->cls[k][c];
    struct pargc_page *pg = cs->cur;
    if (pg) {
      pargc_assert(pg->list == PARGC_LIST_CUR);
      /* Objects other threads freed into the current page. */
      void **l = pargc_page_take_remote(pg);
      if (l) {
        install_list(ctx, k, c, pg, l, false);
        return true;
      }
      /* A fresh span built in part: link its next objects.  A current
       * page leaves its class only once built whole. */
      if (pg->built) {
        size_t n;
        l = pargc_page_extend(pg, &n);
        install_list(ctx, k, c, pg, l, false);
        count_alloc(ctx, n * pg->size);
        return true;
      }
      if (!to_full(cs, pg))
        continue; /* freed into meanwhile: take those */
      cs->cur = NULL;
    }
    /* Pages swept in this epoch that have free objects. */
    while ((pg = pargc_list_pop(&cs->avail))) {
      void **l = list_concat(pg->free, pargc_page_take_remote(pg));
      pg->free = NULL;
      if (l) {
        /* Objects freed explicitly are not counted as allocated again when
         * reused: Boehm GC nets explicit frees out of its allocation count
         * too, and counting them made malloc-style programs (which free
         * everything) collect constantly. */
        make_current(ctx, cs, k, c, pg, l, 0);
        return true;
      }
      if (!to_full(cs, pg)) {
        make_current(ctx, cs, k, c, pg, pargc_page_take_remote(pg), 0);
        return true;
      }
    }
    /* Lazy sweep: pages left by the last collection. */
    while ((pg = pargc_list_pop(&cs->unswept))) {
      struct pargc_sweep_result r;
      if (!sweep_in_hand(ctx, pg, &r))
        continue;
      if (r.free) {
        make_current(ctx, cs, k, c, pg, r.free, r.nfree);
        return true;
      }
      if (!to_full(cs, pg)) {
        make_current(ctx, cs, k, c, pg, pargc_page_take_remote(pg), 0);
        return true;
      }
    }
    /* Full pages that other threads freed into since (a few, rotating). */
    for (int i = 0; i < 4 && cs->full.head; i++) {
      pg = pargc_list_pop(&cs->full);
      void **l = pargc_page_take_remote(pg);
      if (l || pg->free || !to_full(cs, pg)) {
        l = list_concat(pg->free, l ? l : pargc_page_take_remote(pg));
        pg->free = NULL;
        make_current(ctx, cs, k, c, pg, l, 0);
        return true;
      }
    }
    /* Partly free pages of this class that blocked or exited threads
     * hold, once an epoch: before collecting or taking a new span. */
    if (cs->adopt_epoch != ctx->epoch) {
      cs->adopt_epoch = ctx->epoch;
      if (adopt(ctx, k, c))
        continue;
    }
    /* Boehm's policy: collect once heap/divisor bytes were allocated. */
    if (!collected && pargc_heap_collect_hook &&
        atomic_load_explicit(&pargc_heap.bytes_since_gc, memory_order_relaxed) +
                ctx->bytes_pending >= pargc_heap_trigger_threshold()) {
      collected = true;
      /* The collection these lists come from (read while they are held). */
      uint64_t seen = ctx->epoch;
      lists_leave(ctx);
      bool done = pargc_heap_collect_hook(seen);
      lists_enter(ctx);
      if (done)
        continue;
    }
    /* A new span, following LPS.  Taking it may collect or help lagging
     * threads, and formatting it is long: the lists are let go meanwhile
     * (the span is in hand, on no list). */
    enum pargc_run_source src;
    lists_leave(ctx);
    struct pargc_page *run = pargc_heap_take_run(ctx, pargc_sizeclasses[c].pages, !collected, &src);
    size_t n = 0;
    void **l = run ? pargc_page_format_small(run, k, c, ctx->id, ctx->node, &n) : NULL;
    lists_enter(ctx);
    if (!run) {
      if (!collected) {
        collected = true; /* the collector ran inside take_run: retry */
        continue;
      }
      return false;
    }
    switch (src) {
    case PARGC_RUN_OWN: ctx->stats.own_pages += run->pages; break;
    case PARGC_RUN_FRESH: ctx->stats.fresh_pages += run->pages; break;
    case PARGC_RUN_GROWN: ctx->stats.grown_pages += run->pages; break;
    case PARGC_RUN_STOLEN_LOCAL: ctx->stats.stolen_local_pages += run->pages; break;
    case PARGC_RUN_STOLEN_REMOTE: ctx->stats.stolen_remote_pages += run->pages; break;
    }
    make_current(ctx, cs, k, c, run, l, n);
    return true;
  }
}

static bool refill(struct pargc_tctx *ctx, unsigned k, unsigned c)
{
  lists_enter(ctx);
  bool ok = refill_lists(ctx, k, c);
  lists_leave(ctx);
  return ok;
}

/* Out-of-memory path: the collector's retries, then its out-of-memory
 * hook (Boehm's oom function). */
/* Set while an allocation is retried after a failure: a failure inside
 * the retry only returns NULL to it. */
static __thread bool alloc_retrying;

static void *alloc_failed(size_t size, unsigned kind)
{
  if (alloc_retrying)
    return NULL;
  bool (*retry)(unsigned) = pargc_alloc_retry_hook;
  if (retry) {
    alloc_retrying = true;
    for (unsigned i = 0; retry(i); i++) {
      void *p = pargc_alloc_slow(size, kind);
      if (p) {
        alloc_retrying = false;
        return p;
      }
    }
    alloc_retrying = false;
  }
  if (pargc_alloc_oom_hook)
    return pargc_alloc_oom_hook(size);
  return NULL;
}

void *pargc_alloc_large(struct pargc_tctx *ctx, size_t size, unsigned kind)
{
  if (size > pargc_region.reserve)
    return alloc_failed(size, kind);
  size_t n = (size + PARGC_PAGE_SIZE - 1) >> PARGC_PAGE_SHIFT;
  /* Boehm's policy applies to large objects too. */
  uint64_t seen = atomic_load(&pargc_epoch);
  if (pargc_heap_collect_hook &&
      atomic_load(&pargc_heap.bytes_since_gc) + ctx->bytes_pending >= pargc_heap_trigger_threshold())
    pargc_heap_collect_hook(seen);
  enum pargc_run_source src;
  struct pargc_page *run = pargc_heap_take_run(ctx, n, true, &src);
  if (!run)
    run = pargc_heap_take_run(ctx, n, false, &src);
  if (!run)
    return alloc_failed(size, kind);
  ctx->stats.large_allocs++;
  pargc_assert(run->pages == n);
  void *p = (void *)pargc_page_addr(run);
  pargc_assert(atomic_load_explicit(&run->state, memory_order_relaxed) <= PARGC_PAGE_FREE);
  if (!run->zeroed && pargc_kind_scanned[kind])
    memset(p, 0, n * PARGC_PAGE_SIZE);
  else if (run->zeroed && pargc_kind_marked_through(kind) && atomic_load(&pargc_tctx_count) > 1)
    /* Where the process has more than one allocating thread, a write
     * after the marker's read interrupts the other cores (alloc/os.h);
     * a one-thread program keeps the pages it never writes uncommitted
     * (a large table it fills sparsely: 16 MB of a compiler's 52). */
    pargc_os_prefault((uintptr_t)p, (uintptr_t)p + n * PARGC_PAGE_SIZE);
  run->zeroed = 0;
  run->built = 0;
  run->kind = (uint8_t)kind;
  run->owner = (uint16_t)ctx->id;
  run->node = (uint8_t)ctx->node;
  run->size = (uint32_t)(n * PARGC_PAGE_SIZE > UINT32_MAX ? 0 : n * PARGC_PAGE_SIZE);
  run->nobjs = 1;
  /* Both bitmaps clear first (the one not current may have been cleared
   * ahead for the next collection, gc/collect.h). */
  size_t idx = pargc_page_index(run);
  pargc_region.mark_arrays[0][idx][0] = 0;
  pargc_region.mark_arrays[1][idx][0] = 0;
  atomic_store_explicit(&run->state, PARGC_PAGE_LARGE, memory_order_release);
  /* The mark bit after the state, read from the bitmap current now: a
   * collection that starts in between sees the run (as for free lists,
   * see thread.h).  Uncollectable: the bit means allocated.  During a
   * concurrent mark: allocated black, and dirty so that stores into it
   * are rescanned.  In a mark section (pagemap.h). */
  pargc_mark_section_enter();
  _Atomic uint64_t *mark = (_Atomic uint64_t *)&pargc_page_marks(run)[0];
  bool black = atomic_load_explicit(&pargc_alloc_black, memory_order_acquire);
  atomic_store_explicit(mark, pargc_kind_uncollectable[kind] || black ? 1 : 0,
                        memory_order_relaxed);
  pargc_mark_section_leave();
  if (black && pargc_kind_scanned[kind])
    pargc_dirty_set_range((uintptr_t)p, (uintptr_t)p + n * PARGC_PAGE_SIZE);
  count_alloc(ctx, n * PARGC_PAGE_SIZE);
  return p;
}

/* Uncollectable objects' mark bits mean "allocated": the collector scans
 * them as roots. */
static void mark_uncollectable(void *p)
{
  struct pargc_page *pg = NULL;
  int32_t i = pargc_pagemap_object((uintptr_t)p, &pg);
  pargc_assert(i >= 0); /* an object this thread just allocated */
  pargc_mark_section_enter();
  pargc_mark_set(pargc_page_marks(pg), (uint32_t)i);
  pargc_mark_section_leave();
}

/* The slow paths' common start: the collector's pending work, then the
 * calling thread's context. */
static struct pargc_tctx *slow_enter(void)
{
  if (PARGC_UNLIKELY(atomic_load_explicit(&pargc_alloc_pending, memory_order_relaxed)) &&
      pargc_alloc_pending_hook)
    pargc_alloc_pending_hook();
  return pargc_tctx_get();
}

void *pargc_alloc_slow(size_t size, unsigned kind)
{
  pargc_assert(kind < PARGC_MAX_KINDS);
  struct pargc_tctx *ctx = slow_enter();
  if (size > PARGC_SMALL_MAX) {
    if (size > ((size_t)1 << 32) - PARGC_PAGE_SIZE)
      return alloc_failed(size, kind); /* larger than a run can describe */
    return pargc_alloc_large(ctx, size, kind);
  }
  unsigned c = pargc_sizeclass_of(size);
  void **p = ctx->free[kind][c];
  if (!p) {
    if (!refill(ctx, kind, c))
      return alloc_failed(size, kind);
    p = ctx->free[kind][c];
  }
  ctx->free[kind][c] = decode(*p);
  *p = NULL;
  if (pargc_kind_uncollectable[kind])
    mark_uncollectable(p);
  return p;
}

void *pargc_alloc_batch(size_t size, unsigned kind, size_t max)
{
  if (size > PARGC_SMALL_MAX || max <= 1)
    return pargc_alloc_slow(size, kind);
  struct pargc_tctx *ctx = slow_enter();
  unsigned c = pargc_sizeclass_of(size);
  if (!ctx->free[kind][c] && !refill(ctx, kind, c))
    return alloc_failed(size, kind); /* a batch of one, if a retry finds it */
  /* Pop by pop, as the fast path does: a stop that comes between two
   * steps finds the thread's list whole (pargc_tctx_blacken_all walks
   * it) and the objects already taken linked from `head` by plain
   * pointers, or in a register.  The barrier keeps the compiler from
   * deferring the list's stores to the end of the loop. */
  bool uncollectable = pargc_kind_uncollectable[kind];
  void **head = NULL, **tail = NULL;
  for (size_t n = 0; n < max; n++) {
    void **p = ctx->free[kind][c];
    if (!p)
      break;
    ctx->free[kind][c] = decode(*p);
    *p = NULL;
    if (tail)
      *tail = p;
    else
      head = p;
    tail = p;
    if (uncollectable)
      mark_uncollectable(p);
    __asm__ volatile("" : : : "memory");
  }
  return head;
}

void pargc_tctx_sweep_all(struct pargc_tctx *ctx)
{
  /* The caller's own context, or a parked one under tctx_lock. */
  bool own = ctx == pargc_tctx_current;
  if (own)
    lists_enter(ctx);
  pargc_tctx_adjust_epoch(ctx);
  unsigned nkinds = pargc_kind_count();
  for (unsigned k = 0; k < nkinds; k++) {
    for (unsigned c = 0; c < PARGC_NCLASSES; c++) {
      struct pargc_class_state *cs = &ctx->cls[k][c];
      struct pargc_page *pg;
      while ((pg = pargc_list_pop(&cs->unswept))) {
        struct pargc_sweep_result r;
        if (!sweep_one(ctx, pg, &r))
          continue;
        pargc_assert(pg->free == NULL); /* the sweep took the old list */
        pg->free = r.free;
        if (!r.free && to_full(cs, pg))
          continue;
        if (!pg->free)
          pg->free = pargc_page_take_remote(pg);
        pargc_list_push_tail(&cs->avail, pg, PARGC_LIST_AVAIL);
      }
    }
  }
  if (own)
    lists_leave(ctx);
}

void pargc_tctx_release_parked(void)
{
  pargc_lock(&tctx_lock);
  for (struct pargc_tctx *c = tctx_reuse; c; c = c->reuse_next)
    pargc_tctx_adjust_epoch(c);
  pargc_unlock(&tctx_lock);
}

void pargc_tctx_sweep_parked(void)
{
  pargc_lock(&tctx_lock);
  for (struct pargc_tctx *c = tctx_reuse; c; c = c->reuse_next)
    pargc_tctx_sweep_all(c);
  pargc_unlock(&tctx_lock);
}

/* ---- Explicit free ---------------------------------------------------- */

bool pargc_slot_is_free(struct pargc_page *pg, uint32_t i)
{
  /* A slot of a fresh span never linked yet (page.h): free, and zero. */
  if (pargc_slot_unbuilt(pg, i))
    return true;
  /* A free object's first word is an encoded link to NULL or to another
   * object of the same span. */
  uintptr_t base = pargc_page_addr(pg);
  uintptr_t w = *(uintptr_t *)pargc_page_object_addr(pg, i) ^ pargc_link_key;
  if (w == 0)
    return true;
  if (w < base || w >= base + (uintptr_t)pg->nobjs * pg->size)
    return false;
  /* Object-aligned?  By the span's reciprocal: no division on this path. */
  uint32_t j = pargc_sizeclass_index(w - base, pg->recip);
  return w == base + (uintptr_t)j * pg->size;
}

void pargc_slot_retire(struct pargc_page *pg, void *obj)
{
  (void)pg;
  *(void **)obj = (void *)pargc_link_key; /* an encoded NULL link */
}

/* Frees of threads that never allocated (no context), for
 * pargc_tctx_freed_bytes. */
static _Atomic uint64_t freed_without_ctx;

static void count_freed(struct pargc_tctx *ctx, size_t size)
{
  if (ctx)
    __atomic_store_n(&ctx->freed_bytes, ctx->freed_bytes + size, __ATOMIC_RELAXED);
  else
    atomic_fetch_add_explicit(&freed_without_ctx, size, memory_order_relaxed);
}

uint64_t pargc_tctx_freed_bytes(void)
{
  uint64_t sum = atomic_load_explicit(&freed_without_ctx, memory_order_relaxed);
  uint32_t n = atomic_load(&pargc_tctx_count);
  for (uint32_t i = 0; i < n; i++) {
    struct pargc_tctx *c = pargc_tctx_all[i];
    if (c)
      sum += __atomic_load_n(&c->freed_bytes, __ATOMIC_RELAXED);
  }
  return sum;
}

bool pargc_free_slow(void *p)
{
  struct pargc_page *pg;
  int32_t i = pargc_pagemap_object((uintptr_t)p, &pg);
  if (i < 0 || (uintptr_t)p != pargc_page_object_addr(pg, (uint32_t)i)) {
    pargc_warn("GC_free(%p): not the start of an allocated heap object; ignored", p);
    return false;
  }
  struct pargc_tctx *ctx = pargc_tctx_current;
  unsigned kind = pg->kind;
  if (atomic_load_explicit(&pg->state, memory_order_acquire) == PARGC_PAGE_LARGE) {
    count_freed(ctx, pg->size);
    pargc_heap_release_run(ctx, pg);
    /* p stays in a register or on this stack until the run is FREE: a
     * collection that stops this thread before then finds the object
     * reachable and leaves it alone.  Without it, nothing pointed to the
     * object while release_run worked from the descriptor; the collection
     * swept the run as garbage and released it too, and the run was put
     * on two free lists (tests/stress/free_large_race_test). */
    __asm__ volatile("" : : "r"(p) : "memory");
    return true;
  }
  void **obj = p;
  if (pargc_slot_is_free(pg, (uint32_t)i)) {
    pargc_warn("GC_free(%p): object is already free; ignored", p);
    return false;
  }
  count_freed(ctx, pg->size);
  if (ctx && pg->owner == ctx->id && pg->nobjs == 1) {
    lists_enter(ctx);
    bool released = release_if_empty(ctx, pg, obj);
    lists_leave(ctx);
    if (released)
      return true;
  }
  if (pargc_kind_scanned[kind])
    memset(obj, 0, pg->size); /* so the allocation fast path only clears the link */
  if (pargc_kind_uncollectable[kind]) {
    pargc_mark_section_enter();
    pargc_mark_clear(pargc_page_marks(pg), (uint32_t)i);
    pargc_mark_section_leave();
  }
  if (ctx && pg->owner == ctx->id) {
    free_own(ctx, pg, obj);
    return true;
  }
  /* Another thread's page: a lock-free push onto its remote list, or,
   * if its owner asked to be told (the page is on its full list), onto
   * the owner's delayed list (see pargc_tctx_notify_full). */
  void *head = atomic_load_explicit(&pg->remote, memory_order_relaxed);
  for (;;) {
    if ((uintptr_t)head & PARGC_REMOTE_NOTIFY) {
      if (!atomic_compare_exchange_weak_explicit(
              &pg->remote, &head, (void *)((uintptr_t)head & ~PARGC_REMOTE_NOTIFY),
              memory_order_acquire, memory_order_relaxed))
        continue;
      /* The page stays on the full list, and so its owner's, until the
       * owner takes this object. */
      struct pargc_tctx *o = pargc_tctx_all[__atomic_load_n(&pg->owner, __ATOMIC_RELAXED)];
      void *top = atomic_load_explicit(&o->delayed, memory_order_relaxed);
      do {
        *obj = (void *)((uintptr_t)top ^ pargc_link_key);
      } while (!atomic_compare_exchange_weak_explicit(&o->delayed, &top, obj,
                                                      memory_order_release, memory_order_relaxed));
      break;
    }
    *obj = (void *)((uintptr_t)head ^ pargc_link_key);
    if (atomic_compare_exchange_weak_explicit(&pg->remote, &head, obj, memory_order_release,
                                              memory_order_relaxed))
      break;
  }
  if (ctx)
    ctx->stats.remote_frees++;
  return true;
}

void pargc_tctx_sum_stats(struct pargc_tctx_stats *out)
{
  memset(out, 0, sizeof *out);
  uint32_t n = atomic_load(&pargc_tctx_count);
  for (uint32_t i = 0; i < n; i++) {
    struct pargc_tctx *c = pargc_tctx_all[i];
    if (!c)
      continue;
    const uint64_t *src = (const uint64_t *)&c->stats;
    uint64_t *dst = (uint64_t *)out;
    for (size_t w = 0; w < sizeof *out / sizeof(uint64_t); w++)
      dst[w] += src[w];
  }
}

/* ---- fork ------------------------------------------------------------- */

/* Lock order everywhere: tctx_lock, then a context's pages_lock, then a
 * node pool's lock.  fork takes them all in that order so that the child
 * inherits consistent lists; GC_suspend_thread, so that the thread it
 * suspends holds none of them. */
void pargc_alloc_lock_all(void)
{
  pargc_lock(&tctx_lock);
  uint32_t n = atomic_load(&pargc_tctx_count);
  for (uint32_t i = 0; i < n; i++)
    pargc_lock(&pargc_tctx_all[i]->pages_lock);
  for (int i = 0; i < PARGC_MAX_NODES; i++)
    pargc_lock(&pargc_heap.pool[i].lock);
}

void pargc_alloc_unlock_all(void)
{
  for (int i = PARGC_MAX_NODES; i-- > 0;)
    pargc_unlock(&pargc_heap.pool[i].lock);
  uint32_t n = atomic_load(&pargc_tctx_count);
  for (uint32_t i = n; i-- > 0;)
    pargc_unlock(&pargc_tctx_all[i]->pages_lock);
  pargc_unlock(&tctx_lock);
}

void pargc_alloc_fork_prepare(void) { pargc_alloc_lock_all(); }
void pargc_alloc_fork_parent(void) { pargc_alloc_unlock_all(); }

/* The fork child's other threads vanished wherever they were, perhaps
 * in the middle of an operation on their own class lists and free lists,
 * which take no lock (the page pools and free-run lists do, and the
 * prepare handler holds those locks).  A list left half-updated made the
 * child release a page twice: a page list with a cycle, and a child that
 * never ended (tests/stress/fork_test under load, about 1 run in 300).
 * So those contexts' lists are rebuilt from the page table: every span of
 * theirs is put on its class's full list -- not unswept, since objects
 * allocated after the last collection are unmarked -- and the next
 * collection makes them unswept again.  Their free slots come back then.
 * A free run that a vanished thread held in hand (on no list) goes to
 * its node's pool. */
static void fork_child_relist(const bool *vanished, uint32_t n)
{
  uint64_t epoch = atomic_load(&pargc_epoch);
  pargc_assert(n <= PARGC_MAX_CTX);
  for (uint32_t i = 0; i < n; i++) {
    if (!vanished[i])
      continue;
    struct pargc_tctx *c = pargc_tctx_all[i];
    memset(c->free, 0, sizeof c->free);
    memset(c->cls, 0, sizeof c->cls);
    c->epoch = epoch;
  }
  size_t top = atomic_load(&pargc_region.top);
  for (size_t idx = 0; idx < top; idx++) {
    struct pargc_page *pg = &pargc_region.pages[idx];
    uint8_t st = atomic_load_explicit(&pg->state, memory_order_relaxed);
    if (st == PARGC_PAGE_SMALL && pg->owner < n && vanished[pg->owner]) {
      pg->free = NULL;
      pargc_list_push_tail(&pargc_tctx_all[pg->owner]->cls[pg->kind][pg->sclass].full, pg,
                           PARGC_LIST_FULL);
    } else if (st == PARGC_PAGE_FREE && pg->list == PARGC_LIST_NONE) {
      pargc_heap_release_run(NULL, pg);
    }
  }
}

void pargc_alloc_fork_child(void)
{
  for (int i = 0; i < PARGC_MAX_NODES; i++)
    pargc_lock_init(&pargc_heap.pool[i].lock);
  uint32_t n = atomic_load(&pargc_tctx_count);
  for (uint32_t i = 0; i < n; i++)
    pargc_lock_init(&pargc_tctx_all[i]->pages_lock);
  pargc_lock_init(&tctx_lock);
  /* The other threads are gone: park their contexts (pages included) so
   * that new threads of the child adopt them. */
  struct pargc_tctx *self = pargc_tctx_current;
  bool vanished[PARGC_MAX_CTX] = {false};
  for (uint32_t i = 0; i < n; i++) {
    struct pargc_tctx *c = pargc_tctx_all[i];
    if (c == self || !c->live)
      continue;
    c->live = false;
    c->reuse_next = tctx_reuse;
    tctx_reuse = c;
    vanished[i] = true;
  }
  fork_child_relist(vanished, n);
}

size_t pargc_tctx_free_list_each(unsigned kind, size_t size, void (*fn)(void *obj, void *arg),
                                 void *arg)
{
  struct pargc_tctx *ctx = pargc_tctx_current;
  if (!ctx || kind >= PARGC_MAX_KINDS || size == 0 || size > PARGC_SMALL_MAX)
    return 0;
  size_t n = 0;
  for (void **p = ctx->free[kind][pargc_sizeclass_of(size)]; p; p = decode(*p), n++)
    fn(p, arg);
  return n;
}
