/* finalize: Boehm GC's finalization, disappearing links and toggle-refs.
 *
 * Tables (all under pargc_collect_lock, which a collection holds from
 * start to end, so the collector reads them with the world stopped and
 * no mutator half-way through an update):
 *   fin     finalizable objects, hashed by object base;
 *   shortl  disappearing ("short") links, hashed by link address;
 *   longl   long links, same layout;
 *   queue   objects found ready, waiting for GC_invoke_finalizers;
 *   toggle  toggle-refs (an array).
 * Nodes come from libc malloc on the mutator side only.  The collector
 * never allocates or frees: it moves finalizer nodes to the queue and
 * puts dead link nodes on a graveyard list that the next registration
 * frees.  Object and link addresses are stored hidden (bit-inverted), so
 * even a scan of this memory would not mistake them for pointers; the
 * finalizers' client data and queued objects are pushed as roots from a
 * root hook (pargc's own data is never scanned, see gc/roots.h).  An
 * object taken off the queue is kept by a local of GC_invoke_finalizers,
 * set before the lock is released: it is never only hidden.
 *
 * The after-mark pass (world stopped), in Boehm GC's order:
 *   1. weak toggle-refs to unmarked objects are dropped;
 *   2. short links to unmarked objects are cleared;
 *   3. from every unmarked finalizable object, mark what it references
 *      (not the object itself; _ignore_self skips pointers to itself;
 *      _no_order marks nothing) and trace;
 *   4. finalizable objects still unmarked are ready: moved to the queue,
 *      then marked and traced so that they and everything they reference
 *      survive until their finalizer has run;
 *   5. long links to unmarked objects are cleared;
 *   6. links that live inside unmarked heap objects are dropped.
 * So in a chain of finalizable objects A -> B -> C only A is ready in one
 * collection, B in the next (after A's finalizer ran and A died), and so
 * on: finalizers run in topological order.  Cycles of ordinary
 * finalizable objects are never ready (as in Boehm GC).
 */
#include "config.h"
#include "api/compat.h"
#include "api/init.h"
#include "gc/collect.h"
#include "gc/threads.h"
#include "gc/tracer.h"
#include "alloc/hooks.h"
#include "alloc/options.h"
#include "alloc/page.h"
#include "alloc/report.h"
#include "alloc/thread.h"

#include <gc/gc.h>
#include <gc/javaxfc.h>
#include <gc/gc_mark.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum fin_mode { FIN_NORMAL, FIN_IGNORE_SELF, FIN_NO_ORDER, FIN_UNREACHABLE };

struct fin_node {
  struct fin_node *next;
  uintptr_t hobj; /* ~base */
  GC_finalization_proc fn;
  void *cd;
  int mode;
};

struct link_node {
  struct link_node *next;
  uintptr_t hlink; /* ~link address */
  uintptr_t hobj;  /* ~object address (as registered) */
};

struct link_table {
  struct link_node **b;
  size_t nb, n;
};

static struct fin_node **fin_b;
static size_t fin_nb, fin_n;
static struct fin_node *queue_head, *queue_tail;
static _Atomic size_t queue_len;
static struct link_table shortl, longl;
static struct link_node *graveyard;

struct toggle { uintptr_t hobj; void *strong; /* non-NULL while strong */ };
static struct toggle *toggles;
static size_t toggle_n, toggle_cap;
static GC_toggleref_func toggle_fn;

int GC_finalize_on_demand;
int GC_java_finalization = 1;
GC_finalizer_notifier_proc GC_finalizer_notifier;
static GC_await_finalize_proc await_fn;
static _Atomic unsigned long fin_since_gc; /* finalizers queued, for the notifier */
/* For GC_set_allocd_bytes_per_finalizer: registered finalizers at the
 * last collection, and whether any object was ever queued. */
static size_t fin_n_at_gc;
static bool fin_any_queued;

/* fin_n, fin_n_at_gc and fin_any_queued are written under the lock and
 * read without it by pargc_finalize_wants_collection: their stores are
 * atomic. */
static void fin_n_add(ptrdiff_t delta)
{
  __atomic_store_n(&fin_n, fin_n + (size_t)delta, __ATOMIC_RELAXED);
}

#define HIDE(p) (~(uintptr_t)(p))
#define REVEAL(h) ((void *)~(h))

/* Move a registration, just unlinked from its bucket, to the end of the
 * queue of finalizers ready to run (pargc_collect_lock held). */
static void queue_ready(struct fin_node *n)
{
  fin_n_add(-1);
  n->next = NULL;
  if (queue_tail)
    queue_tail->next = n;
  else
    queue_head = n;
  queue_tail = n;
  atomic_fetch_add(&queue_len, 1);
}

static inline size_t hash_addr(uintptr_t a, size_t nb)
{
  return (size_t)(((a >> 3) * 0x9E3779B97F4A7C15ull) >> 20) & (nb - 1);
}

static void bury_graveyard(void)
{
  while (graveyard) {
    struct link_node *n = graveyard;
    graveyard = n->next;
    free(n);
  }
}

/* ---- collection-time queries ------------------------------------------ */

uintptr_t pargc_compat_base(uintptr_t p)
{
  struct pargc_page *pg;
  int32_t i = pargc_pagemap_object(p, &pg);
  if (i < 0)
    return 0;
  return pargc_page_object_addr(pg, (uint32_t)i);
}

bool pargc_compat_marked(uintptr_t p)
{
  struct pargc_page *pg;
  int32_t i = pargc_pagemap_object(p, &pg);
  if (i < 0 || pargc_kind_uncollectable[pg->kind])
    return true;
  return pargc_mark_test(pargc_page_marks(pg), (uint32_t)i);
}

/* Is the link's own location inside a heap object that is now dead? */
static bool link_home_dead(uintptr_t link)
{
  struct pargc_page *pg;
  int32_t i = pargc_pagemap_object(link, &pg);
  if (i < 0 || pargc_kind_uncollectable[pg->kind])
    return false;
  return !pargc_mark_test(pargc_page_marks(pg), (uint32_t)i);
}

/* ---- finalizer registration -------------------------------------------- */

static void fin_grow(void)
{
  size_t nb = fin_nb ? fin_nb * 2 : 256;
  struct fin_node **b = calloc(nb, sizeof *b);
  if (!b)
    return; /* keep the old, longer chains */
  for (size_t i = 0; i < fin_nb; i++) {
    struct fin_node *n = fin_b[i], *next;
    for (; n; n = next) {
      next = n->next;
      size_t h = hash_addr(n->hobj, nb);
      n->next = b[h];
      b[h] = n;
    }
  }
  free(fin_b);
  fin_b = b;
  fin_nb = nb;
}

static void register_finalizer(void *obj, GC_finalization_proc fn, void *cd,
                               GC_finalization_proc *ofn, void **ocd, int mode)
{
  pargc_init();
  uintptr_t base = pargc_compat_base((uintptr_t)obj);
  if (ofn)
    *ofn = 0;
  if (ocd)
    *ocd = 0;
  if (!base)
    return; /* not a heap object: Boehm GC ignores it too */
  pargc_lock(&pargc_collect_lock);
  bury_graveyard();
  if (fin_n >= fin_nb)
    fin_grow();
  struct fin_node **slot = NULL, *n = NULL;
  if (fin_nb) {
    slot = &fin_b[hash_addr(HIDE(base), fin_nb)];
    for (n = *slot; n && n->hobj != HIDE(base); n = n->next)
      slot = &n->next;
  }
  if (n) {
    if (ofn)
      *ofn = n->fn;
    if (ocd)
      *ocd = n->cd;
    if (!fn) {
      *slot = n->next;
      fin_n_add(-1);
      free(n);
    } else {
      n->fn = fn;
      n->cd = cd;
      n->mode = mode;
    }
  } else if (fn && fin_nb) {
    n = malloc(sizeof *n);
    if (n) {
      n->hobj = HIDE(base);
      n->fn = fn;
      n->cd = cd;
      n->mode = mode;
      size_t h = hash_addr(n->hobj, fin_nb);
      n->next = fin_b[h];
      fin_b[h] = n;
      fin_n_add(1);
    } else {
      pargc_warn("GC_register_finalizer: out of memory; finalizer not registered");
    }
  }
  pargc_unlock(&pargc_collect_lock);
}

/* Boehm's four registration calls differ only in the order they ask
 * for; gc.h declares each, so the compiler checks these definitions. */
#define REGISTER_FINALIZER(name, mode)                                                  \
  void name(void *obj, GC_finalization_proc fn, void *cd, GC_finalization_proc *ofn,    \
            void **ocd)                                                                 \
  {                                                                                     \
    register_finalizer(obj, fn, cd, ofn, ocd, mode);                                    \
  }
REGISTER_FINALIZER(GC_register_finalizer, FIN_NORMAL)
REGISTER_FINALIZER(GC_register_finalizer_ignore_self, FIN_IGNORE_SELF)
REGISTER_FINALIZER(GC_register_finalizer_no_order, FIN_NO_ORDER)
REGISTER_FINALIZER(GC_register_finalizer_unreachable, FIN_UNREACHABLE)

/* ---- running finalizers ------------------------------------------------ */

int GC_should_invoke_finalizers(void)
{
  return atomic_load(&queue_len) != 0;
}

static __thread int fin_running; /* no nested GC_invoke_finalizers */

int GC_invoke_finalizers(void)
{
  int count = 0;
  if (fin_running)
    return 0;
  fin_running = 1;
  while (atomic_load(&queue_len)) {
    /* Locals on this thread's stack keep the object and its data alive
     * from the moment the entry leaves the queue until the finalizer has
     * run.  They are written before the lock is released: once off the
     * queue, the node holds the object only hidden, in memory no
     * collection scans, and a collection waiting for the lock is woken by
     * the unlock and may stop this thread before its next instruction.
     * Copied after the unlock, objects were freed before their finalizer
     * ran in every run of tests/stress/finalize_stress_test. */
    void *volatile obj = NULL, *volatile cd = NULL;
    pargc_lock(&pargc_collect_lock);
    struct fin_node *n = queue_head;
    if (n) {
      queue_head = n->next;
      if (!queue_head)
        queue_tail = NULL;
      atomic_fetch_sub(&queue_len, 1);
      obj = REVEAL(n->hobj);
      cd = n->cd;
    }
    pargc_unlock(&pargc_collect_lock);
    if (!n)
      break;
    GC_finalization_proc fn = n->fn;
    free(n);
    if (await_fn)
      await_fn(obj);
    fn(obj, cd);
    count++;
    obj = NULL;
    cd = NULL;
  }
  fin_running = 0;
  return count;
}

PARGC_API_SETTING(int, finalize_on_demand, GC_finalize_on_demand)
PARGC_API_SETTING(int, java_finalization, GC_java_finalization)
PARGC_API_SETTING(GC_finalizer_notifier_proc, finalizer_notifier, GC_finalizer_notifier)
PARGC_API_SETTING(GC_await_finalize_proc, await_finalize_proc, await_fn)

static void run_pending(void)
{
  atomic_store(&pargc_alloc_pending, 0);
  pargc_finalize_after_collection(true);
}

void pargc_finalize_after_collection(bool explicit_call)
{
  if (!atomic_load(&queue_len))
    return;
  if (GC_finalize_on_demand) {
    if (atomic_exchange(&fin_since_gc, 0) && GC_finalizer_notifier)
      GC_finalizer_notifier();
    return;
  }
  if (!explicit_call) {
    /* Inside the allocator: run them at the start of the next slow path. */
    atomic_store(&pargc_alloc_pending, 1);
    return;
  }
  GC_invoke_finalizers();
}

/* javaxfc.h: finalize every object that has a finalizer, reachable or
 * not (at exit, for Java-like runtimes). */
void GC_finalize_all(void)
{
  pargc_init();
  pargc_lock(&pargc_collect_lock);
  for (size_t i = 0; i < fin_nb; i++) {
    struct fin_node *n;
    while ((n = fin_b[i])) {
      fin_b[i] = n->next;
      queue_ready(n);
    }
  }
  pargc_unlock(&pargc_collect_lock);
  GC_invoke_finalizers();
}

/* ---- disappearing links ------------------------------------------------ */

static void links_grow(struct link_table *t)
{
  size_t nb = t->nb ? t->nb * 2 : 256;
  struct link_node **b = calloc(nb, sizeof *b);
  if (!b)
    return;
  for (size_t i = 0; i < t->nb; i++) {
    struct link_node *n = t->b[i], *next;
    for (; n; n = next) {
      next = n->next;
      size_t h = hash_addr(n->hlink, nb);
      n->next = b[h];
      b[h] = n;
    }
  }
  free(t->b);
  t->b = b;
  t->nb = nb;
}

/* The slot pointing at link's node, or NULL (lock held). */
static struct link_node **link_find(struct link_table *t, uintptr_t link)
{
  if (!t->nb)
    return NULL;
  struct link_node **slot = &t->b[hash_addr(HIDE(link), t->nb)];
  for (; *slot; slot = &(*slot)->next)
    if ((*slot)->hlink == HIDE(link))
      return slot;
  return NULL;
}

static int link_register(struct link_table *t, void **link, const void *obj)
{
  if (!link || ((uintptr_t)link & (sizeof(void *) - 1)))
    pargc_fatal("GC_register_disappearing_link: bad link address %p", (void *)link);
  pargc_init();
  pargc_lock(&pargc_collect_lock);
  bury_graveyard();
  struct link_node **old = link_find(t, (uintptr_t)link);
  if (old) {
    /* As Boehm GC: the link now follows the new object. */
    (*old)->hobj = HIDE(obj);
    pargc_unlock(&pargc_collect_lock);
    return GC_DUPLICATE;
  }
  if (t->n >= t->nb)
    links_grow(t);
  struct link_node *n = t->nb ? malloc(sizeof *n) : NULL;
  if (!n) {
    pargc_unlock(&pargc_collect_lock);
    return GC_NO_MEMORY;
  }
  n->hlink = HIDE(link);
  n->hobj = HIDE(obj);
  size_t h = hash_addr(n->hlink, t->nb);
  n->next = t->b[h];
  t->b[h] = n;
  t->n++;
  pargc_unlock(&pargc_collect_lock);
  return GC_SUCCESS;
}

static int link_unregister(struct link_table *t, void **link)
{
  if (!link)
    return 0;
  pargc_init();
  pargc_lock(&pargc_collect_lock);
  struct link_node **slot = link_find(t, (uintptr_t)link), *n = NULL;
  if (slot) {
    n = *slot;
    *slot = n->next;
    t->n--;
  }
  pargc_unlock(&pargc_collect_lock);
  free(n);
  return n != NULL;
}

static int link_move(struct link_table *t, void **link, void **new_link)
{
  if (!new_link || ((uintptr_t)new_link & (sizeof(void *) - 1)))
    pargc_fatal("GC_move_disappearing_link: bad new link address %p", (void *)new_link);
  if (!link || ((uintptr_t)link & (sizeof(void *) - 1)))
    return GC_NOT_FOUND;
  pargc_init();
  pargc_lock(&pargc_collect_lock);
  int rc = GC_SUCCESS;
  struct link_node **slot = link_find(t, (uintptr_t)link);
  if (!slot) {
    rc = GC_NOT_FOUND;
  } else if (link != new_link) {
    if (link_find(t, (uintptr_t)new_link)) {
      rc = GC_DUPLICATE;
    } else {
      struct link_node *n = *slot;
      *slot = n->next;
      n->hlink = HIDE(new_link);
      size_t h = hash_addr(n->hlink, t->nb);
      n->next = t->b[h];
      t->b[h] = n;
    }
  }
  pargc_unlock(&pargc_collect_lock);
  return rc;
}

/* A fork child: [lo, hi) was memory of a thread that did not survive the
 * fork (its stack or static TLS).  The C library hands such a stack to
 * the next thread the child creates, so a link there -- a client's
 * weak-pointer cell in a local of that thread -- now lies in a live
 * frame of some other thread (a GC thread, say), and clearing it would
 * write a NULL over whatever that thread keeps there: a return address,
 * once.  The links are dropped instead.  Only the forking thread runs,
 * and it holds the collector lock (the prepare handler took it); the
 * nodes go to the graveyard, freed by the next registration. */
static void links_forget_range(struct link_table *t, uintptr_t lo, uintptr_t hi)
{
  for (size_t i = 0; i < t->nb; i++) {
    for (struct link_node **slot = &t->b[i]; *slot;) {
      struct link_node *n = *slot;
      uintptr_t link = (uintptr_t)REVEAL(n->hlink);
      if (link - lo < hi - lo) {
        *slot = n->next;
        n->next = graveyard;
        graveyard = n;
        t->n--;
      } else {
        slot = &n->next;
      }
    }
  }
}

static void forget_links_of_vanished(void *lo, void *hi)
{
  links_forget_range(&shortl, (uintptr_t)lo, (uintptr_t)hi);
  links_forget_range(&longl, (uintptr_t)lo, (uintptr_t)hi);
}

int GC_general_register_disappearing_link(void **link, const void *obj)
{
  return link_register(&shortl, link, obj);
}

int GC_register_disappearing_link(void **link)
{
  /* Boehm GC: the link points at the object's base. */
  void *base = GC_base(*link);
  if (!base)
    return GC_NOT_FOUND;
  return link_register(&shortl, link, base);
}

int GC_unregister_disappearing_link(void **link) { return link_unregister(&shortl, link); }
int GC_move_disappearing_link(void **link, void **new_link)
{
  return link_move(&shortl, link, new_link);
}
int GC_register_long_link(void **link, const void *obj) { return link_register(&longl, link, obj); }
int GC_unregister_long_link(void **link) { return link_unregister(&longl, link); }
int GC_move_long_link(void **link, void **new_link) { return link_move(&longl, link, new_link); }

/* Collector side: clear links whose object is unmarked; with
 * `dangling_only`, instead drop links whose own location died. */
static void links_sweep(struct link_table *t, bool dangling_only)
{
  for (size_t i = 0; i < t->nb; i++) {
    struct link_node **slot = &t->b[i];
    while (*slot) {
      struct link_node *n = *slot;
      uintptr_t link = (uintptr_t)REVEAL(n->hlink);
      bool drop;
      if (dangling_only) {
        drop = link_home_dead(link);
      } else {
        drop = !pargc_compat_marked((uintptr_t)REVEAL(n->hobj));
        if (drop)
          *(void **)link = NULL;
      }
      if (drop) {
        *slot = n->next;
        t->n--;
        n->next = graveyard;
        graveyard = n;
      } else {
        slot = &n->next;
      }
    }
  }
}

/* ---- toggle-refs -------------------------------------------------------- */

PARGC_API_SETTING(GC_toggleref_func, toggleref_func, toggle_fn)

int GC_toggleref_add(void *obj, int is_strong_ref)
{
  pargc_init();
  if (!toggle_fn)
    return GC_SUCCESS; /* Boehm GC: ignored until a callback is set */
  pargc_lock(&pargc_collect_lock);
  if (toggle_n == toggle_cap) {
    size_t cap = toggle_cap ? toggle_cap * 2 : 64;
    struct toggle *t = realloc(toggles, cap * sizeof *t);
    if (!t) {
      pargc_unlock(&pargc_collect_lock);
      return GC_NO_MEMORY;
    }
    toggles = t;
    toggle_cap = cap;
  }
  toggles[toggle_n].hobj = HIDE(obj);
  toggles[toggle_n].strong = is_strong_ref ? obj : NULL;
  toggle_n++;
  pargc_unlock(&pargc_collect_lock);
  return GC_SUCCESS;
}

/* Ask the program which toggle-refs are strong for this collection,
 * dropping those it no longer wants; push the strong ones. */
static void evaluate_toggles(void)
{
  size_t j = 0;
  for (size_t i = 0; i < toggle_n; i++) {
    void *obj = REVEAL(toggles[i].hobj);
    GC_ToggleRefStatus st = toggle_fn ? toggle_fn(obj) : GC_TOGGLE_REF_STRONG;
    if (st == GC_TOGGLE_REF_DROP)
      continue;
    toggles[j].hobj = toggles[i].hobj;
    toggles[j].strong = st == GC_TOGGLE_REF_STRONG ? obj : NULL;
    if (toggles[j].strong)
      pargc_tracer_mark_pointer((uintptr_t)obj);
    j++;
  }
  toggle_n = j;
}

/* Root hook: the strong toggle-refs, the finalizers' client data and
 * the queued objects. */
static void finalize_push_roots(void)
{
  pargc_assert(pargc_world_stopped_by_me); /* a root hook: collect.h */
  if (pargc_tracer_verifying()) { /* the toggle-refs as the mark found them */
    for (size_t i = 0; i < toggle_n; i++)
      if (toggles[i].strong)
        pargc_tracer_mark_pointer((uintptr_t)toggles[i].strong);
  } else {
    evaluate_toggles();
  }
  for (size_t i = 0; i < fin_nb; i++)
    for (struct fin_node *n = fin_b[i]; n; n = n->next)
      pargc_tracer_mark_pointer((uintptr_t)n->cd);
  for (struct fin_node *n = queue_head; n; n = n->next) {
    pargc_tracer_mark_pointer((uintptr_t)REVEAL(n->hobj));
    pargc_tracer_mark_pointer((uintptr_t)n->cd);
  }
}

void GC_push_finalizer_structures(void)
{
  /* pargc pushes its finalization tables itself (root hook). */
}

/* ---- the after-mark pass ------------------------------------------------ */

/* Mark what obj references, but not obj itself (unless reachable from
 * it through another object).  ignore_self: pointers into obj skipped. */
static void mark_from(uintptr_t base, bool ignore_self)
{
  struct pargc_page *pg;
  if (pargc_pagemap_object(base, &pg) < 0 || !pargc_kind_scanned[pg->kind])
    return;
  const uintptr_t *w = (const uintptr_t *)base;
  size_t nw = pg->size / sizeof(uintptr_t);
  for (size_t i = 0; i < nw; i++) {
    uintptr_t v = w[i];
    if (ignore_self && v - base < pg->size)
      continue;
    pargc_tracer_mark_pointer(v);
  }
}

static void finalize_after_mark(void)
{
  pargc_assert(pargc_world_stopped_by_me); /* an after-mark hook: collect.h */
  /* 1. weak toggle-refs */
  size_t j = 0;
  for (size_t i = 0; i < toggle_n; i++)
    if (toggles[i].strong || pargc_compat_marked((uintptr_t)REVEAL(toggles[i].hobj)))
      toggles[j++] = toggles[i];
  toggle_n = j;
  /* 2. short links */
  links_sweep(&shortl, false);
  /* 3. mark from unmarked finalizable objects */
  bool any = false;
  for (size_t i = 0; i < fin_nb; i++)
    for (struct fin_node *n = fin_b[i]; n; n = n->next) {
      uintptr_t base = (uintptr_t)REVEAL(n->hobj);
      if (pargc_compat_marked(base) || n->mode == FIN_NO_ORDER)
        continue;
      mark_from(base, n->mode != FIN_NORMAL);
      any = true;
    }
  if (any)
    pargc_tracer_trace();
  /* 4. the still unmarked ones are ready: queue, then keep alive */
  any = false;
  for (size_t i = 0; i < fin_nb; i++) {
    struct fin_node **slot = &fin_b[i];
    while (*slot) {
      struct fin_node *n = *slot;
      uintptr_t base = (uintptr_t)REVEAL(n->hobj);
      if (pargc_compat_marked(base)) {
        slot = &n->next;
        continue;
      }
      *slot = n->next;
      queue_ready(n);
      atomic_fetch_add(&fin_since_gc, 1);
      pargc_tracer_mark_pointer(base);
      any = true;
    }
  }
  if (any) {
    __atomic_store_n(&fin_any_queued, true, __ATOMIC_RELAXED);
    pargc_tracer_trace();
  }
  __atomic_store_n(&fin_n_at_gc, fin_n, __ATOMIC_RELAXED);
  /* 5. long links; 6. links inside dead objects */
  links_sweep(&longl, false);
  links_sweep(&shortl, true);
  links_sweep(&longl, true);
}

/* ---- statistics and dumps ----------------------------------------------- */

void GC_dump_finalization(void)
{
  pargc_lock(&pargc_collect_lock);
  fprintf(stdout, "Finalizable objects: %zu; queued: %zu; disappearing links: %zu; long links: %zu\n",
          fin_n, (size_t)atomic_load(&queue_len), shortl.n, longl.n);
  pargc_unlock(&pargc_collect_lock);
  fflush(stdout);
}

bool pargc_finalize_wants_collection(size_t allocated, size_t per_finalizer)
{
  /* Read without the lock: a hint for the heap policy. */
  size_t now = __atomic_load_n(&fin_n, __ATOMIC_RELAXED);
  size_t then = __atomic_load_n(&fin_n_at_gc, __ATOMIC_RELAXED);
  return now > then && __atomic_load_n(&fin_any_queued, __ATOMIC_RELAXED) &&
         (now - then) * per_finalizer > allocated;
}

size_t pargc_finalize_counts(size_t *links)
{
  if (links)
    *links = shortl.n + longl.n;
  return fin_n;
}

extern GC_word GC_gc_no;

static void compat_done(bool explicit_call)
{
  GC_gc_no = (GC_word)atomic_load(&pargc_gc_no);
  if (pargc_opt.dump_regularly) /* GC_DUMP_REGULARLY */
    GC_dump();
  pargc_debug_after_collection();
  pargc_finalize_after_collection(explicit_call);
}

void pargc_finalize_install(void)
{
  pargc_collect_add_root_hook(finalize_push_roots);
  pargc_collect_add_after_mark_hook(finalize_after_mark);
  pargc_collect_done_hook = compat_done;
  pargc_alloc_pending_hook = run_pending;
  pargc_threads_on_vanished = forget_links_of_vanished;
}
