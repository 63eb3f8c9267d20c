/* heap: page pools and the LPS policy; see heap.h. */
#include "config.h"
#include "alloc/heap.h"
#include "alloc/hooks.h"
#include "alloc/options.h"
#include "alloc/os.h"
#include "alloc/report.h"
#include "alloc/sizing.h"
#include "alloc/thread.h"

#include <string.h>

/* pargc_page.node holds a node number in one byte. */
_Static_assert(PARGC_MAX_NODES <= 256, "a node number fits pargc_page.node");

struct pargc_heap pargc_heap;
struct pargc_heap_settings pargc_heap_settings;
/* The hooks into the collector that this file calls: alloc/hooks.h. */
bool (*pargc_heap_collect_first_hook)(void);
void (*pargc_heap_resize_hook)(size_t heap_bytes);
bool (*pargc_heap_collect_hook)(uint64_t seen);
void (*pargc_heap_kick_hook)(void);

/* The committed size changed (GC_set_on_heap_resize). */
static void heap_resized(void)
{
  void (*hook)(size_t) = pargc_heap_resize_hook;
  if (hook)
    hook(pargc_heap_committed_bytes());
}

void pargc_heap_init(void)
{
  /* k = 0 (the default): 1 on a machine with one NUMA node, where
   * fresh pages buy no locality and k = 2 lets each thread take fresh
   * pages while another's free pages sit idle; 2 where locality is to
   * be won. */
  pargc_heap.k = pargc_opt.k ? pargc_opt.k : pargc_topology_nodes() > 1 ? 2 : 1;
  size_t initial = (size_t)pargc_opt.initial_heap;
  if (initial < PARGC_PAGE_SIZE * 16)
    initial = PARGC_PAGE_SIZE * 16;
  atomic_store(&pargc_heap.max_live, initial);
  pargc_heap.max_heap = (size_t)pargc_opt.max_heap;
  for (int i = 0; i < PARGC_MAX_NODES; i++)
    pargc_lock_init(&pargc_heap.pool[i].lock);
}

size_t pargc_heap_divisor(void)
{
  const volatile size_t *p = pargc_heap_settings.free_space_divisor;
  size_t d = p ? *p : (size_t)pargc_opt.free_space_divisor;
  return d ? d : 1;
}

static size_t min_bytes_allocd(void)
{
  const volatile size_t *p = pargc_heap_settings.min_bytes_allocd;
  return p ? *p : 1;
}

static bool use_entire_heap(void)
{
  const volatile int *p = pargc_heap_settings.use_entire_heap;
  return p && *p;
}

static bool collect_first(void)
{
  bool (*hook)(void) = pargc_heap_collect_first_hook;
  return hook && hook();
}

/* GC_non_gc_bytes at the last collection: bytes the program declared as
 * explicitly managed since then are not counted as allocation (Boehm's
 * GC_adj_bytes_allocd), but at least 1/8 of the allocation counts. */
static _Atomic size_t non_gc_at_gc;

static size_t non_gc_growth(void)
{
  const volatile size_t *p = pargc_heap_settings.non_gc_bytes;
  size_t now = p ? *p : 0, then = atomic_load_explicit(&non_gc_at_gc, memory_order_relaxed);
  return now > then ? now - then : 0;
}

static size_t with_non_gc(size_t threshold)
{
  size_t g = non_gc_growth();
  if (!g)
    return threshold;
  size_t cap = threshold > SIZE_MAX / 8 ? SIZE_MAX : threshold * 8;
  return g > cap - threshold ? cap : threshold + g;
}

size_t pargc_heap_effective_k(void)
{
  size_t threads = atomic_load_explicit(&pargc_tctx_count, memory_order_relaxed);
  size_t k = (size_t)pargc_heap.k;
  if (threads < 1)
    threads = 1;
  return k < threads ? k : threads;
}

/* The heap (committed bytes) at the last collection, and what it left
 * free (heap - live): see pargc_heap_collect_threshold. */
static _Atomic size_t heap_at_gc, heap_free_at_gc;

/* When the last collection ended, and the time between the last two. */
static _Atomic uint64_t last_gc_ns, gc_interval_ns;

/* The heap-sizing policy (sizing.h), unless the program chose Boehm
 * GC's divisor: its measurements, and the interval E it gives, in bytes.
 * Written by the collector (under its lock), read by any thread. */
static struct pargc_sizing sizing;
static _Atomic size_t sizing_interval;
static uint64_t last_gc_end_cpu;
/* The roots the last collection scanned (the cap, sizing.h). */
static _Atomic size_t last_roots;

static size_t initial_interval(void);

/* Given in the environment or by GC_set_free_space_divisor, or written
 * directly into GC_free_space_divisor (any value but Boehm's default,
 * 3, which the variable starts with). */
bool pargc_heap_uses_divisor(void)
{
  const volatile size_t *p = pargc_heap_settings.free_space_divisor;
  return pargc_opt.given.free_space_divisor || (p && *p != 3);
}

/* Does the sizing policy set the interval and max(l)?  Not with the
 * divisor given.  Concurrent mode too: its cycles cost CPU time the
 * program could have had, and memory for what it allocates meanwhile,
 * the same trade-off (pargc_heap_trigger_threshold starts them early by
 * what a cycle allocates). */
static bool sized_by_policy(void)
{
  return !pargc_heap_uses_divisor();
}

/* The least interval: a collection costs a pause however little is
 * live, and a heap that small fits in the caches anyway. */
static size_t sizing_floor(void)
{
  return (size_t)pargc_opt.heap_min_interval;
}

void pargc_heap_note_collection(size_t allocated, uint64_t gc_cpu, uint64_t cpu_end,
                                uint64_t pause_ns)
{
  /* Rates in the process's CPU time, not wall time: on a machine shared
   * with other work both stretch in wall time by however long this
   * process waited for a core, which says nothing about the trade-off
   * and would grow the heap of a program on a loaded machine.  CPU time
   * also counts every GC thread's work, and every mutator thread's
   * allocation. */
  uint64_t since = last_gc_end_cpu && cpu_end > last_gc_end_cpu ? cpu_end - last_gc_end_cpu : 0;
  uint64_t mutator = since > gc_cpu ? since - gc_cpu : 0;
  last_gc_end_cpu = cpu_end;
  size_t live = atomic_load(&pargc_heap.last_live);
  pargc_sizing_update(&sizing, live, allocated, mutator, gc_cpu);
  /* The collector's share in wall time (sizing.h): the stops against the
   * time the program ran between this collection and the last
   * (pargc_heap_note_live's interval, less the stops), at the interval it
   * allocated. */
  uint64_t between = atomic_load(&gc_interval_ns);
  pargc_sizing_update_share(&sizing, between > pause_ns ? between - pause_ns : 0, pause_ns,
                            allocated);
  size_t cap = pargc_heap.max_heap > live ? pargc_heap.max_heap - live : 0;
  double share = (double)pargc_opt.heap_max_gc_share / 100.0;
  cap = pargc_sizing_growth_cap(&sizing, live, atomic_load(&last_roots),
                                (unsigned)pargc_opt.heap_max_growth, share, cap);
  size_t e = pargc_sizing_extra(&sizing, (double)pargc_opt.heap_balance, share, sizing_floor(),
                                cap);
  atomic_store(&sizing_interval, e);
  if (!sized_by_policy())
    return;
  /* LPS's max(l), what a page-shared allocator would consume: the live
   * data plus one interval.  Unlike the largest live heap ever seen it
   * follows the program down again, an eighth per collection, so that a
   * phase of large live data does not let fresh pages be taken in place
   * of free ones forever after. */
  size_t need = live + e, floor = (size_t)pargc_opt.initial_heap;
  if (need < floor)
    need = floor;
  size_t old = atomic_load(&pargc_heap.max_live);
  size_t decayed = old - old / 8;
  atomic_store(&pargc_heap.max_live, need > decayed ? need : decayed);
}

size_t pargc_heap_interval(void)
{
  return atomic_load_explicit(&sizing_interval, memory_order_relaxed);
}

void pargc_heap_note_live(size_t live, size_t roots)
{
  atomic_store(&last_roots, roots);
  uint64_t now = pargc_os_now_ns(), last = atomic_exchange(&last_gc_ns, now);
  if (last)
    atomic_store(&gc_interval_ns, now - last);
  size_t heap = pargc_heap_committed_bytes();
  atomic_store(&heap_at_gc, heap);
  /* What a concurrent cycle allocated is marked (black), not free. */
  size_t used = live + atomic_load(&pargc_heap.cycle_alloc);
  atomic_store(&heap_free_at_gc, heap > used ? heap - used : 0);
  /* LPS's max(l) is what a page-shared allocator would consume, which for
   * a collected heap is the live data plus one allocation interval
   * (pargc_heap_collect_threshold): live x (1 + 2/d). */
  size_t d = pargc_heap_divisor();
  const volatile size_t *ngc = pargc_heap_settings.non_gc_bytes;
  atomic_store(&non_gc_at_gc, ngc ? *ngc : 0);
  atomic_store(&pargc_heap.last_live, live);
  if (sized_by_policy())
    return; /* max(l) follows the sizing policy: pargc_heap_note_collection */
  size_t need = live + 2 * live / d;
  size_t old = atomic_load(&pargc_heap.max_live);
  while (need > old && !atomic_compare_exchange_weak(&pargc_heap.max_live, &old, need))
    ;
}

bool pargc_heap_expand(size_t bytes)
{
  size_t heap = pargc_heap_committed_bytes();
  size_t limit = pargc_region.reserve;
  if (pargc_heap.max_heap && pargc_heap.max_heap < limit)
    limit = pargc_heap.max_heap;
  if (heap > limit || bytes > limit - heap)
    return false;
  size_t want = heap + bytes;
  size_t old = atomic_load(&pargc_heap.max_live);
  while (want > old && !atomic_compare_exchange_weak(&pargc_heap.max_live, &old, want))
    ;
  atomic_fetch_add(&heap_at_gc, bytes);
  atomic_fetch_add(&heap_free_at_gc, bytes);
  /* The sizing policy's interval too, until the next collection sets it
   * again: room for the heap to grow `bytes` beyond what it holds now,
   * as Boehm GC's heap does -- or the interval as it was, if that is
   * more.  Not the interval plus `bytes`: the interval has a floor
   * (PARGC_HEAP_MIN_INTERVAL) where Boehm GC's heap starts at 64 KiB,
   * and a program that expands its heap at start-up (Guile: 2 MB) would
   * get both, a first collection 3 MB on instead of 2, and as much more
   * memory touched for good. */
  size_t live = atomic_load(&pargc_heap.last_live);
  size_t room = want > live ? want - live : 0;
  size_t e = atomic_load(&sizing_interval);
  while (room > (e ? e : initial_interval()) &&
         !atomic_compare_exchange_weak(&sizing_interval, &e, room))
    ;
  return true;
}

void pargc_heap_format_run(struct pargc_page *head, size_t n)
{
  pargc_assert(n >= 1 && pargc_page_index(head) + n <= pargc_region.max_pages);
  head->pages = (uint32_t)n;
  for (size_t i = 1; i < n; i++) {
    struct pargc_page *t = head + i;
    t->head_delta = (uint32_t)i;
    atomic_store_explicit(&t->state, PARGC_PAGE_TAIL, memory_order_release);
  }
}

/* Cut a FREE run after its first n pages: the rest becomes a FREE run
 * of its own, on no list, and is returned. */
static struct pargc_page *run_cut(struct pargc_page *head, size_t n)
{
  size_t total = head->pages;
  pargc_assert(atomic_load_explicit(&head->state, memory_order_relaxed) == PARGC_PAGE_FREE);
  pargc_assert(n >= 1 && total > n);
  struct pargc_page *rest = head + n;
  rest->zeroed = head->zeroed;
  rest->decommitted = head->decommitted;
  rest->node = head->node;
  rest->free_since_ns = head->free_since_ns;
  pargc_heap_format_run(rest, total - n);
  atomic_store_explicit(&rest->state, PARGC_PAGE_FREE, memory_order_release);
  head->pages = (uint32_t)n;
  return rest;
}

/* Split the first n pages off a FREE run of n or more; the rest goes
 * back to `list` (which the caller holds).  Returns the n-page head. */
static struct pargc_page *run_split(struct pargc_page *head, size_t n,
                                    struct pargc_page_list *list, uint8_t id)
{
  if (head->pages > n)
    pargc_list_push(list, run_cut(head, n), id);
  return head;
}

/* The first offset in [idx, idx + len) where n pages in a row are not
 * black-listed, or len when there is none.  Only multi-page runs care: a
 * false pointer into a one-page span retains at most one small object,
 * into a large run the whole object.  Fresh pages use the whole range
 * or nothing; a free run serves a request from its first clean part
 * (Boehm GC also looks inside a free block for a part it may use). */
static size_t clean_window(size_t idx, size_t len, size_t n)
{
  if (n < 2 || idx >= atomic_load_explicit(&pargc_region.blacklist_hi, memory_order_relaxed))
    return 0;
  size_t clean = 0;
  for (size_t i = 0; i < len; i++) {
    clean = pargc_blacklisted(idx + i) ? 0 : clean + 1;
    if (clean == n)
      return i + 1 - n;
  }
  return len;
}

/* Free runs are split to serve smaller requests and come back one at a
 * time, so a list fills with neighbours that together could serve a
 * larger request: a program that grows a buffer by doubling it and frees
 * the old one asked for a run longer than any on its list at every step,
 * and took fresh pages each time (its heap grew without bound).  Joining
 * neighbours as runs come back would mean reading descriptors the list's
 * lock does not cover; instead a list is joined whole, under its lock,
 * when a request finds nothing long enough and runs came back since the
 * last join: sort it by address, then join each run to the next where
 * they touch.  Requests take the shortest run that fits (an exact fit
 * ends the search), so one-page spans do not cut up a long run. */

/* Sort the n runs from h (linked by `next`, the last one's NULL) by
 * address: a merge sort over the links, which needs no memory. */
static struct pargc_page *runs_by_address(struct pargc_page *h, size_t n)
{
  if (n < 2)
    return h;
  struct pargc_page *mid = h;
  for (size_t i = 1; i < n / 2; i++)
    mid = mid->next;
  struct pargc_page *b = mid->next;
  mid->next = NULL;
  struct pargc_page *a = runs_by_address(h, n / 2);
  b = runs_by_address(b, n - n / 2);
  struct pargc_page *out = NULL, **link = &out;
  while (a && b) {
    struct pargc_page **lower = a < b ? &a : &b;
    *link = *lower;
    link = &(*lower)->next;
    *lower = (*lower)->next;
  }
  *link = a ? a : b;
  return out;
}

/* Join b, the FREE run right after FREE run a, to a: both committed or
 * both decommitted (list_join).  The join is zero where both were. */
static void run_join(struct pargc_page *a, struct pargc_page *b)
{
  pargc_assert(a + a->pages == b && a->decommitted == b->decommitted);
  a->zeroed = a->zeroed && b->zeroed;
  if (b->free_since_ns > a->free_since_ns)
    a->free_since_ns = b->free_since_ns;
  size_t an = a->pages, bn = b->pages;
  b->list = PARGC_LIST_NONE;
  /* b's pages become a's tails, b itself first: a marker that meets any
   * of them reads FREE, or TAIL and a FREE head, and skips the word. */
  for (size_t i = 0; i < bn; i++) {
    b[i].head_delta = (uint32_t)(an + i);
    atomic_store_explicit(&b[i].state, PARGC_PAGE_TAIL, memory_order_release);
  }
  a->pages = (uint32_t)(an + bn);
}

/* Join the neighbours on a list (its lock held by the caller).  Returns
 * whether any two were joined. */
static bool list_join(struct pargc_page_list *list, uint8_t id)
{
  if (list->count < 2)
    return false;
  size_t before = list->count;
  struct pargc_page *r = runs_by_address(list->head, list->count);
  pargc_list_clear(list);
  while (r) {
    struct pargc_page *next = r->next;
    /* A committed run and a decommitted one stay apart: joined, the run
     * would be counted one way or the other, wrongly, until the decommit
     * pass gives the committed part back too (it marks its lists for
     * another join then). */
    while (next && r + r->pages == next && next->node == r->node &&
           next->decommitted == r->decommitted) {
      struct pargc_page *after = next->next;
      run_join(r, next);
      next = after;
    }
    pargc_list_push_tail(list, r, id);
    r = next;
  }
  return list->count < before;
}

/* May n more pages be committed under GC_set_max_heap_size?  Fresh
 * pages (take_fresh) and decommitted runs taken again both commit. */
static bool may_commit(size_t n)
{
  return !pargc_heap.max_heap ||
         (pargc_heap_committed_pages() + n) * PARGC_PAGE_SIZE <= pargc_heap.max_heap;
}

/* Best fit in a list of FREE runs, joining neighbours once when nothing
 * fits (`unjoined`: runs came back since the last join; cleared); removes
 * and splits.  The caller holds `lock`, the list's. */
static struct pargc_page *list_take(struct pargc_page_list *list, pargc_lock_t *lock, size_t n,
                                    uint8_t id, bool *unjoined)
{
  pargc_assert_held(lock);
  if (PARGC_ASSERT_FULL)
    pargc_list_validate(list);
  for (;;) {
    struct pargc_page *best = NULL;
    size_t at = 0;
    for (struct pargc_page *r = list->head; r; r = r->next) {
      /* Every run on a free-run list or a pool is a FREE head labelled
       * with that list (release_run sets the state before it pushes). */
      pargc_assert(atomic_load_explicit(&r->state, memory_order_relaxed) == PARGC_PAGE_FREE);
      pargc_assert(r->list == id && r->pages >= 1);
      if (r->pages < n || (best && r->pages >= best->pages) ||
          (r->decommitted && !may_commit(n)))
        continue;
      size_t off = clean_window(pargc_page_index(r), r->pages, n);
      if (off == r->pages)
        continue;
      best = r;
      at = off;
      if (r->pages == n)
        break;
    }
    if (best) {
      pargc_list_remove(list, best);
      atomic_fetch_sub(&pargc_heap.free_pages, n);
      if (at) { /* the pages before the window stay on the list */
        struct pargc_page *window = run_cut(best, at);
        pargc_list_push(list, best, id);
        best = window;
      }
      return run_split(best, n, list, id);
    }
    if (!*unjoined)
      return NULL;
    *unjoined = false;
    if (!list_join(list, id))
      return NULL;
  }
}

static void run_taken(struct pargc_page *run)
{
  if (run->decommitted) {
    atomic_fetch_add(&pargc_heap.committed, run->pages);
    run->decommitted = 0;
    run->zeroed = 1;
    heap_resized();
  }
}

/* A run of n pages from context c's free list, or NULL. */
static struct pargc_page *ctx_take(struct pargc_tctx *c, size_t n)
{
  if (pargc_list_seems_empty(&c->free_runs))
    return NULL;
  pargc_lock(&c->pages_lock);
  struct pargc_page *r =
      list_take(&c->free_runs, &c->pages_lock, n, PARGC_LIST_FREE_RUNS, &c->free_runs_unjoined);
  pargc_unlock(&c->pages_lock);
  return r;
}

/* A run of n pages from node's pool, or NULL. */
static struct pargc_page *pool_take(int node, size_t n)
{
  if (pargc_list_seems_empty(&pargc_heap.pool[node].runs))
    return NULL;
  pargc_lock(&pargc_heap.pool[node].lock);
  struct pargc_page *r = list_take(&pargc_heap.pool[node].runs, &pargc_heap.pool[node].lock, n,
                                   PARGC_LIST_POOL, &pargc_heap.pool[node].unjoined);
  pargc_unlock(&pargc_heap.pool[node].lock);
  return r;
}

static struct pargc_page *take_own(struct pargc_tctx *ctx, size_t n)
{
  return ctx ? ctx_take(ctx, n) : NULL;
}

static struct pargc_page *take_pool(struct pargc_tctx *ctx, size_t n)
{
  return pool_take(ctx && ctx->node < pargc_topology_nodes() ? ctx->node : 0, n);
}

static struct pargc_page *take_fresh(size_t n, bool force)
{
  size_t committed = pargc_heap_committed_pages();
  size_t limit_bytes = pargc_heap_effective_k() * atomic_load(&pargc_heap.max_live);
  if (!force && collect_first()) {
    /* Collect before growing: fresh pages only up to what the heap may
     * grow by after a collection (Boehm GC expands by heap / divisor). */
    size_t at_gc = atomic_load(&heap_at_gc), floor = (size_t)pargc_opt.initial_heap;
    size_t allowed = at_gc + at_gc / pargc_heap_divisor();
    if (allowed < floor)
      allowed = floor;
    if (allowed < limit_bytes)
      limit_bytes = allowed;
  }
  if (!force && (committed + n) * PARGC_PAGE_SIZE > limit_bytes)
    return NULL;
  if (!may_commit(n))
    return NULL;
  for (int attempt = 0; attempt < 16; attempt++) {
    size_t top = atomic_fetch_add(&pargc_region.top, n);
    if (top + n > pargc_region.max_pages) {
      atomic_fetch_sub(&pargc_region.top, n); /* may leave a gap only if raced */
      return NULL;
    }
    atomic_fetch_add(&pargc_heap.committed, n);
    struct pargc_page *head = &pargc_region.pages[top];
    head->zeroed = 1;
    head->decommitted = 0;
    if (clean_window(pargc_page_index(head), n, n) == 0) {
      pargc_heap_format_run(head, n);
      return head;
    }
    /* A false pointer hits this range: give its pages, one by one, to
     * the node pool (one-page spans may use them) and bump past it. */
    for (size_t i = 0; i < n; i++) {
      struct pargc_page *pg = head + i;
      pg->node = 0;
      pargc_heap_format_run(pg, 1);
      pargc_heap_release_run(NULL, pg);
    }
  }
  return NULL;
}

/* Steal a run of n pages: other contexts on `node` and its pool first,
 * then every other node.  Thieves take the victim's lock only. */
static struct pargc_page *take_stolen(struct pargc_tctx *self, size_t n,
                                      bool *remote, int *from_node)
{
  int nodes = pargc_topology_nodes();
  int home = self ? self->node : 0;
  for (int pass = 0; pass < 2; pass++) {
    for (int d = 0; d < nodes; d++) {
      int node = (home + d) % nodes;
      if ((pass == 0) != (node == home))
        continue;
      uint32_t count = atomic_load(&pargc_tctx_count);
      for (uint32_t i = 0; i < count; i++) {
        struct pargc_tctx *v = pargc_tctx_all[i];
        if (!v || v == self || __atomic_load_n(&v->node, __ATOMIC_RELAXED) != node)
          continue;
        struct pargc_page *r = ctx_take(v, n);
        if (r) {
          *remote = node != home;
          *from_node = node;
          return r;
        }
      }
      struct pargc_page *r = pool_take(node, n);
      if (r) {
        *remote = node != home;
        *from_node = node;
        return r;
      }
    }
  }
  return NULL;
}

/* Before the first collection has measured anything: the initial heap,
 * less the part the program's first data takes (a third, as Boehm GC's
 * default divisor). */
static size_t initial_interval(void)
{
  size_t i = (size_t)pargc_opt.initial_heap / 3;
  return i > sizing_floor() ? i : sizing_floor();
}

/* The smallest interval worth a collection: Boehm GC's rule
 * (GC_FREE_SPACE_DIVISOR) is to allocate at least N / d between
 * collections, N being what a collection scans -- about twice the live
 * data, counting roots and what it may find; here also at least heap / d
 * and GC_INITIAL_HEAP_SIZE / d. */
static size_t collect_min_interval(void)
{
  if (sized_by_policy()) {
    /* GC_set_min_bytes_allocd's floor holds under the policy too. */
    size_t e = atomic_load_explicit(&sizing_interval, memory_order_relaxed);
    size_t least = min_bytes_allocd();
    e = e ? e : initial_interval();
    return e > least ? e : least;
  }
  size_t heap = pargc_heap_committed_bytes();
  size_t scan = 2 * atomic_load(&pargc_heap.last_live);
  size_t floor = (size_t)pargc_opt.initial_heap;
  size_t base = heap > scan ? heap : scan;
  size_t min = (base > floor ? base : floor) / pargc_heap_divisor(), least = min_bytes_allocd();
  return min > least ? min : least;
}

size_t pargc_heap_collect_threshold(void)
{
  if (sized_by_policy())
    return with_non_gc(collect_min_interval()); /* GC_non_gc_bytes: as below */
  /* "At least" N / d: Boehm GC collects only when its heap has no free
   * block left (and N / d was allocated; else it grows), so the space
   * the last collection freed is used before the next one runs.  The
   * same here: the interval is the larger of the minimum and the free
   * space the last collection left -- until the heap grows.  LPS takes
   * fresh pages (under k x max(live)) before stealing, so growth is how
   * a thread finds its part of the heap used up; from then on the
   * minimum applies again, as before, and the heap grows no faster than
   * with the minimum alone, while a program that stays within its heap
   * collects about as often as under Boehm GC. */
  size_t min = collect_min_interval();
  size_t heap = pargc_heap_committed_bytes();
  if (heap > atomic_load(&heap_at_gc))
    return with_non_gc(min);
  size_t free = atomic_load(&heap_free_at_gc);
  return with_non_gc(free > min ? free : min);
}

/* Concurrent mode's interval.  Under the sizing policy, its interval,
 * as stopped.  With the divisor: max(2 x live, GC_INITIAL_HEAP_SIZE) /
 * divisor -- the stopped-world minimum without the heap term.  Stopped,
 * heap / divisor is a fixed point (the heap settles at live plus one
 * interval); beside a concurrent cycle the heap also holds what the
 * program allocates while the cycle runs, so an interval that follows
 * the heap would feed back on itself: longer intervals, a larger heap,
 * longer intervals. */
static size_t conc_interval(void)
{
  if (sized_by_policy())
    return collect_min_interval();
  size_t scan = 2 * atomic_load(&pargc_heap.last_live);
  size_t floor = (size_t)pargc_opt.initial_heap;
  size_t t = (scan > floor ? scan : floor) / pargc_heap_divisor(), least = min_bytes_allocd();
  return t > least ? t : least;
}

size_t pargc_heap_trigger_threshold(void)
{
  size_t lead = atomic_load_explicit(&pargc_heap.cycle_alloc, memory_order_relaxed);
  if (!atomic_load_explicit(&pargc_heap.concurrent, memory_order_relaxed))
    return pargc_heap_collect_threshold();
  /* Beside the program, the free space the last cycle left is not all
   * there is to spend before the next one: the next cycle's own
   * allocation needs room too, and what it allocates survives it.  Spend
   * the interval, started early by the last cycle's allocation. */
  size_t t = conc_interval();
  return with_non_gc(lead < t / 4 * 3 ? t - lead : t / 4);
}

size_t pargc_heap_cycle_limit(void)
{
  /* Under the sizing policy the interval is what a stopped collection
   * would let the program allocate, and the heap also holds the last
   * cycle's black allocation (`lead`), which survived it: the two
   * together stay within a quarter more than the interval, once a
   * quarter interval was allocated in any case. */
  size_t t = conc_interval();
  if (!sized_by_policy())
    return t + t / 2;
  size_t lead = atomic_load_explicit(&pargc_heap.cycle_alloc, memory_order_relaxed);
  return lead < t ? t + t / 4 - lead : t / 4;
}

/* Past k x max(l) with nothing to steal: collect rather than grow once
 * this much was allocated since the last collection.  With the divisor,
 * half its interval (Boehm GC collects or expands by a like rule).  With
 * the sizing policy, its whole interval: max(l) is live + E already, and
 * a program whose live data grows reaches it before E is spent --
 * collecting there found everything live, and Cube collected three
 * times as often as with the divisor, for nothing. */
static size_t early_collect_bytes(void)
{
  return sized_by_policy() ? collect_min_interval() : collect_min_interval() / 2;
}

/* The three entry points below take the contexts' page locks and the
 * node pools' locks, which mutators hold here where they can be stopped:
 * the thread that stopped the world must not call them (report.h). */

struct pargc_page *pargc_heap_take_run(struct pargc_tctx *ctx, size_t n,
                                       bool collect_ok, enum pargc_run_source *src)
{
  pargc_assert_not_stopped_world();
  pargc_assert(n >= 1);
  struct pargc_page *r;
  bool remote = false;
  int from = 0;
  bool collected = false, helped = false;
  uint64_t seen = atomic_load(&pargc_epoch);
  /* GC_use_entire_heap: free runs anywhere before fresh pages. */
  bool fresh_first = !use_entire_heap();
  for (;;) {
    if ((r = take_own(ctx, n))) {
      *src = PARGC_RUN_OWN;
      break;
    }
    /* The node's pool next: its runs belong to no running thread (large
     * objects the collector freed, exited threads' pages), and taking one
     * costs no other thread locality.  Before fresh pages: a thread that
     * carries on alone after others exited would otherwise grow the heap
     * under k x max(l) while the pool holds the pages it needs. */
    if ((r = take_pool(ctx, n))) {
      *src = PARGC_RUN_STOLEN_LOCAL;
      break;
    }
    if (fresh_first && (r = take_fresh(n, false))) {
      *src = PARGC_RUN_FRESH;
      break;
    }
    if ((r = take_stolen(ctx, n, &remote, &from))) {
      *src = remote ? PARGC_RUN_STOLEN_REMOTE : PARGC_RUN_STOLEN_LOCAL;
      if (ctx)
        ctx->stats.stolen_from_node[from] += n;
      break;
    }
    /* The spans the last collection emptied may still sit with threads
     * that have not noticed it (off the CPU, or busy elsewhere): move
     * those along, once, and look again before growing. */
    if (!helped) {
      helped = true;
      if (pargc_tctx_help_lagging(ctx))
        continue;
    }
    if (!fresh_first && (r = take_fresh(n, false))) {
      *src = PARGC_RUN_FRESH;
      break;
    }
    /* Nothing local, nothing to steal, over k x max(live): collect if
     * enough was allocated to make it worthwhile (anything, when the
     * collector asks to collect first), else grow. */
    size_t since = atomic_load(&pargc_heap.bytes_since_gc);
    if (collect_ok && !collected && pargc_heap_collect_hook &&
        (since >= early_collect_bytes() || (since > 0 && collect_first()))) {
      collected = true;
      if (pargc_heap_collect_hook(seen))
        return NULL; /* caller retries: the sweep may have freed objects */
    }
    if ((r = take_fresh(n, true))) {
      *src = PARGC_RUN_GROWN;
      break;
    }
    if (collect_ok && !collected && pargc_heap_collect_hook) {
      collected = true;
      if (pargc_heap_collect_hook(seen))
        return NULL;
    }
    return NULL; /* exhausted */
  }
  /* Exactly n pages, FREE (or never used), on no list: the caller's
   * alone to format. */
  pargc_assert(r->pages == n);
  pargc_assert(atomic_load_explicit(&r->state, memory_order_relaxed) <= PARGC_PAGE_FREE);
  pargc_assert(r->list == PARGC_LIST_NONE);
  if (*src == PARGC_RUN_FRESH || *src == PARGC_RUN_GROWN)
    heap_resized();
  run_taken(r);
  return r;
}

/* Put a FREE run on its node's pool. */
static void pool_push(struct pargc_page *head)
{
  int node = head->node < pargc_topology_nodes() ? head->node : 0;
  pargc_lock(&pargc_heap.pool[node].lock);
  pargc_list_push(&pargc_heap.pool[node].runs, head, PARGC_LIST_POOL);
  pargc_heap.pool[node].unjoined = true;
  pargc_unlock(&pargc_heap.pool[node].lock);
}

void pargc_heap_release_run(struct pargc_tctx *ctx, struct pargc_page *head)
{
  pargc_assert_not_stopped_world();
  size_t n = head->pages;
  /* A head (a span, a large run, or fresh pages), taken off every list
   * by the caller. */
  pargc_assert(atomic_load_explicit(&head->state, memory_order_relaxed) != PARGC_PAGE_TAIL);
  pargc_assert(head->list == PARGC_LIST_NONE && n >= 1);
  /* State first, so a marker never trusts stale geometry. */
  atomic_store_explicit(&head->state, PARGC_PAGE_FREE, memory_order_release);
  head->zeroed = 0;
  __atomic_store_n(&head->built, 0, __ATOMIC_RELAXED);
  head->free = NULL;
  atomic_store_explicit(&head->remote, NULL, memory_order_relaxed);
  head->free_since_ns = pargc_os_now_ns();
  pargc_heap_format_run(head, n);
  atomic_fetch_add(&pargc_heap.free_pages, n);
  if (ctx) {
    pargc_lock(&ctx->pages_lock);
    pargc_list_push(&ctx->free_runs, head, PARGC_LIST_FREE_RUNS);
    ctx->free_runs_unjoined = true;
    pargc_unlock(&ctx->pages_lock);
  } else {
    pool_push(head);
  }
}

void pargc_heap_release_runs(struct pargc_tctx *ctx)
{
  pargc_lock(&ctx->pages_lock);
  struct pargc_page *r;
  while ((r = pargc_list_pop(&ctx->free_runs)))
    pool_push(r);
  ctx->free_runs_unjoined = false;
  pargc_unlock(&ctx->pages_lock);
}

/* Committed pages in free runs that the last decommit pass left (too
 * recently freed): whether the idle scavenger has anything to wait for. */
static _Atomic size_t committed_free_left;

/* Decommit the runs of a list idle for `delay` (all runs: `all`).  A
 * run decommitted may now join a decommitted neighbour (`unjoined`). */
static size_t decommit_list(struct pargc_page_list *l, pargc_lock_t *lock, bool *unjoined,
                            uint64_t now, uint64_t delay, bool all)
{
  pargc_assert_held(lock);
  size_t bytes = 0;
  for (struct pargc_page *r = l->head; r; r = r->next) {
    pargc_assert(atomic_load_explicit(&r->state, memory_order_relaxed) == PARGC_PAGE_FREE);
    if (r->decommitted)
      continue;
    if (!all && now - r->free_since_ns < delay) {
      atomic_fetch_add_explicit(&committed_free_left, r->pages, memory_order_relaxed);
      continue;
    }
    size_t len = (size_t)r->pages * PARGC_PAGE_SIZE;
    pargc_os_decommit((void *)pargc_page_addr(r), len);
    r->decommitted = 1;
    r->zeroed = 1;
    *unjoined = true;
    atomic_fetch_sub(&pargc_heap.committed, r->pages);
    bytes += len;
  }
  return bytes;
}

size_t pargc_heap_decommit(bool all)
{
  return pargc_heap_decommit_idle(all, false);
}

size_t pargc_heap_committed_free(void)
{
  return atomic_load_explicit(&committed_free_left, memory_order_relaxed);
}

size_t pargc_heap_decommit_idle(bool all, bool idle)
{
  pargc_assert_not_stopped_world();
  if (!pargc_opt.decommit && !all)
    return 0;
  /* GC_UNMAP_THRESHOLD=0: as Boehm GC, no unmapping but the forced kind. */
  if (pargc_opt.given.unmap_threshold && pargc_opt.unmap_threshold == 0 && !all)
    return 0;
  uint64_t now = pargc_os_now_ns();
  uint64_t delay = (uint64_t)pargc_opt.decommit_delay_ms * 1000000u;
  /* GC_UNMAP_THRESHOLD=n: a run goes back once it stayed free for n
   * collections (Boehm GC counts collections, pargc the time they take). */
  if (pargc_opt.given.unmap_threshold && pargc_opt.unmap_threshold > 0)
    delay = (uint64_t)pargc_opt.unmap_threshold * atomic_load(&gc_interval_ns);
  atomic_store_explicit(&committed_free_left, 0, memory_order_relaxed);
  /* A run that sat free for less than two collection intervals is likely
   * to be taken again within the next one: a free list that the program
   * empties and the sweep refills every interval has old runs at its
   * bottom that look idle.  Giving them back only to fault them in
   * (zeroed by the kernel) a moment later costs far more than keeping
   * them. */
  uint64_t busy = 2 * atomic_load(&gc_interval_ns);
  if (!all && !idle && busy > delay)
    delay = busy;
  atomic_store(&pargc_heap.last_decommit_ns, now);
  size_t bytes = 0;
  for (int i = 0; i < pargc_topology_nodes(); i++) {
    pargc_lock(&pargc_heap.pool[i].lock);
    bytes += decommit_list(&pargc_heap.pool[i].runs, &pargc_heap.pool[i].lock,
                           &pargc_heap.pool[i].unjoined, now, delay, all);
    pargc_unlock(&pargc_heap.pool[i].lock);
  }
  uint32_t count = atomic_load(&pargc_tctx_count);
  for (uint32_t i = 0; i < count; i++) {
    struct pargc_tctx *c = pargc_tctx_all[i];
    if (!c || pargc_list_seems_empty(&c->free_runs))
      continue;
    pargc_lock(&c->pages_lock);
    bytes += decommit_list(&c->free_runs, &c->pages_lock, &c->free_runs_unjoined, now, delay,
                           all);
    pargc_unlock(&c->pages_lock);
  }
  atomic_fetch_add(&pargc_heap.decommitted_bytes_total, bytes);
  if (bytes)
    heap_resized();
  return bytes;
}
