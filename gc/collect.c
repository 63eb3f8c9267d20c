/* collect: phase order and policy; see collect.h. */
#include "config.h"
#include "gc/collect.h"
#include "gc/concurrent.h"
#include "gc/roots.h"
#include "gc/scavenge.h"
#include "gc/stats.h"
#include "gc/threads.h"
#include "gc/threads_internal.h"
#include "gc/tracer.h"
#include "gc/snapshot_write.h"
#include "alloc/hooks.h"
#include "alloc/options.h"
#include "alloc/os.h"
#include "alloc/page.h"
#include "alloc/thread.h"

/* gc.h's declaration exports GC_dont_gc, defined here. */
#include <gc/gc.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

pargc_lock_t pargc_collect_lock = PARGC_LOCK_INIT;
_Atomic uint64_t pargc_gc_no;
int GC_dont_gc;
void (*pargc_collect_event_fn)(int event);

static _Atomic int collect_disabled;
static size_t collect_last_live = SIZE_MAX; /* none yet: expected_live */
static void (*after_mark_hooks[PARGC_MAX_AFTER_MARK_HOOKS])(void);
static int after_mark_count;
static void (*root_hooks[PARGC_MAX_ROOT_HOOKS])(void);
static int root_hook_count;
static void (*remark_hooks[PARGC_MAX_REMARK_HOOKS])(void);
static int remark_hook_count;
void (*pargc_collect_done_hook)(bool explicit_call);
int pargc_collect_auto_disabled;


void pargc_collect_event(int e)
{
  void (*fn)(int) = pargc_collect_event_fn;
  if (fn)
    fn(e);
}

void pargc_collect_add_after_mark_hook(void (*fn)(void))
{
  if (after_mark_count == PARGC_MAX_AFTER_MARK_HOOKS)
    pargc_fatal("too many after-mark hooks");
  after_mark_hooks[after_mark_count++] = fn;
}

void pargc_collect_add_root_hook(void (*fn)(void))
{
  if (root_hook_count == PARGC_MAX_ROOT_HOOKS)
    pargc_fatal("too many root hooks");
  root_hooks[root_hook_count++] = fn;
}

void pargc_collect_add_remark_hook(void (*fn)(void))
{
  if (remark_hook_count == PARGC_MAX_REMARK_HOOKS)
    pargc_fatal("too many remark hooks");
  remark_hooks[remark_hook_count++] = fn;
}

void pargc_collect_phase_remark(void)
{
  for (int i = 0; i < remark_hook_count; i++)
    remark_hooks[i]();
}

void pargc_collect_disable(void) { atomic_fetch_add(&collect_disabled, 1); }
void pargc_collect_enable(void)
{
  if (atomic_fetch_sub(&collect_disabled, 1) <= 0) {
    atomic_fetch_add(&collect_disabled, 1);
    pargc_warn("GC_enable called more often than GC_disable; ignored");
  }
}
bool pargc_collect_is_disabled(void) { return atomic_load(&collect_disabled) > 0; }

/* Bytes of root ranges the last root scan pushed (the sizing policy's
 * fixed cost of a collection, alloc/heap.h).  Under pargc_collect_lock. */
static size_t collect_root_bytes;

static void count_root(const void *lo, const void *hi)
{
  if ((uintptr_t)hi > (uintptr_t)lo)
    collect_root_bytes += (uintptr_t)hi - (uintptr_t)lo;
}

static void push_range(void *lo, void *hi, void *arg)
{
  (void)arg;
  count_root(lo, hi);
  pargc_tracer_push_range(lo, hi);
}

void (*pargc_collect_start_hook)(void);

void pargc_collect_started(void)
{
  pargc_assert_held(&pargc_collect_lock);
  pargc_assert(!pargc_world_stopped_by_me);
  pargc_collect_event(PARGC_EV_START);
  void (*hook)(void) = pargc_collect_start_hook;
  if (hook)
    hook();
}

static void push_stack_range(void *lo, void *hi, void *arg)
{
  (void)arg;
  count_root(lo, hi);
  pargc_tracer_push_stack_range(lo, hi);
}

void pargc_collect_each_root(pargc_range_fn fn, pargc_range_fn stack_fn, void *arg)
{
  pargc_roots_each_range(fn, arg);
  pargc_threads_each_root_range(fn, stack_fn, arg);
}

/* The roots and what the root hooks push, the hooks before the thread
 * stacks: a program's GC_set_push_other_roots callback may set its
 * threads' stack bases there (GC_set_stackbottom, for the fibers they
 * run), and Boehm GC pushes the stacks after it. */
static void each_root_and_hook(pargc_range_fn fn, pargc_range_fn stack_fn, void *arg)
{
  pargc_roots_each_range(fn, arg);
  for (int i = 0; i < root_hook_count; i++)
    root_hooks[i]();
  pargc_threads_each_root_range(fn, stack_fn, arg);
}

/* Verification scans the roots itself rather than trusting the mark's
 * list: static roots, every thread's stack, registers and TLS (the
 * collecting thread's stack from the same frame up as the mark, see
 * collect_locked), what the root hooks push (the tracer checks instead
 * of marking while it verifies), and the allocated uncollectable
 * objects. */
static void each_root_with_uncollectable(pargc_range_fn fn, pargc_range_fn stack_fn, void *arg)
{
  each_root_and_hook(fn, stack_fn, arg);
  for (struct pargc_page *pg = NULL; (pg = pargc_pagemap_next_in_use(pg));) {
    if (!pargc_kind_uncollectable[pg->kind] || !pargc_kind_scanned[pg->kind])
      continue;
    const uint64_t *marks = pargc_page_marks(pg);
    for (uint32_t i = 0; i < pg->nobjs; i++)
      if (pargc_mark_test(marks, i)) {
        uintptr_t o = pargc_page_object_addr(pg, i);
        fn((void *)o, (void *)(o + pg->size), arg);
      }
  }
}

/* Step 2: the other mark bitmap becomes current, and one pass over the
 * page table clears it for collectable spans, copies the allocated bits
 * of uncollectable ones, and pushes allocated uncollectable objects. */
static bool marks_precleared; /* pargc_collect_phase_preclear ran */

static void prepare_pages(void)
{
  pargc_pagemap_flip_marks();
  bool clear = !marks_precleared;
  marks_precleared = false;
  for (struct pargc_page *pg = NULL; (pg = pargc_pagemap_next_in_use(pg));) {
    uint64_t *marks = pargc_page_marks(pg);
    size_t words = (pg->nobjs + 63u) / 64;
    if (!pargc_kind_uncollectable[pg->kind]) {
      if (clear)
        memset(marks, 0, words * sizeof(uint64_t));
      continue;
    }
    memcpy(marks, pargc_page_sweep_marks(pg), words * sizeof(uint64_t));
    if (!pargc_kind_scanned[pg->kind])
      continue;
    for (uint32_t w = 0; w < (pg->nobjs + 63u) / 64; w++) {
      uint64_t bits = marks[w];
      while (bits) {
        unsigned b = (unsigned)__builtin_ctzll(bits);
        bits &= bits - 1;
        uintptr_t o = pargc_page_object_addr(pg, w * 64 + b);
        pargc_tracer_push_range((void *)o, (void *)(o + pg->size));
      }
    }
  }
}

/* Step 6: find the unmarked large objects.  They are released only once
 * the world runs again (release_dead_large): giving a run back takes its
 * node pool's lock, which a mutator stopped in pargc_heap_take_run or
 * pargc_heap_decommit may hold, and waiting for it with the world stopped
 * hung the program ("Locks and the stopped world" in
 * docs/architecture.md).  Meanwhile the runs wait on this list, linked
 * through their descriptors (a large run is on no other list).  Nothing
 * finds them there: no pointer to them is left, the pools do not have
 * them, and the next collection waits for the collector lock, held until
 * they are released.  The collector lock guards the list. */
static struct pargc_page_list dead_large;

static uint64_t sweep_large(void)
{
  pargc_assert(dead_large.count == 0); /* emptied at the last restart */
  uint64_t freed = 0;
  for (struct pargc_page *pg = NULL; (pg = pargc_pagemap_next_in_use(pg));) {
    if (atomic_load_explicit(&pg->state, memory_order_relaxed) != PARGC_PAGE_LARGE)
      continue;
    if (pargc_kind_uncollectable[pg->kind] || (pargc_page_marks(pg)[0] & 1))
      continue;
    freed += (uint64_t)pg->pages * PARGC_PAGE_SIZE;
    atomic_fetch_add_explicit(&pargc_heap.reclaimed_total, pg->size, memory_order_relaxed);
    pargc_assert(pg->list == PARGC_LIST_NONE); /* a large run is on no list */
    pargc_list_push(&dead_large, pg, PARGC_LIST_DEAD);
  }
  return freed;
}

/* After the restart: the runs sweep_large found go to their node pools. */
static void release_dead_large(void)
{
  /* The collector lock guards the list; the pools' locks may be taken
   * again now the world runs. */
  pargc_assert_held(&pargc_collect_lock);
  pargc_assert(!pargc_world_stopped_by_me);
  if (PARGC_ASSERT_FULL)
    pargc_list_validate(&dead_large);
  struct pargc_page *pg;
  while ((pg = pargc_list_pop(&dead_large)))
    pargc_heap_release_run(NULL, pg);
}

/* ---- Phases (collect.h) ---------------------------------------------- */

void pargc_collect_phase_preclear(void)
{
  /* World running, collector lock held (collect.h). */
  pargc_assert_held(&pargc_collect_lock);
  pargc_assert(!pargc_world_stopped_by_me);
  /* The bitmap that is neither current nor swept by is unused between
   * collections: clear it now for the spans in use.  Spans formatted
   * from here on clear both bitmaps themselves (page.h). */
  uint64_t (*other)[PARGC_MARK_WORDS] = pargc_region.marks == pargc_region.mark_arrays[0]
                                            ? pargc_region.mark_arrays[1]
                                            : pargc_region.mark_arrays[0];
  for (struct pargc_page *pg = NULL; (pg = pargc_pagemap_next_in_use(pg));)
    if (!pargc_kind_uncollectable[pg->kind])
      memset(other[pargc_page_index(pg)], 0, ((pg->nobjs + 63u) / 64) * sizeof(uint64_t));
  marks_precleared = true;
}

/* The live data the next trace should find, for the number of GC
 * threads it runs on: the last collection's, or before the first one
 * the heap in use, which bounds it (a program that collects at once,
 * as Guile does at start-up, would start every helper thread for an
 * empty heap). */
static size_t expected_live(void)
{
  return collect_last_live != SIZE_MAX ? collect_last_live : pargc_heap_committed_bytes();
}

/* Each phase runs with the world stopped by the caller and the
 * collector lock held (collect.h). */
void pargc_collect_phase_begin(void)
{
  pargc_assert(pargc_world_stopped_by_me);
  pargc_assert_held(&pargc_collect_lock);
  pargc_tracer_begin();
  pargc_tracer_set_expected_live(expected_live());
  prepare_pages();
}

void pargc_collect_phase_roots(void)
{
  pargc_assert(pargc_world_stopped_by_me);
  pargc_assert_held(&pargc_collect_lock);
  collect_root_bytes = 0;
  each_root_and_hook(push_range, push_stack_range, NULL);
}

void pargc_collect_phase_end(struct pargc_collection_stats *s)
{
  pargc_assert(pargc_world_stopped_by_me);
  pargc_assert_held(&pargc_collect_lock);
  struct pargc_trace_stats ts;
  pargc_tracer_finish(&ts);
  if (pargc_opt.verify) {
    size_t misses = pargc_tracer_verify(each_root_with_uncollectable);
    if (misses)
      pargc_fatal("PARGC_VERIFY: %zu reachable objects were left unmarked by collection %llu",
                  misses, (unsigned long long)atomic_load(&pargc_gc_no) + 1);
  }
  /* PARGC_SNAPSHOT: the marks are final, the after-mark hooks have not
   * marked anything yet, so the snapshot's live bytes are ts'. */
  pargc_snapshot_collection(atomic_load(&pargc_gc_no) + 1);
  pargc_collect_event(PARGC_EV_MARK_END);
  for (int i = 0; i < after_mark_count; i++)
    after_mark_hooks[i]();

  pargc_collect_event(PARGC_EV_RECLAIM_START);
  s->large_freed_bytes = sweep_large();
  pargc_heap_note_live(ts.marked_bytes, collect_root_bytes);
  pargc_conc_note_live(ts.marked_bytes);
  collect_last_live = ts.marked_bytes;
  s->allocated_bytes = atomic_exchange(&pargc_heap.bytes_since_gc, 0);
  pargc_pagemap_marks_complete();
  atomic_fetch_add(&pargc_epoch, 1);
  s->gc_no = atomic_fetch_add(&pargc_gc_no, 1) + 1;
  pargc_collect_event(PARGC_EV_RECLAIM_END);

  s->gc_threads = ts.threads;
  s->live_bytes = ts.marked_bytes;
  s->root_bytes = collect_root_bytes;
  s->live_objects = ts.marked_objects;
  s->steals = ts.steals;
  s->overflows = ts.overflows;
  s->threads = (uint64_t)pargc_threads_count();
  for (unsigned i = 0; i < ts.threads; i++)
    s->marked_per_thread[i] = ts.per_thread[i].marked_bytes;
}

uint64_t pargc_collect_stop_world(void)
{
  pargc_assert_held(&pargc_collect_lock); /* serialises stops (collect.h) */
  pargc_collect_event(PARGC_EV_PRE_STOP_WORLD);
  /* From inside a walk of the loaded objects, which keeps every other
   * thread out of the dynamic loader's lock (roots.h). */
  pargc_roots_stop_world(pargc_threads_stop_world);
  pargc_collect_event(PARGC_EV_POST_STOP_WORLD);
  return pargc_os_now_ns();
}

uint64_t pargc_collect_start_world(void)
{
  pargc_assert(pargc_world_stopped_by_me);
  pargc_collect_event(PARGC_EV_PRE_START_WORLD);
  /* The pause ends when the restart is issued: the threads it wakes may
   * take this thread's core for a while (a collector thread on a busy
   * machine), which is no pause of theirs. */
  uint64_t t = pargc_os_now_ns();
  pargc_threads_start_world();
  pargc_collect_event(PARGC_EV_POST_START_WORLD);
  release_dead_large();
  return t;
}

/* The stop function asked to give the collection up (Boehm's
 * GC_stop_func, consulted while marking): nothing was decided from the
 * partial marks -- no after-mark hook ran, nothing is swept -- so it is
 * enough to drop the tracer's work, make the last complete bitmap current
 * again and restart the world.  The program carries on as if the
 * collection had not started; the next one starts afresh. */
static void collect_abandon(void)
{
  pargc_assert(pargc_world_stopped_by_me);
  pargc_tracer_abandon();
  pargc_pagemap_marks_abandon();
  pargc_collect_start_world();
}

/* The thread's own stack is a root from this frame up: it lives for the
 * whole collection, and __builtin_unwind_init + setjmp put the caller's
 * callee-saved registers in it (see pargc_threads_set_self_scan_start). */
static PARGC_NOINLINE bool collect_locked(int (*stop)(void))
{
  __builtin_unwind_init();
  jmp_buf regs;
  setjmp(regs);
  pargc_threads_set_self_scan_start(pargc_threads_current_sp());
  struct pargc_collection_stats s;
  memset(&s, 0, sizeof s);
  pargc_collect_started();
  pargc_tracer_prepare_for(expected_live());
  /* The next bitmap is cleared while the other threads still run: it is
   * not the one their lazy sweep reads (see the phase functions). */
  pargc_collect_phase_preclear();
  uint64_t t0 = pargc_os_now_ns(), cpu0 = pargc_os_process_cpu_ns();
  uint64_t t_stopped = pargc_collect_stop_world();
  uint64_t cpu_mark0 = pargc_os_process_cpu_ns();

  pargc_collect_event(PARGC_EV_MARK_START);
  /* Never between a concurrent cycle's stops (pargc_collect_lock_idle). */
  pargc_assert(!pargc_conc_in_cycle());
  atomic_store(&pargc_heap.cycle_alloc, 0); /* nothing allocated black here */
  pargc_collect_phase_begin();
  /* The world is stopped: only GC threads set mark bits in this trace. */
  pargc_tracer_set_exclusive_marks(true);
  pargc_collect_phase_roots();
  if (!pargc_tracer_trace_until(stop)) {
    collect_abandon();
    pargc_threads_set_self_scan_start(NULL);
    __asm__ volatile("" : : "r"(&regs) : "memory");
    return false;
  }
  uint64_t t_marked = pargc_os_now_ns();
  s.mark_cpu_us = (pargc_os_process_cpu_ns() - cpu_mark0) / 1000;
  pargc_collect_phase_end(&s);
  uint64_t t1 = pargc_collect_start_world();

  s.pause_us = (t1 - t0) / 1000;
  s.stop_us = (t_stopped - t0) / 1000;
  s.mark_us = (t_marked - t_stopped) / 1000;
  s.heap_bytes = pargc_heap_committed_bytes();
  uint64_t cpu1 = pargc_os_process_cpu_ns();
  pargc_heap_note_collection(s.allocated_bytes, cpu1 - cpu0, cpu1, t1 - t0);
  s.interval_bytes = pargc_heap_collect_threshold();
  pargc_stats_record(&s);
  pargc_collect_event(PARGC_EV_END);
  pargc_threads_set_self_scan_start(NULL);
  __asm__ volatile("" : : "r"(&regs) : "memory"); /* keep `regs` live */

  /* Give back free pages that stayed idle long enough, now and, should
   * the program stop allocating, while it idles. */
  pargc_heap_decommit(false);
  pargc_scavenge_kick();
  return true;
}

void pargc_collect_lock_idle(void)
{
  /* Not between a cycle's stops; and a cycle only asked for gets its
   * turn first, once: the collector thread waits for this lock, and a
   * caller that collected at once and in a loop (GC_gcollect) would keep
   * it from the lock -- a mutex hands no turns -- and every thread
   * waiting for that cycle's end waiting with it. */
  sigset_t mask;
  bool restore = pargc_threads_allow_stops(&mask);
  bool waited = false;
  pargc_lock(&pargc_collect_lock);
  while (pargc_conc_in_cycle() || (!waited && pargc_conc_running())) {
    pargc_unlock(&pargc_collect_lock);
    pargc_conc_wait();
    waited = true;
    pargc_lock(&pargc_collect_lock);
  }
  /* Held now: no stop comes until it is released. */
  if (restore)
    pargc_threads_sigmask(SIG_SETMASK, &mask, NULL);
}

int (*pargc_collect_stop_fn)(void);
int pargc_collect_force_unmap;
struct pargc_collect_settings pargc_collect_settings;

bool pargc_collect_full(int (*stop)(void))
{
  if (pargc_opt.dont_gc || GC_dont_gc || pargc_collect_is_disabled())
    return false;
  if (stop && stop())
    return false;
  pargc_collect_lock_idle();
  bool done = collect_locked(stop);
  pargc_unlock(&pargc_collect_lock);
  if (!done)
    return false;
  if (pargc_collect_done_hook)
    pargc_collect_done_hook(true);
  /* An explicit collection also sweeps the caller's pages and those of
   * exited threads at once, so empty pages reach the pools (and, after
   * PARGC_DECOMMIT_DELAY_MS, the OS) without waiting for allocation. */
  struct pargc_tctx *ctx = pargc_tctx_current;
  if (ctx)
    pargc_tctx_sweep_all(ctx);
  pargc_tctx_sweep_parked();
  /* GC_set_force_unmap_on_gcollect: every free page goes back now. */
  pargc_heap_decommit(pargc_collect_force_unmap != 0);
  return true;
}

bool pargc_collect_now(void)
{
  if (pargc_opt.dont_gc || GC_dont_gc || pargc_collect_is_disabled())
    return false;
  pargc_collect_lock_idle();
  bool done = collect_locked(NULL);
  pargc_unlock(&pargc_collect_lock);
  if (done && pargc_collect_done_hook)
    pargc_collect_done_hook(false);
  return done;
}

/* The allocator's hook: collect unless another thread did since the
 * caller looked (`seen`, an allocation epoch: see alloc/heap.h). */
static bool collect_hook(uint64_t seen)
{
  if (pargc_opt.dont_gc || GC_dont_gc || pargc_collect_auto_disabled ||
      pargc_collect_is_disabled())
    return false;
  if (pargc_conc_cycles())
    return pargc_conc_trigger();
  /* As Boehm GC's collections on allocation (GC_collect_or_expand), the
   * stop function may give this one up: the caller then grows the heap.
   * Not when the program asked to collect rather than grow. */
  int (*stop)(void) = pargc_collect_dont_expand() ? NULL : pargc_collect_stop_fn;
  if (stop && stop())
    return false;
  bool ran = false, done = true;
  /* Concurrent mode on a small heap collects stopped, but a cycle may
   * still run -- asked for by GC_start_incremental_collection, which
   * runs one whatever the heap -- and between its stops the collector
   * lock is free: take it once the cycle is over, as GC_gcollect does
   * (conc_choice_test; in stop mode it is the plain lock).  Should the
   * cycle end the epoch the caller saw, nothing more is done. */
  pargc_collect_lock_idle();
  if (atomic_load(&pargc_epoch) == seen) {
    done = collect_locked(stop);
    ran = done;
  }
  pargc_unlock(&pargc_collect_lock);
  if (ran) {
    /* Exited threads' empty spans: no owner will release them. */
    pargc_tctx_release_parked();
    if (pargc_collect_done_hook)
      pargc_collect_done_hook(false);
  }
  return done;
}

static void thread_exit_hook(void)
{
  pargc_tctx_release();
}

/* fork: no collection may be running, and the allocator's lists must be
 * consistent.  The collector's part of the fork handlers; the registry's
 * is in gc/stop.c.  Registered after the registry's, so this prepare
 * runs first (collector lock, then allocator locks) and the registry's
 * lock is taken last -- the order a collection uses; parent and child
 * run in the opposite order.  pargc_collect_fork_* below keep that order
 * when the program calls GC_atfork_* itself. */
static void collect_fork_prepare(void)
{
  pargc_collect_lock_idle(); /* the child must not inherit half a cycle */
  pargc_alloc_fork_prepare();
}

static void collect_fork_parent(void)
{
  pargc_alloc_fork_parent();
  pargc_unlock(&pargc_collect_lock);
}

static void collect_fork_child(void)
{
  pargc_alloc_fork_child();
  pargc_tracer_after_fork_child();
  pargc_conc_after_fork_child();
  pargc_scavenge_after_fork_child();
  pargc_lock_init(&pargc_collect_lock);
}

static void collect_atfork_prepare(void)
{
  if (pargc_threads_fork_handled())
    collect_fork_prepare();
}

static void collect_atfork_parent(void)
{
  if (pargc_threads_fork_handled())
    collect_fork_parent();
}

static void collect_atfork_child(void)
{
  if (pargc_threads_fork_handled())
    collect_fork_child();
}

void pargc_collect_fork_prepare(void)
{
  collect_fork_prepare();
  pargc_threads_fork_prepare();
}

void pargc_collect_fork_parent(void)
{
  pargc_threads_fork_parent();
  collect_fork_parent();
}

void pargc_collect_fork_child(void)
{
  pargc_threads_fork_child();
  collect_fork_child();
}

static void thread_attach_hook(void)
{
  if (!pargc_threads_is_registered_self())
    pargc_threads_register_self(NULL);
}

/* The scavenger's tick (pargc_scavenge_help_hook): move lagging
 * threads' lists along, under the collector's lock so that no
 * collection stops the world meanwhile -- the scavenger is never
 * stopped.  False when the lock is taken: the scavenger tries again at
 * its next tick. */
static bool scavenge_help_lagging(void)
{
  if (!pargc_trylock(&pargc_collect_lock))
    return false;
  pargc_tctx_help_lagging(NULL);
  pargc_unlock(&pargc_collect_lock);
  return true;
}

void pargc_collect_setup(void)
{
  pargc_alloc_init();
  pargc_threads_on_exit = thread_exit_hook;
  pargc_roots_init();
  pargc_threads_init();
  pargc_threads_atfork(collect_atfork_prepare, collect_atfork_parent, collect_atfork_child);
  pargc_heap_collect_hook = collect_hook;
  pargc_thread_attach_hook = thread_attach_hook;
  pargc_scavenge_help_hook = scavenge_help_lagging;
}

void pargc_collect_select_mode(void)
{
  if (!strcmp(pargc_opt.mode, "concurrent") || pargc_opt.enable_incremental)
    pargc_conc_enable();
  else if (strcmp(pargc_opt.mode, "stop") != 0)
    pargc_warn("PARGC_MODE=%s: unknown (stop or concurrent); collecting stop-parallel",
               pargc_opt.mode);
}
