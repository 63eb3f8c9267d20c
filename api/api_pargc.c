/* api_pargc: the entry points of pargc.h (what Boehm GC lacks). */
#include "config.h"
#include "alloc/options.h"
#include "alloc/report.h"
#include "alloc/thread.h"
#include "api/init.h"
#include "gc/collect.h"
#include "gc/stats.h"
#include "gc/tracer.h"

#include <pargc.h>
#include <string.h>

unsigned pargc_set_k(unsigned k)
{
  pargc_init();
  if (k == 0)
    return 0;
  unsigned old = (unsigned)pargc_heap.k;
  pargc_heap.k = k;
  return old;
}

unsigned pargc_get_k(void)
{
  pargc_init();
  return (unsigned)pargc_heap.k;
}

void pargc_set_gc_threads(unsigned n)
{
  pargc_init();
  pargc_collect_lock_idle(); /* not while a concurrent cycle marks */
  pargc_tracer_set_threads(n);
  pargc_unlock(&pargc_collect_lock);
}

unsigned pargc_get_gc_threads(void)
{
  pargc_init();
  return pargc_tracer_threads();
}

size_t pargc_release_memory(void)
{
  pargc_init();
  struct pargc_tctx *ctx = pargc_tctx_current;
  if (ctx)
    pargc_tctx_sweep_all(ctx);
  return pargc_heap_decommit(true);
}

void pargc_get_stats(struct pargc_stats *out, size_t size)
{
  pargc_init();
  struct pargc_stats s;
  memset(&s, 0, sizeof s);
  pargc_lock(&pargc_collect_lock);
  s.collections = pargc_totals.collections;
  s.concurrent_cycles = pargc_totals.concurrent_cycles;
  s.pause_total_us = pargc_totals.pause_total_us;
  s.pause_max_us = pargc_totals.pause_max_us;
  s.mark_total_us = pargc_totals.mark_total_us;
  s.live_max_bytes = atomic_load(&pargc_heap.max_live);
  pargc_unlock(&pargc_collect_lock);
  s.heap_bytes = pargc_heap_committed_bytes();
  s.allocated_bytes = atomic_load(&pargc_heap.bytes_total);
  s.decommitted_bytes = atomic_load(&pargc_heap.decommitted_bytes_total);
  struct pargc_tctx_stats t;
  pargc_tctx_sum_stats(&t);
  s.fresh_pages = t.fresh_pages;
  s.own_pages = t.own_pages;
  s.stolen_local_pages = t.stolen_local_pages;
  s.stolen_remote_pages = t.stolen_remote_pages;
  s.grown_pages = t.grown_pages;
  s.adopted_pages = t.adopted_pages;
  s.gc_threads = pargc_tracer_threads();
  s.k = pargc_heap_effective_k();
  memcpy(out, &s, size < sizeof s ? size : sizeof s);
}

void pargc_print_stats(FILE *out)
{
  struct pargc_stats s;
  pargc_get_stats(&s, sizeof s);
  fprintf(out,
          "pargc: %llu collections (%llu concurrent cycles), pause total %.1f ms, max %.1f ms, "
          "mark %.1f ms\n"
          "pargc: heap %.1f MiB, max live %.1f MiB, allocated %.1f MiB, decommitted %.1f MiB\n"
          "pargc: pages fresh %llu, own %llu, stolen %llu local / %llu remote, grown %llu, "
          "adopted %llu; k=%llu, %llu GC threads\n",
          (unsigned long long)s.collections, (unsigned long long)s.concurrent_cycles,
          s.pause_total_us / 1000.0, s.pause_max_us / 1000.0,
          s.mark_total_us / 1000.0, s.heap_bytes / 1048576.0, s.live_max_bytes / 1048576.0,
          s.allocated_bytes / 1048576.0, s.decommitted_bytes / 1048576.0,
          (unsigned long long)s.fresh_pages, (unsigned long long)s.own_pages,
          (unsigned long long)s.stolen_local_pages, (unsigned long long)s.stolen_remote_pages,
          (unsigned long long)s.grown_pages, (unsigned long long)s.adopted_pages,
          (unsigned long long)s.k,
          (unsigned long long)s.gc_threads);
}
