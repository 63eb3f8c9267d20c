/* concurrent: the mostly-concurrent parallel collector; see concurrent.h. */
#include "config.h"
#include "gc/concurrent.h"
#include "gc/scavenge.h"
#include "gc/collect.h"
#include "gc/dirty.h"
#include "gc/stats.h"
#include "gc/threads.h"
#include "gc/tracer.h"
#include "alloc/heap.h"
#include "alloc/hooks.h"
#include "alloc/options.h"
#include "alloc/os.h"
#include "alloc/page.h"
#include "alloc/pagemap.h"
#include "alloc/report.h"
#include "alloc/thread.h"

#include <pthread.h>
#include <string.h>

static _Atomic int conc_on;
/* Starting a cycle and waiting for one.  Waits are on futex words (no
 * condition variables: their mutex would be a pthread one, whose
 * hand-over of wake-ups GC_suspend_thread can break, alloc/lock.h);
 * each word changes under conc_lock and is waited on without it. */
static pargc_lock_t conc_lock = PARGC_LOCK_INIT;
static bool conc_thread_started; /* under conc_lock */
static int conc_asked;           /* requests made so far (futex word) */
static int conc_ended;           /* cycles, or requests found not allowed,
                                    ended so far (futex word) */
static _Atomic int conc_active;  /* asked for or running */
/* Between a cycle's first and final stop; changes under
 * pargc_collect_lock, which the cycle does not hold in between. */
static _Atomic int conc_in_cycle;

/* Pre-cleaning stops once a pass finds no more than this many dirty
 * pages (4 MiB: a millisecond or two of rescanning in the pause), or
 * when a pass finds no fewer than the one before (marking does not gain
 * on the program's writes). */
#define CONC_PRECLEAN_ENOUGH 64

bool pargc_conc_enabled(void)
{
  return atomic_load_explicit(&conc_on, memory_order_relaxed) != 0;
}

/* Cycle or stop.  The heap's `concurrent` flag says which the next
 * collection is, and with it how the allocator paces it (alloc/heap.h,
 * pargc_heap_trigger_threshold): a cycle beside the program while the
 * last collection found PARGC_CONC_MIN_LIVE live or more, otherwise a
 * stopped collection, as in stop mode.  A cycle stops the program twice
 * (roots, then roots again and the written cards) and marks beside it,
 * on cores the program shares on a small machine; on a small heap the
 * two stops take about as long as stopping once to mark everything
 * (Guile, 1.2 MB live: 0.72 ms a cycle, 0.77 ms a stop), so the cycle
 * only costs the program its marking. */
void pargc_conc_note_live(size_t live)
{
  if (pargc_conc_enabled())
    atomic_store(&pargc_heap.concurrent, live >= (size_t)pargc_opt.conc_min_live);
}

bool pargc_conc_cycles(void)
{
  return atomic_load_explicit(&pargc_heap.concurrent, memory_order_relaxed) != 0;
}

static void conc_kick(void)
{
  if (pargc_conc_cycles() && !atomic_load_explicit(&conc_active, memory_order_acquire))
    pargc_conc_start();
}

void pargc_conc_enable(void)
{
  if (pargc_opt.disable_incremental)
    return;
  pargc_dirty_init();
  atomic_store(&conc_on, 1);
  pargc_conc_note_live(atomic_load(&pargc_heap.last_live));
  pargc_heap_kick_hook = conc_kick;
}

bool pargc_conc_running(void)
{
  return atomic_load(&conc_active) != 0;
}

bool pargc_conc_in_cycle(void)
{
  return atomic_load(&conc_in_cycle) != 0;
}

/* ---- Rescanning a dirty page ------------------------------------------ */

/* Queue the marked objects of page `idx` that overlap its dirty cards:
 * the overlap of each (ordinary kinds, scanned word by word), or the
 * whole object (descriptor-scanned kinds). */
static void rescan_page(size_t idx, unsigned cards)
{
  struct pargc_page *pg = pargc_pagemap_span_of(idx);
  if (!pg || !pargc_kind_scanned[pg->kind])
    return;
  uint8_t st = atomic_load_explicit(&pg->state, memory_order_acquire);
  bool special = pg->kind >= PARGC_KIND_FIRST_CLIENT;
  uintptr_t start = pargc_page_addr(pg);
  uintptr_t page_lo = pargc_region.base + (idx << PARGC_PAGE_SHIFT);
  const uint64_t *marks = pargc_page_marks(pg);
  if (st == PARGC_PAGE_LARGE) {
    if (!pargc_mark_test(marks, 0))
      return;
    if (special) {
      pargc_tracer_push_special(start);
      return;
    }
  }
  uintptr_t last_special = 0;
  for (unsigned c = 0; c < PARGC_CARDS_PER_PAGE;) {
    if (!(cards >> c & 1)) {
      c++;
      continue;
    }
    unsigned e = c;
    while (e < PARGC_CARDS_PER_PAGE && (cards >> e & 1))
      e++;
    uintptr_t lo = page_lo + ((uintptr_t)c << PARGC_CARD_SHIFT);
    uintptr_t hi = page_lo + ((uintptr_t)e << PARGC_CARD_SHIFT);
    c = e;
    if (st == PARGC_PAGE_LARGE) {
      pargc_tracer_push_range((void *)lo, (void *)hi);
      continue;
    }
    uint32_t size = pg->size, n = pg->nobjs;
    uint32_t i = pargc_sizeclass_index(lo - start, pg->recip);
    uint32_t last = pargc_sizeclass_index(hi - 1 - start, pg->recip);
    if (last >= n)
      last = n - 1;
    /* Adjacent marked objects go as one range (a dirty card of small
     * objects is mostly live ones side by side); unmarked ones are
     * skipped -- they may be garbage whose stale pointers would retain
     * more garbage. */
    uintptr_t run_lo = 0, run_hi = 0;
    for (; i <= last && i < n; i++) {
      if (!pargc_mark_test(marks, i))
        continue;
      uintptr_t o = start + (uintptr_t)i * size;
      if (special) {
        if (o != last_special)
          pargc_tracer_push_special(o);
        last_special = o;
        continue;
      }
      uintptr_t l = o > lo ? o : lo, h = o + size < hi ? o + size : hi;
      if (l != run_hi) {
        if (run_hi)
          pargc_tracer_push_range((void *)run_lo, (void *)run_hi);
        run_lo = l;
      }
      run_hi = h;
    }
    if (run_hi)
      pargc_tracer_push_range((void *)run_lo, (void *)run_hi);
  }
}

/* ---- One cycle -------------------------------------------------------- */

/* GC threads marking while the program runs: PARGC_CONC_GC_THREADS, by
 * default all of them, rather than leaving a core to the program: the
 * shorter the cycle, the less it allocates black and the smaller the
 * heap the program keeps faulting in, which gains the program more than
 * the core would. */
static unsigned conc_mark_threads(void)
{
  unsigned all = pargc_tracer_threads();
  if (pargc_opt.conc_threads)
    return (unsigned)pargc_opt.conc_threads < all ? (unsigned)pargc_opt.conc_threads : all;
  return all;
}

/* Entered and left with pargc_collect_lock held; released between the
 * two stops. */
static void conc_cycle(void)
{
  /* Phase order: no cycle is between its stops, so nothing is
   * allocated black, until this one's first stop. */
  pargc_assert_held(&pargc_collect_lock);
  pargc_assert(!atomic_load(&conc_in_cycle));
  pargc_assert(!atomic_load(&pargc_alloc_black));
  struct pargc_collection_stats s;
  memset(&s, 0, sizeof s);
  s.concurrent = 1;
  uint64_t faults0 = pargc_dirty_faults();
  pargc_collect_started();
  pargc_tracer_prepare();
  /* The cycle's cost for the sizing policy: this thread's CPU time and
   * the GC threads' (the program's runs beside it). */
  uint64_t gc_cpu0 = pargc_os_thread_cpu_ns() + pargc_tracer_helpers_cpu_ns();
  /* What can be done before the stop: clear the next bitmap, protect
   * the pages written since the last cycle. */
  pargc_collect_phase_preclear();
  pargc_dirty_prepare();

  /* 1. First stop: roots (scanned now: stacks change once the world
   * runs), barrier on, allocation black. */
  uint64_t t0 = pargc_os_now_ns();
  uint64_t t_stopped = pargc_collect_stop_world();
  pargc_collect_event(PARGC_EV_MARK_START);
  pargc_collect_phase_begin();
  pargc_dirty_start();
  pargc_tracer_set_eager(true);
  pargc_collect_phase_roots();
  pargc_tracer_set_eager(false);
  pargc_assert(pargc_world_stopped_by_me); /* black allocation starts stopped */
  atomic_store_explicit(&pargc_alloc_black, 1, memory_order_release);
  pargc_tctx_blacken_all();
  atomic_store(&conc_in_cycle, 1);
  size_t allocated_at_start = atomic_load(&pargc_heap.bytes_since_gc);
  uint64_t t1 = pargc_collect_start_world();
  /* While the program runs, the collector lock is free: finalizer
   * registration and the like must not wait for the marking.  Other
   * collections wait for the cycle (pargc_collect_lock_idle). */
  pargc_unlock(&pargc_collect_lock);

  /* 2. Concurrent mark, 3. pre-cleaning. */
  pargc_tracer_set_active_threads(conc_mark_threads());
  pargc_tracer_set_world_running(true);
  pargc_tracer_trace();
  size_t prev = SIZE_MAX;
  /* GC_set_time_limit: the final stop rescans what the program dirtied
   * since the last round, which takes about as long as a round; while a
   * round takes longer than the limit, up to GC_set_max_prior_attempts
   * more rounds are made (Boehm GC gives up that many stopped marks that
   * overran the limit before it finishes regardless). */
  uint64_t limit_ns = pargc_collect_time_limit_ns();
  int extra = 0, max_extra = limit_ns ? pargc_collect_max_prior_attempts() : 0;
  for (int r = 0; pargc_dirty_can_preclean(); r++) {
    uint64_t t_round = pargc_os_now_ns();
    pargc_tracer_refresh_bounds();
    size_t n = pargc_dirty_preclean(rescan_page);
    pargc_tracer_trace();
    s.preclean_rounds++;
    s.precleaned_pages += n;
    bool overran = limit_ns && n > 0 && pargc_os_now_ns() - t_round > limit_ns;
    if (overran && extra < max_extra) {
      extra++;
      prev = n;
      continue;
    }
    if (r + 1 >= pargc_opt.preclean_rounds || n <= CONC_PRECLEAN_ENOUGH || n >= prev)
      break;
    prev = n;
  }
  /* 4. Final stop: roots again, dirty cards, trace on all GC threads. */
  pargc_lock(&pargc_collect_lock);
  uint64_t t2 = pargc_os_now_ns();
  uint64_t t_stopped2 = pargc_collect_stop_world();
  /* The final stop comes only after the first: the cycle is marked as
   * between them, and allocation is still black. */
  pargc_assert(atomic_load(&conc_in_cycle) && atomic_load(&pargc_alloc_black));
  pargc_tracer_set_world_running(false);
  pargc_tracer_refresh_bounds();
  pargc_collect_phase_roots();
  pargc_collect_phase_remark();
  s.rescanned_pages = pargc_dirty_finish(rescan_page);
  atomic_store_explicit(&pargc_alloc_black, 0, memory_order_release);
  pargc_tracer_set_active_threads(0);
  pargc_tracer_trace();
  uint64_t t_marked = pargc_os_now_ns();
  /* Start the next cycle as much earlier as this one let the program
   * allocate (heap.h, pargc_heap_trigger_threshold). */
  size_t allocated = atomic_load(&pargc_heap.bytes_since_gc);
  atomic_store(&pargc_heap.cycle_alloc,
               allocated > allocated_at_start ? allocated - allocated_at_start : 0);
  pargc_collect_phase_end(&s);
  pargc_assert(!atomic_load(&pargc_alloc_black)); /* no black allocation outside a cycle */
  atomic_store(&conc_in_cycle, 0);
  uint64_t t3 = pargc_collect_start_world();
  pargc_dirty_release();

  s.init_pause_us = (t1 - t0) / 1000;
  s.stop_us = (t_stopped - t0) / 1000;
  s.conc_mark_us = (t2 - t1) / 1000;
  s.mark_us = (t_marked - t_stopped2) / 1000;
  s.pause_us = (t3 - t2) / 1000;
  s.heap_bytes = pargc_heap_committed_bytes();
  uint64_t gc_cpu = pargc_os_thread_cpu_ns() + pargc_tracer_helpers_cpu_ns() - gc_cpu0;
  pargc_heap_note_collection(s.allocated_bytes, gc_cpu, pargc_os_process_cpu_ns(),
                             (t1 - t0) + (t3 - t2));
  s.interval_bytes = pargc_heap_trigger_threshold();
  s.barrier_faults = pargc_dirty_faults() - faults0;
  pargc_stats_record(&s);
  pargc_collect_event(PARGC_EV_END);
}

/* ---- The collector thread --------------------------------------------- */

static bool conc_allowed(void)
{
  return !pargc_opt.dont_gc && !GC_dont_gc && !pargc_collect_auto_disabled &&
         !pargc_collect_is_disabled();
}

static void *conc_main(void *arg)
{
  (void)arg;
  pargc_os_set_thread_name("pargc-conc");
  int served = 0; /* requests this thread has taken (conc_asked's count) */
  for (;;) {
    pargc_lock(&conc_lock);
    while (conc_asked == served) {
      pargc_unlock(&conc_lock);
      pargc_os_wait_while(&conc_asked, served);
      pargc_lock(&conc_lock);
    }
    served = conc_asked;
    pargc_unlock(&conc_lock);

    bool ran = false;
    pargc_lock(&pargc_collect_lock);
    if (conc_allowed()) {
      conc_cycle();
      ran = true;
    }
    pargc_unlock(&pargc_collect_lock);

    pargc_lock(&conc_lock);
    atomic_store(&conc_active, 0);
    __atomic_store_n(&conc_ended, conc_ended + 1, __ATOMIC_RELEASE);
    pargc_unlock(&conc_lock);
    pargc_os_wake_all(&conc_ended);
    if (ran && pargc_collect_done_hook)
      pargc_collect_done_hook(false);
    pargc_heap_decommit(false);
    if (ran) {
      pargc_tctx_release_parked();
      pargc_scavenge_kick();
    }
  }
  return NULL;
}

void pargc_conc_start(void)
{
  if (!conc_allowed())
    return;
  pargc_lock(&conc_lock);
  if (!atomic_load(&conc_active)) {
    if (!conc_thread_started) {
      pthread_t t;
      if (pargc_threads_spawn_internal(&t, conc_main, NULL) != 0) {
        pargc_unlock(&conc_lock);
        pargc_warn("cannot start the concurrent collector thread; collecting stop-parallel");
        atomic_store(&conc_on, 0);
        return;
      }
      conc_thread_started = true;
    }
    atomic_store(&conc_active, 1);
    __atomic_store_n(&conc_asked, conc_asked + 1, __ATOMIC_RELEASE);
    pargc_unlock(&conc_lock);
    pargc_os_wake_all(&conc_asked);
    return;
  }
  pargc_unlock(&conc_lock);
}

/* Until the cycle asked for or running at the call has ended (not one
 * asked for since).  No lock is held while it sleeps, and the futex wait
 * is no cancellation point. */
static void *conc_wait_blocked(void *arg)
{
  (void)arg;
  pargc_lock(&conc_lock);
  int seen = conc_ended;
  while (atomic_load(&conc_active) && conc_ended == seen) {
    pargc_unlock(&conc_lock);
    pargc_os_wait_while(&conc_ended, seen);
    pargc_lock(&conc_lock);
  }
  pargc_unlock(&conc_lock);
  return NULL;
}

/* A blocking section: the thread runs no collector code meanwhile, so a
 * stop or GC_suspend_thread need not signal it. */
void pargc_conc_wait(void)
{
  pargc_threads_do_blocking(conc_wait_blocked, NULL);
}

void pargc_conc_lock_hold(void) { pargc_lock(&conc_lock); }
void pargc_conc_lock_release(void) { pargc_unlock(&conc_lock); }

bool pargc_conc_trigger(void)
{
  if (!atomic_load_explicit(&conc_active, memory_order_acquire)) {
    pargc_conc_start();
    if (!atomic_load_explicit(&conc_active, memory_order_acquire))
      return false;
  }
  /* Marking cannot keep up (or a cycle started only now, a whole
   * interval late): let the cycle finish before going on.  That cycle,
   * not "until none runs": another thread past the limit may ask for the
   * next one before this one wakes, and again each time. */
  if (atomic_load_explicit(&pargc_heap.bytes_since_gc, memory_order_relaxed) >=
      pargc_heap_cycle_limit()) {
    pargc_conc_wait();
    return true;
  }
  return false;
}

void pargc_conc_after_fork_child(void)
{
  pargc_lock_init(&conc_lock);
  conc_thread_started = false;
  conc_asked = conc_ended = 0;
  atomic_store(&conc_active, 0);
  atomic_store(&conc_in_cycle, 0);
  atomic_store(&pargc_alloc_black, 0);
  pargc_dirty_after_fork_child();
}
